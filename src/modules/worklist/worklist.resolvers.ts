import type { Resolvers } from '../../graphql/generated/types.ts';
import { recordsReturnSteps } from '../../auth/case-team.ts';
import { eur } from '../../money.ts';
import { actionFacts, allowedActions, allowedProgressKinds } from '../cases/case.actions.ts';

export const workListResolvers: Resolvers = {
  Query: {
    workList: (_, { first }, { services, principal }) => services.workList.workList(principal, first),
    planCosting: (_, { caseId, plan }, { services, principal, access }) =>
      services.planCosting.cost(principal, caseId, plan, access),
  },
  Case: {
    allowedActions: async (c, _, { services, principal, loaders }) => {
      const plan = c.latestPlan === null ? null : await loaders.plan.load(`${c._id}:${c.latestPlan}`);
      if (!principal) return [];
      const actions = allowedActions(principal, actionFacts(c, plan?.status ?? null), services.clock.now());
      // A unit records a step of the return leg only if its role on the case's team grants one.
      return actions.filter((a) => a !== 'RECORD_RETURN_STEP' || recordsReturnSteps(principal, c));
    },
    allowedProgressKinds: (c, _, { principal }) => (principal ? allowedProgressKinds(principal, c.status) : []),
  },
  PlanCosting: {
    totalEur: (c) => eur(c.totalEur),
    cashEur: (c) => eur(c.cashEur),
    entitlement: (c) => (c.entitlementEur === null ? null : eur(c.entitlementEur)),
    cashCap: (c) => (c.cashCapEur === null ? null : eur(c.cashCapEur)),
    remaining: (c) => (c.entitlementEur === null ? null : eur(c.entitlementEur - c.totalEur)),
  },
  CostedComponent: {
    costEur: (k) => (k.costEur === null ? null : eur(k.costEur)),
  },
};
