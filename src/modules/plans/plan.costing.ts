// A plan's cost as submitPlan would compute it, without writing anything: the portal's plan
// editor asks this while a partner types amounts in the currency they pay in, so the figures
// and the budget check are the server's own (plan.rules.ts), never a copy in the browser.
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { AppError } from '../../errors.ts';
import { parseInput, todayIso } from '../../validation.ts';
import type { CaseService } from '../cases/case.service.ts';
import type { PersonalDataReads } from '../cases/case.sealing.ts';
import { checkBudget, costInEur, currenciesOf, normaliseComponents, planInput, type Costed } from './plan.rules.ts';
import type { Needs } from '../../deps.ts';

export type PlanCosting = Costed & {
  /** Null for a caller who may not see the entitlement (special category). */
  entitlementEur: number | null;
  cashCapEur: number | null;
  /** Why submitPlan would refuse it (BUDGET_EXCEEDED, or a currency without a rate), if it would. */
  problem: { code: string; message: string } | null;
};

export function createPlanCosting(deps: Needs<'rates' | 'clock' | 'sealing'> & { cases: CaseService }) {
  const { cases, rates, clock, sealing } = deps;
  return {
    /** `reads`: where the opening of the entitlement is noted (it is special category). */
    async cost(principal: Principal | null, caseId: string, rawPlan: unknown, reads: PersonalDataReads): Promise<PlanCosting> {
      const p = authorize(principal, 'plan.draft');
      const c = await cases.get(p, caseId);
      const components = normaliseComponents(parseInput(planInput, rawPlan, 'plan'));
      const reveal = sealing.maySeeSpecialCategory(p, c);
      const opened = await sealing.openEntitlement(c);
      const amounts = opened ?? { total: 0, cashCap: 0 };
      if (reveal && opened) reads.read(c, 'entitlement.total');
      const limits = reveal
        ? { entitlementEur: amounts.total, cashCapEur: amounts.cashCap }
        : { entitlementEur: null, cashCapEur: null };
      let costed: Costed;
      try {
        costed = costInEur(components, await rates.ratesOn(currenciesOf(components), todayIso(clock.now())));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const none = { components, totalEur: 0, cashEur: 0, ratesUsed: [] };
        return { ...none, ...limits, problem: { code: error.code, message: error.message } };
      }
      try {
        checkBudget(costed, amounts, reveal);
        return { ...costed, ...limits, problem: null };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return { ...costed, ...limits, problem: { code: error.code, message: error.message } };
      }
    },
  };
}
