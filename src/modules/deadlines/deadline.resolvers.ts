import type { Resolvers } from '../../graphql/generated/types.ts';
import { deadlinesOf, deadlineStatus } from './deadline.rules.ts';

export const deadlineResolvers: Resolvers = {
  Query: {
    overdue: (_, { first }, { services, principal }) => services.deadlines.overdue(principal, first),
  },
  Case: {
    deadlines: (c) => deadlinesOf(c),
  },
  Deadline: {
    status: (d, _, { services }) => deadlineStatus(d, services.clock.now()).status,
    daysLate: (d, _, { services }) => deadlineStatus(d, services.clock.now()).daysLate,
    waitingOn: async (d, _, { loaders }) => (await loaders.organisation.load(d.waitingOn))!,
  },
};
