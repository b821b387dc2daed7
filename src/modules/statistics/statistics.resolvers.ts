import { requirePrincipal } from '../../auth/policy.ts';
import type { Resolvers } from '../../graphql/generated/types.ts';

export const statisticsResolvers: Resolvers = {
  Query: {
    statistics: (_, { groupBy, filter }, context) =>
      context.services.statistics.table(
        requirePrincipal(context.principal),
        { groupBy, filter },
        { channel: 'graphql', request: context },
      ),
  },
};
