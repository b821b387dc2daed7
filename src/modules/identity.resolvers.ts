import type { Resolvers } from '../graphql/generated/types.ts';
import { requirePrincipal } from '../auth/policy.ts';

export const identityResolvers: Resolvers = {
  Query: {
    me: (_, __, { principal }) => requirePrincipal(principal),
  },
  Me: {
    organisation: async (me, _, { loaders }) => (await loaders.organisation.load(me.organisation.code))!,
  },
};
