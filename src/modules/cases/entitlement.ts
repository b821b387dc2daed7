// Entitlement from a programme's rules and the household: per adult, per accompanied
// minor, or per unaccompanied minor (the principal), with the programme's cash cap, and the
// first-period contribution where the programme pays one and the person may have it.
// Ages count on the reference day (the departure): from the month of birth where it is
// known, else from the year of birth only.
import type { ProgrammeDoc } from '../organisations/organisation.model.ts';
import type { CaseDoc, ComputedEntitlement, EntitlementLine, HouseholdMember } from './case.model.ts';

export const ADULT_AGE = 18;

/** Age in whole years at a reference year, from the year of birth (no day is recorded). */
export function ageIn(referenceYear: number, yearOfBirth: number): number {
  return Math.max(0, referenceYear - yearOfBirth);
}

/**
 * Age in whole years on a day. With a month of birth (YYYY-MM) the birthday is taken as the
 * first of that month (the day is never recorded): someone born in December 2008 is 17 on
 * 15 November 2026, and 18 from 1 December 2026. Without one, the year alone counts.
 */
export function ageOn(day: string, yearOfBirth: number, birthMonth: string | null | undefined): number {
  const year = Number(day.slice(0, 4));
  if (!birthMonth) return ageIn(year, yearOfBirth);
  const month = Number(day.slice(5, 7));
  const bornYear = Number(birthMonth.slice(0, 4));
  const bornMonth = Number(birthMonth.slice(5, 7));
  return Math.max(0, year - bornYear - (month < bornMonth ? 1 : 0));
}

export type EntitlementFacts = {
  household: HouseholdMember[];
  /** Months of birth (YYYY-MM) in household order, where known. */
  birthMonths: (string | null)[];
  unaccompaniedMinor: boolean;
  /** The day ages are counted on (the departure). */
  referenceDay: string;
  /** Whether the person may have the first-period contribution (eligibility). */
  firstPeriodContribution: boolean;
};

export function computeEntitlement(programme: ProgrammeDoc, facts: EntitlementFacts, now: Date): ComputedEntitlement {
  let adults = 0;
  let minors = 0;
  let unaccompanied = 0;
  facts.household.forEach((member, i) => {
    const minor = ageOn(facts.referenceDay, member.yearOfBirth, facts.birthMonths[i]) < ADULT_AGE;
    if (!minor) adults += 1;
    else if (member.relation === 'PRINCIPAL' && facts.unaccompaniedMinor) unaccompanied += 1;
    else minors += 1;
  });
  const lines: EntitlementLine[] = [];
  if (adults > 0) lines.push({ category: 'ADULT', persons: adults, each: programme.perAdult });
  if (minors > 0) lines.push({ category: 'MINOR', persons: minors, each: programme.perMinor });
  if (unaccompanied > 0)
    lines.push({ category: 'UNACCOMPANIED_MINOR', persons: unaccompanied, each: programme.perUnaccompaniedMinor });
  const total = lines.reduce((sum, line) => sum + line.persons * line.each, 0);
  const contribution = facts.firstPeriodContribution
    ? adults * (programme.firstPeriodContributionPerAdult ?? 0) +
      (minors + unaccompanied) * (programme.firstPeriodContributionPerMinor ?? 0)
    : 0;
  return {
    programme: programme._id,
    currency: 'EUR',
    total,
    cashCap: Math.min(programme.cashCap, total),
    arrivalSupport: programme.arrivalSupport,
    firstPeriodContribution: contribution,
    referenceDay: facts.referenceDay,
    lines,
    computedAt: now,
  };
}

/**
 * The day ages are counted on: the departure (as assisted, else as booked, else as planned),
 * else the arrival (a case registered after return), else the planned arrival, else today.
 */
export function referenceDay(
  c: Pick<CaseDoc, 'returnSupport' | 'plannedDepartureDate' | 'arrivedOn' | 'plannedArrivalDate'>,
  today: string,
): string {
  return (
    c.returnSupport?.departure?.on ??
    c.returnSupport?.ticket?.departureDate ??
    c.plannedDepartureDate ??
    c.arrivedOn ??
    c.plannedArrivalDate ??
    today
  );
}
