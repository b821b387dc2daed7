import { requirePrincipal } from '../../auth/policy.ts';
import { badInput } from '../../errors.ts';
import type { Context } from '../../graphql/context.ts';
import type { Resolvers } from '../../graphql/generated/types.ts';

// Two tables in one request (aliases) could be differenced against each other; each
// table protects itself and its own margins, so a request gets one.
const askedForStatistics = new WeakSet<Context>();

export const statisticsResolvers: Resolvers = {
  Query: {
    statistics: (_, { groupBy, filter }, context) => {
      const principal = requirePrincipal(context.principal);
      if (askedForStatistics.has(context)) {
        throw badInput('One statistics table per request: its cells are protected together with its own totals only.', [
          { path: 'statistics', message: 'asked for twice' },
        ]);
      }
      askedForStatistics.add(context);
      return context.services.statistics.table(principal, { groupBy, filter }, 'graphql');
    },
  },
};
