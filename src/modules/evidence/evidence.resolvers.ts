import type { Resolvers } from '../../graphql/generated/types.ts';

export const evidenceResolvers: Resolvers = {
  Case: {
    evidence: (c, _, { loaders }) => loaders.evidenceOfCase.load(c._id),
  },
  Evidence: {
    id: (e) => e._id,
    downloadUrl: (e) => `/evidence/${e._id}`,
    // Sealed under the case's key: a generic name and no digest once the case was erased.
    // Opened only for a reader whose scope holds the file (never a unit), however it was reached.
    filename: async (e, _, { services, principal }) => (await services.evidence.openedFor(principal, e)).filename,
    sha256: async (e, _, { services, principal }) => (await services.evidence.openedFor(principal, e)).sha256,
  },
  Actor: {
    organisation: async (a, _, { loaders }) => (await loaders.organisation.load(a.organisation))!,
  },
};
