import type { Resolvers } from '../../graphql/generated/types.ts';

export const evidenceResolvers: Resolvers = {
  Case: {
    evidence: (c, _, { loaders }) => loaders.evidenceOfCase.load(c._id),
  },
  Evidence: {
    id: (e) => e._id,
    downloadUrl: (e) => `/evidence/${e._id}`,
    // Sealed under the case's key: a generic name and no digest once the case was erased.
    filename: async (e, _, { services }) => (await services.evidence.opened(e)).filename,
    sha256: async (e, _, { services }) => (await services.evidence.opened(e)).sha256,
  },
  Actor: {
    organisation: async (a, _, { loaders }) => (await loaders.organisation.load(a.organisation))!,
  },
};
