import type { Resolvers } from '../../graphql/generated/types.ts';
import { requirePrincipal } from '../../auth/policy.ts';
import { eur } from '../../money.ts';
import { writtenAlongside } from '../cases/case.store.ts';
import type { PlanDoc } from './plan.model.ts';
import { planRef } from './plan.service.ts';

export const planResolvers: Resolvers = {
  Case: {
    // A case answered by a write (or shown in the feed) shows the plan as that write left it;
    // otherwise the plan at the case's version, from memory at once if remembered there.
    plan: (c, _, { services, loaders, principal }) => {
      if (c.latestPlan === null) return null;
      const key = { caseId: c._id, caseVersion: c.version, ref: planRef(c._id, c.latestPlan) };
      const p = requirePrincipal(principal);
      return writtenAlongside<PlanDoc>(c, key.ref, p) ?? services.plans.rememberedAt(p, key) ?? loaders.planAt.load(key);
    },
    planInForce: (c, _, { services, loaders, principal }) => {
      if (c.planInForce === null) return null;
      const key = { caseId: c._id, caseVersion: c.version, ref: planRef(c._id, c.planInForce) };
      const p = requirePrincipal(principal);
      return writtenAlongside<PlanDoc>(c, key.ref, p) ?? services.plans.rememberedAt(p, key) ?? loaders.planAt.load(key);
    },
    plans: (c, _, { loaders }) => loaders.plansOfCase.load(c._id),
  },
  Mutation: {
    saveDraftPlan: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.plans.saveDraft(principal, args, idempotencyKey)).case,
    submitPlan: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.plans.submit(principal, args, idempotencyKey)).case,
    decidePlan: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.plans.decide(principal, args, idempotencyKey)).case,
  },
  Plan: {
    totalEur: (p) => (p.totalEur === null ? null : eur(p.totalEur)),
    cashEur: (p) => (p.cashEur === null ? null : eur(p.cashEur)),
  },
  PlanComponent: {
    costEur: (c) => (c.costEur === null ? null : eur(c.costEur)),
  },
  MaterialItem: {
    total: (i) => ({ amount: i.quantity * i.unitCost.amount, currency: i.unitCost.currency }),
  },
};
