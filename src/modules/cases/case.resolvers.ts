import type { CaseResolvers, Resolvers } from '../../graphql/generated/types.ts';
import type { OrganisationDoc, ProgrammeDoc } from '../organisations/organisation.model.ts';
import { eur } from '../../money.ts';
import { TRANSITIONS } from './case.state.ts';
import { ageOn } from './entitlement.ts';

const caseFields: CaseResolvers = {
  id: (c) => c._id,
  // A page calls these for every case: the directory's memory answers at once (no promise for
  // the executor to wait on), else the loaders' promises as they are (no async wrapper).
  // A missing organisation or programme is a non-null field's error, as graphql-js reports it.
  memberState: (c, _, { services, loaders }) =>
    services.organisations.rememberedOrganisation(c.memberState) ??
    (loaders.organisation.load(c.memberState) as Promise<OrganisationDoc>),
  partner: (c, _, { services, loaders }) =>
    c.partner ? (services.organisations.rememberedOrganisation(c.partner) ?? loaders.organisation.load(c.partner)) : null,
  programme: (c, _, { services, loaders }) =>
    services.organisations.rememberedProgramme(c.programme) ?? (loaders.programme.load(c.programme) as Promise<ProgrammeDoc>),
  household: async (c, _, { services }) => {
    const day = services.cases.referenceDay(c);
    const months = await services.sealing.openBirthMonths(c);
    return c.household.map((m, i) => ({ ...m, age: ageOn(day, m.yearOfBirth, months[i]) }));
  },
  needsAssessment: (c, _, { services, principal, access }) => services.sealing.needsAssessment(principal, c, access),
  vulnerability: (c, _, { services, principal, access }) => services.sealing.vulnerability(principal, c, access),
  entitlement: (c) => ({ ...c.entitlement, of: c }),
  consent: (c, _, { services }) => {
    const status = services.consent.status(c);
    return { ...c.consent, status, valid: status === 'ACTIVE' };
  },
  allowedTransitions: (c) => [...TRANSITIONS[c.status]],
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
    createCase: async (_, { input, idempotencyKey }, { services, principal }) =>
      (await services.cases.create(principal, input, idempotencyKey)).case,
    updateCase: async (_, { id, input, expectedVersion, idempotencyKey }, { services, principal }) =>
      (await services.cases.update(principal, id, input, expectedVersion, idempotencyKey)).case,
    referCase: async (_, { id, expectedVersion, idempotencyKey }, { services, principal }) =>
      (await services.cases.refer(principal, id, expectedVersion, idempotencyKey)).case,
    respondToReferral: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.cases.respond(principal, args, idempotencyKey)).case,
    reopenCase: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.cases.reopen(principal, args, idempotencyKey)).case,
    confirmArrival: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.cases.confirmArrival(principal, args, idempotencyKey)).case,
    closeCase: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.cases.close(principal, args, idempotencyKey)).case,
    withdrawConsent: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.consent.withdraw(principal, args, idempotencyKey),
    renewConsent: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.consent.renew(principal, args, idempotencyKey),
  },
  Case: caseFields,
  CaseConnection: {
    totalCount: (connection) => connection.totalCount(),
  },
  Entitlement: {
    // Special category (the amounts tell an unaccompanied minor): opened for a party allowed it, each read audited.
    lines: async (e, _, { services, principal, access }) =>
      (await services.sealing.entitlementAmounts(principal, e.of, access, 'entitlement.lines', e))?.lines ?? [],
    programme: async (e, _, { loaders }) => (await loaders.programme.load(e.programme))!,
    total: async (e, _, { services, principal, access }) => {
      const amounts = await services.sealing.entitlementAmounts(principal, e.of, access, 'entitlement.total', e);
      return amounts ? eur(amounts.total) : null;
    },
    cashCap: async (e, _, { services, principal, access }) => {
      const amounts = await services.sealing.entitlementAmounts(principal, e.of, access, 'entitlement.total', e);
      return amounts ? eur(amounts.cashCap) : null;
    },
    arrivalSupport: (e) => eur(e.arrivalSupport),
    firstPeriodContribution: (e) => eur(e.firstPeriodContribution ?? 0),
    referenceDay: (e) => e.referenceDay ?? null,
  },
  EntitlementLine: {
    each: (l) => eur(l.each),
    subtotal: (l) => eur(l.each * l.persons),
  },
};
