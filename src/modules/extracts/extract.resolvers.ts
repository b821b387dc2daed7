import type { Resolvers } from '../../graphql/generated/types.ts';

export const extractResolvers: Resolvers = {
  Query: {
    extractVariables: (_, __, { services }) => services.extracts.catalogue(),
    extractRequests: (_, args, { services, principal }) => services.extracts.list(principal, args),
    extractRequest: (_, { id }, { services, principal }) => services.extracts.get(principal, id),
  },
  Mutation: {
    requestExtract: (_, { input, idempotencyKey }, { services, principal }) =>
      services.extracts.request(principal, input, idempotencyKey),
    decideExtract: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.extracts.decide(principal, args, idempotencyKey),
    buildExtract: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.extracts.build(principal, args, idempotencyKey),
  },
  ExtractRequest: {
    id: (x) => x._id,
    researchBody: async (x, _, { loaders }) => (await loaders.organisation.load(x.researchBody))!,
    memberStates: async (x, _, { loaders }) =>
      Promise.all(x.memberStates.map(async (code) => (await loaders.organisation.load(code))!)),
    status: (x, _, { services }) => services.extracts.status(x),
    file: (x) => (x.build ? { ...x.build, withheld: x.build.withheld ?? [], extractId: x._id, downloads: x.downloads } : null),
    auditTrail: (x, _, { services, principal }) => services.extracts.trail(principal, x),
  },
  ExtractPart: {
    memberState: async (part, _, { loaders }) => (await loaders.organisation.load(part.memberState))!,
  },
  ExtractFile: {
    downloadUrl: (f) => `/extracts/${f.extractId}/csv`,
  },
};
