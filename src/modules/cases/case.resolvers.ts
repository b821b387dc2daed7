import type { CaseResolvers, Resolvers } from '../../graphql/generated/types.ts';
import { eur } from '../../money.ts';
import type { PlanDoc } from './case.model.ts';
import { TRANSITIONS } from './case.state.ts';
import { ageIn } from './entitlement.ts';

const planRef = (caseId: string, planVersion: number | null) => (planVersion === null ? null : `${caseId}:${planVersion}`);

const caseFields: CaseResolvers = {
  id: (c) => c._id,
  memberState: async (c, _, { loaders }) => (await loaders.organisation.load(c.memberState))!,
  partner: async (c, _, { loaders }) => (c.partner ? loaders.organisation.load(c.partner) : null),
  programme: async (c, _, { loaders }) => (await loaders.programme.load(c.programme))!,
  household: (c, _, { services }) => {
    const year = services.cases.referenceYear(c);
    return c.household.map((m) => ({ ...m, age: ageIn(year, m.yearOfBirth) }));
  },
  needsAssessment: (c, _, { services, principal, access }) => services.cases.needsAssessment(principal, c, access),
  vulnerability: (c, _, { services, principal, access }) => services.cases.vulnerability(principal, c, access),
  consent: (c, _, { services }) => ({ ...c.consent, valid: services.cases.consentValid(c) }),
  allowedTransitions: (c) => [...TRANSITIONS[c.status]],
  plan: async (c, _, { loaders, services }) => {
    const ref = planRef(c._id, c.latestPlan);
    return ref ? (services.cases.writtenAlongside<PlanDoc>(c, ref) ?? loaders.plan.load(ref)) : null;
  },
  planInForce: async (c, _, { loaders, services }) => {
    const ref = planRef(c._id, c.planInForce);
    return ref ? (services.cases.writtenAlongside<PlanDoc>(c, ref) ?? loaders.plan.load(ref)) : null;
  },
  plans: (c, _, { loaders }) => loaders.plansOfCase.load(c._id),
};

export const caseResolvers: Resolvers = {
  Query: {
    case: (_, { id }, { services, principal }) => services.cases.get(principal, id),
    cases: (_, args, { services, principal }) => services.cases.list(principal, args),
  },
  Me: {
    cases: (_, args, { services, principal }) => services.cases.list(principal, args),
  },
  Mutation: {
    createCase: (_, { input, idempotencyKey }, { services, principal }) =>
      services.cases.create(principal, input, idempotencyKey),
    updateCase: (_, { id, input, expectedVersion, idempotencyKey }, { services, principal }) =>
      services.cases.update(principal, id, input, expectedVersion, idempotencyKey),
    referCase: (_, { id, expectedVersion, idempotencyKey }, { services, principal }) =>
      services.cases.refer(principal, id, expectedVersion, idempotencyKey),
    respondToReferral: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.cases.respond(principal, args, idempotencyKey),
    reopenCase: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.cases.reopen(principal, args, idempotencyKey),
    confirmArrival: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.cases.confirmArrival(principal, args, idempotencyKey),
    closeCase: (_, { idempotencyKey, ...args }, { services, principal }) => services.cases.close(principal, args, idempotencyKey),
    saveDraftPlan: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.cases.saveDraftPlan(principal, args, idempotencyKey),
    submitPlan: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.cases.submitPlan(principal, args, idempotencyKey),
    decidePlan: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.cases.decidePlan(principal, args, idempotencyKey),
  },
  Case: caseFields,
  CaseConnection: {
    totalCount: (connection) => connection.totalCount(),
  },
  Entitlement: {
    programme: async (e, _, { loaders }) => (await loaders.programme.load(e.programme))!,
    total: (e) => eur(e.total),
    cashCap: (e) => eur(e.cashCap),
    arrivalSupport: (e) => eur(e.arrivalSupport),
  },
  EntitlementLine: {
    each: (l) => eur(l.each),
    subtotal: (l) => eur(l.each * l.persons),
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
