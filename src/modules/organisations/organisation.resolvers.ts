import type { Resolvers } from '../../graphql/generated/types.ts';
import { todayIso } from '../../validation.ts';
import { OPEN_END, type ProgrammeDoc } from './organisation.model.ts';

const money = (amount: number, currency: string) => ({ amount, currency });

export const organisationResolvers: Resolvers = {
  Query: {
    organisations: (_, filter, { services, principal }) => services.organisations.list(principal, filter),
    organisation: (_, { code }, { services, principal }) => services.organisations.get(principal, code),
    contracts: (_, args, { services, principal }) => services.organisations.contracts(principal, args),
    programmes: (_, __, { services, principal }) => services.organisations.programmes(principal),
  },
  Mutation: {
    createOrganisation: (_, { input, idempotencyKey }, { services, principal }) =>
      services.organisations.create(principal, input, idempotencyKey),
    updateOrganisation: (_, { code, input, expectedVersion, idempotencyKey }, { services, principal }) =>
      services.organisations.update(principal, code, input, expectedVersion, idempotencyKey),
    createContract: (_, { input, idempotencyKey }, { services, principal }) =>
      services.organisations.createContract(principal, input, idempotencyKey),
    endContract: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.organisations.endContract(principal, args, idempotencyKey),
  },
  Organisation: {
    code: (o) => o._id,
    memberState: (o, _, { loaders }) => (o.memberState ? loaders.organisation.load(o.memberState) : null),
    agency: (o) => o.agency ?? null,
    contracts: (o, _, { loaders }) => (o.kind === 'MEMBER_STATE' || o.kind === 'PARTNER' ? loaders.contractsOf.load(o._id) : []),
  },
  Contract: {
    id: (c) => c._id,
    memberState: async (c, _, { loaders }) => (await loaders.organisation.load(c.memberState))!,
    partner: async (c, _, { loaders }) => (await loaders.organisation.load(c.partner))!,
    programmes: async (c, _, { loaders }) =>
      (await loaders.programme.loadMany(c.programmes)).filter((p): p is ProgrammeDoc => p !== null && !(p instanceof Error)),
    validTo: (c) => (c.validTo === OPEN_END ? null : c.validTo),
    activeOn: (c, { date }, { services }) => services.organisations.isActiveOn(c, date ?? todayIso(services.clock.now())),
  },
  Programme: {
    code: (p) => p._id,
    arrivalSupport: (p) => money(p.arrivalSupport, p.currency),
    perAdult: (p) => money(p.perAdult, p.currency),
    perMinor: (p) => money(p.perMinor, p.currency),
    perUnaccompaniedMinor: (p) => money(p.perUnaccompaniedMinor, p.currency),
    cashCap: (p) => money(p.cashCap, p.currency),
    firstPeriodContributionPerAdult: (p) => money(p.firstPeriodContributionPerAdult ?? 0, p.currency),
    firstPeriodContributionPerMinor: (p) => money(p.firstPeriodContributionPerMinor ?? 0, p.currency),
    // A programme state from an event written before programmes named their states (the feed) was open to all.
    memberStates: (p) => p.memberStates ?? [],
  },
};
