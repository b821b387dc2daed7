import type { Resolvers } from '../../graphql/generated/types.ts';

export const evidenceResolvers: Resolvers = {
  Case: {
    evidence: (c, _, { loaders }) => loaders.evidenceOfCase.load(c._id),
  },
  Evidence: {
    id: (e) => e._id,
    downloadUrl: (e) => `/evidence/${e._id}`,
  },
  Actor: {
    organisation: async (a, _, { loaders }) => (await loaders.organisation.load(a.organisation))!,
  },
};
