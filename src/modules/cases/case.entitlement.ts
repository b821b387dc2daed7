// The entitlement as the case stores it: computed by the programme's rules (entitlement.ts)
// for the household on the day ages are counted on, its amounts and lines (which tell an
// unaccompanied minor) sealed under the case's own key.
import type { Clock } from '../../clock.ts';
import type { CaseKey } from '../../crypto/case-keys.ts';
import { todayIso } from '../../validation.ts';
import type { OrganisationService } from '../organisations/organisation.service.ts';
import type { CaseDoc, ComputedEntitlement, Entitlement } from './case.model.ts';
import type { CaseSealing } from './case.sealing.ts';
import { computeEntitlement, referenceDay } from './entitlement.ts';

/** The computed entitlement as stored: total, cash cap and lines sealed, the rest in clear. */
export function sealedEntitlement(
  sealing: Pick<CaseSealing, 'sealEntitlementAmounts'>,
  key: CaseKey,
  computed: ComputedEntitlement,
): Entitlement {
  const { total, cashCap, lines, ...rest } = computed;
  return { ...rest, amountsSealed: sealing.sealEntitlementAmounts(key, { total, cashCap, lines }) };
}

export type CaseEntitlements = ReturnType<typeof createCaseEntitlements>;

export function createCaseEntitlements(deps: { sealing: CaseSealing; organisations: OrganisationService; clock: Clock }) {
  const { sealing, organisations, clock } = deps;

  /** The day ages are counted on: the departure (see entitlement.ts). */
  function referenceDayOf(c: Parameters<typeof referenceDay>[0]): string {
    return referenceDay(c, todayIso(clock.now()));
  }

  /** The computed entitlement as stored, its amounts sealed under the case's key. */
  function sealed(key: CaseKey, computed: ComputedEntitlement): Entitlement {
    return sealedEntitlement(sealing, key, computed);
  }

  /** The entitlement again, from the programme's rules, for the household as it now is. */
  async function recompute(c: CaseDoc, unaccompaniedMinor: boolean, now: Date): Promise<Entitlement> {
    const programme = await organisations.programme(c.programme);
    const key = await sealing.keyForWriting(c._id);
    const facts = {
      household: c.household,
      birthMonths: await sealing.openBirthMonths(c),
      unaccompaniedMinor,
      referenceDay: referenceDayOf(c),
      firstPeriodContribution: c.eligibility?.firstPeriodContribution ?? false,
    };
    return sealed(key, computeEntitlement(programme!, facts, now));
  }

  /** The entitlement again if the day ages are counted on moved (a departure, an arrival). */
  async function afterMove(before: CaseDoc, after: CaseDoc, now: Date): Promise<Entitlement> {
    if (referenceDayOf(before) === referenceDayOf(after)) return after.entitlement;
    return recompute(after, (await sealing.openVulnerability(after))?.unaccompaniedMinor ?? false, now);
  }

  return { referenceDayOf, sealed, recompute, afterMove };
}
