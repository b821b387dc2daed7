import { narrativeContext } from './progress.model.ts';
import type { Resolvers } from '../../graphql/generated/types.ts';
import { requirePrincipal } from '../../auth/policy.ts';
import { eur } from '../../money.ts';
import { writtenAlongside } from '../cases/case.store.ts';
import type { PlanComponent, PlanDoc } from '../plans/plan.model.ts';
import { evidenceOf } from '../evidence/evidence.lookup.ts';
import { budgetOf } from './budget.ts';
import { pageOfProgress } from './progress.service.ts';
import { lastSpendingDay } from '../cases/spending-window.ts';

export const progressResolvers: Resolvers = {
  SpendingWindow: { lastDay: (w) => lastSpendingDay(w)! },
  Case: {
    progress: async (c, { first, after }, { loaders }) => {
      loaders.case.prime(c._id, c); // the narratives' consent check finds the case without a query
      return pageOfProgress(await loaders.progressOfCase.load(c._id), first, after);
    },
    budget: async (c, _, { loaders, principal }) => {
      if (c.planInForce === null) return null;
      const ref = `${c._id}:${c.planInForce}`;
      const plan = writtenAlongside<PlanDoc>(c, ref, requirePrincipal(principal)) ?? (await loaders.plan.load(ref));
      return budgetOf(c, plan);
    },
  },
  ProgressUpdate: {
    id: (u) => u._id,
    narrative: async (u, _, { services, principal, access, loaders }) =>
      services.sealing.recordField(
        principal,
        await loaders.case.load(u.caseId),
        'progress.narrative',
        narrativeContext(u._id),
        u.narrativeSealed,
        access,
      ),
    spend: (u) => (u.spend ? { ...u.spend, caseId: u.caseId } : null),
    corrects: async (u, _, { loaders }) =>
      u.corrects ? ((await loaders.progressOfCase.load(u.caseId)).find((x) => x._id === u.corrects) ?? null) : null,
    correctedBy: async (u, _, { loaders }) =>
      (await loaders.progressOfCase.load(u.caseId)).find((x) => x.corrects === u._id) ?? null,
  },
  Spend: {
    amount: (s) => ({ amount: s.amount, currency: s.currency }),
    amountEur: (s) => eur(s.amountEur),
    proof: (s, _, { loaders }) => evidenceOf(loaders.evidenceOfCase, s.caseId, s.proof),
  },
  Budget: {
    entitlement: async (b, _, { services, principal, access }) => {
      const amounts = await services.sealing.entitlementAmounts(principal, b.of, access, 'entitlement.total');
      return amounts ? eur(amounts.total) : null;
    },
    planned: (b) => eur(b.plannedEur),
    actual: (b) => eur(b.actualEur),
    remaining: (b) => eur(b.plannedEur - b.actualEur),
  },
  BudgetLine: {
    component: (l) => ({ id: l.componentId, kind: l.kind as PlanComponent['kind'], title: l.title }),
    planned: (l) => eur(l.plannedEur),
    actual: (l) => eur(l.actualEur),
    remaining: (l) => eur(l.plannedEur - l.actualEur),
  },
  Mutation: {
    extendSpendingWindow: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.spendingWindow.extend(principal, args, idempotencyKey)).case,
    postProgressUpdate: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.progress.post(principal, args, idempotencyKey),
  },
};
