// A plan's cost as submitPlan would compute it, without writing anything: the portal's plan
// editor asks this while a partner types amounts in the currency they pay in, so the figures
// and the budget check are the server's own (plan.rules.ts), never a copy in the browser.
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { AppError } from '../../errors.ts';
import { parseInput, todayIso } from '../../validation.ts';
import type { CaseService } from '../cases/case.service.ts';
import { checkBudget, costInEur, currenciesOf, normaliseComponents, planInput, type Costed } from './plan.rules.ts';
import type { Needs } from '../../deps.ts';

export type PlanCosting = Costed & {
  entitlementEur: number;
  cashCapEur: number;
  /** Why submitPlan would refuse it (BUDGET_EXCEEDED, or a currency without a rate), if it would. */
  problem: { code: string; message: string } | null;
};

export function createPlanCosting(deps: Needs<'rates' | 'clock'> & { cases: CaseService }) {
  const { cases, rates, clock } = deps;
  return {
    async cost(principal: Principal | null, caseId: string, rawPlan: unknown): Promise<PlanCosting> {
      const p = authorize(principal, 'plan.draft');
      const c = await cases.get(p, caseId);
      const components = normaliseComponents(parseInput(planInput, rawPlan, 'plan'));
      const limits = { entitlementEur: c.entitlement.total, cashCapEur: c.entitlement.cashCap };
      let costed: Costed;
      try {
        costed = costInEur(components, await rates.ratesOn(currenciesOf(components), todayIso(clock.now())));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        const none = { components, totalEur: 0, cashEur: 0, ratesUsed: [] };
        return { ...none, ...limits, problem: { code: error.code, message: error.message } };
      }
      try {
        checkBudget(costed, c.entitlement);
        return { ...costed, ...limits, problem: null };
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        return { ...costed, ...limits, problem: { code: error.code, message: error.message } };
      }
    },
  };
}
