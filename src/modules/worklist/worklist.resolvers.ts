import type { Resolvers } from '../../graphql/generated/types.ts';
import { eur } from '../../money.ts';
import { actionFacts, allowedActions, allowedProgressKinds } from '../cases/case.actions.ts';

export const workListResolvers: Resolvers = {
  Query: {
    workList: (_, { first }, { services, principal }) => services.workList.workList(principal, first),
    planCosting: (_, { caseId, plan }, { services, principal }) => services.planCosting.cost(principal, caseId, plan),
  },
  Case: {
    allowedActions: async (c, _, { services, principal, loaders }) => {
      const plan = c.latestPlan === null ? null : await loaders.plan.load(`${c._id}:${c.latestPlan}`);
      return principal ? allowedActions(principal, actionFacts(c, plan?.status ?? null), services.clock.now()) : [];
    },
    allowedProgressKinds: (c, _, { principal }) => (principal ? allowedProgressKinds(principal, c.status) : []),
  },
  PlanCosting: {
    totalEur: (c) => eur(c.totalEur),
    cashEur: (c) => eur(c.cashEur),
    entitlement: (c) => eur(c.entitlementEur),
    cashCap: (c) => eur(c.cashCapEur),
    remaining: (c) => eur(c.entitlementEur - c.totalEur),
  },
  CostedComponent: {
    costEur: (k) => (k.costEur === null ? null : eur(k.costEur)),
  },
};
