// Entitlement from a programme's rules and the household: per adult, per accompanied
// minor, or per unaccompanied minor (the principal), with the programme's cash cap.
import type { ProgrammeDoc } from '../organisations/organisation.model.ts';
import type { ComputedEntitlement, EntitlementLine, HouseholdMember } from './case.model.ts';

export const ADULT_AGE = 18;

/** Age in whole years at a reference year, from the year of birth (no day is recorded). */
export function ageIn(referenceYear: number, yearOfBirth: number): number {
  return Math.max(0, referenceYear - yearOfBirth);
}

export function computeEntitlement(
  programme: ProgrammeDoc,
  household: HouseholdMember[],
  unaccompaniedMinor: boolean,
  referenceYear: number,
  now: Date,
): ComputedEntitlement {
  let adults = 0;
  let minors = 0;
  let unaccompanied = 0;
  for (const member of household) {
    const minor = ageIn(referenceYear, member.yearOfBirth) < ADULT_AGE;
    if (!minor) adults += 1;
    else if (member.relation === 'PRINCIPAL' && unaccompaniedMinor) unaccompanied += 1;
    else minors += 1;
  }
  const lines: EntitlementLine[] = [];
  if (adults > 0) lines.push({ category: 'ADULT', persons: adults, each: programme.perAdult });
  if (minors > 0) lines.push({ category: 'MINOR', persons: minors, each: programme.perMinor });
  if (unaccompanied > 0)
    lines.push({ category: 'UNACCOMPANIED_MINOR', persons: unaccompanied, each: programme.perUnaccompaniedMinor });
  const total = lines.reduce((sum, line) => sum + line.persons * line.each, 0);
  return {
    programme: programme._id,
    currency: 'EUR',
    total,
    cashCap: Math.min(programme.cashCap, total),
    arrivalSupport: programme.arrivalSupport,
    lines,
    computedAt: now,
  };
}
