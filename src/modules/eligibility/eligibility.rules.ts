// Who a programme is for, as configured per programme (config/programmes.yaml): checked at
// registration (the five-year rule also when a departure is recorded: departure-claims.ts);
// a refusal names every reason, and what is only restricted (no first-period
// contribution for someone who never applied for residence) is shown on the case.
import type { CaseDoc } from '../cases/case.model.ts';
import type { ProgrammeDoc } from '../organisations/organisation.model.ts';

/** The same day so many years earlier (29 February becomes 28 February). */
export function yearsBefore(day: string, years: number): string {
  const year = Number(day.slice(0, 4)) - years;
  const rest = day.slice(4) === '-02-29' ? '-02-28' : day.slice(4);
  return `${String(year).padStart(4, '0')}${rest}`;
}

/** The day a case's person left with assistance, if they did: departure assistance, else the arrival. */
export function assistedDepartureOn(c: Pick<CaseDoc, 'returnSupport' | 'arrivedOn'>): string | null {
  return c.returnSupport?.departure?.on ?? c.arrivedOn ?? null;
}

export const RESIDENCE_APPLICATIONS = [
  'NEVER_APPLIED',
  'ASYLUM_PENDING',
  'ASYLUM_REJECTED',
  'REGULAR_APPLICATION',
  'LAWFUL_STAY_ENDED',
] as const;
export type ResidenceApplication = (typeof RESIDENCE_APPLICATIONS)[number];

export const ELIGIBILITY_REASONS = [
  'NATIONALITY_EXCLUDED',
  'ASYLUM_NOT_REJECTED',
  'ASSISTED_DEPARTURE_WITHIN_YEARS',
  'OUTSIDE_PROGRAMME_PERIOD',
  'NO_FIRST_PERIOD_CONTRIBUTION',
] as const;
export type EligibilityReasonCode = (typeof ELIGIBILITY_REASONS)[number];

export type EligibilityReason = { code: EligibilityReasonCode; message: string; refusal: boolean };

export type Eligibility = {
  eligible: boolean;
  /** Whether the first-period contribution may be paid (the rest of the programme stays open without it). */
  firstPeriodContribution: boolean;
  checkedOn: string;
  reasons: EligibilityReason[];
};

export type EligibilityFacts = {
  nationality: string | null;
  residenceApplication: ResidenceApplication | null;
  /** The day the programme's period is checked on: the departure (or the arrival of a case registered after it). */
  departureDay: string;
  /** The day of the person's latest assisted departure under this member state within the rule's years, if found. */
  earlierDeparture: string | null;
};

export function checkEligibility(programme: ProgrammeDoc, facts: EligibilityFacts, today: string): Eligibility {
  const rules = programme.eligibility;
  const reasons: EligibilityReason[] = [];
  if (
    (programme.validFrom && facts.departureDay < programme.validFrom) ||
    (programme.validTo && facts.departureDay > programme.validTo)
  ) {
    reasons.push({
      code: 'OUTSIDE_PROGRAMME_PERIOD',
      message: `${programme._id} covers departures ${programme.validFrom ? `from ${programme.validFrom} ` : ''}${programme.validTo ? `until ${programme.validTo}` : ''}; this one is on ${facts.departureDay}.`,
      refusal: true,
    });
  }
  if (facts.nationality && rules.excludedNationalities.includes(facts.nationality)) {
    reasons.push({
      code: 'NATIONALITY_EXCLUDED',
      message: `Nationals of ${facts.nationality} are not eligible for ${programme._id}.`,
      refusal: true,
    });
  }
  if (rules.requiresRejectedAsylum && facts.residenceApplication !== 'ASYLUM_REJECTED') {
    reasons.push({
      code: 'ASYLUM_NOT_REJECTED',
      message: `${programme._id} is for people whose asylum application was rejected.`,
      refusal: true,
    });
  }
  if (facts.earlierDeparture) {
    reasons.push({
      code: 'ASSISTED_DEPARTURE_WITHIN_YEARS',
      message: `This person had assisted departure on ${facts.earlierDeparture}, within ${rules.noRepeatWithinYears} years.`,
      refusal: true,
    });
  }
  const contributionPaid = programme.firstPeriodContributionPerAdult > 0 || programme.firstPeriodContributionPerMinor > 0;
  const neverApplied = facts.residenceApplication === 'NEVER_APPLIED';
  if (contributionPaid && rules.contributionNeedsResidenceApplication && neverApplied) {
    reasons.push({
      code: 'NO_FIRST_PERIOD_CONTRIBUTION',
      message: 'People who never applied for residence get no first-period contribution; the rest of the programme stays open.',
      refusal: false,
    });
  }
  return {
    eligible: !reasons.some((r) => r.refusal),
    firstPeriodContribution: contributionPaid && !reasons.some((r) => r.code === 'NO_FIRST_PERIOD_CONTRIBUTION'),
    checkedOn: today,
    reasons,
  };
}
