import type { Resolvers } from '../../graphql/generated/types.ts';
import { CursorScalar } from './cursor.ts';
import type { FeedChange, FeedState } from './feed.service.ts';

/**
 * A subscription lives long; its DataLoaders must not serve one event the records
 * cached for an earlier one. Each event gets fresh loaders, bound to the same caller.
 */
function withFreshLoaders(
  context: { renewLoaders(): void },
  source: AsyncIterableIterator<FeedChange>,
): AsyncIterableIterator<FeedChange> {
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      const result = await source.next();
      if (!result.done) context.renewLoaders();
      return result;
    },
    return: () => source.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    throw: (error?: unknown) =>
      source.throw?.(error) ?? Promise.reject(error instanceof Error ? error : new Error(String(error))),
  };
}

export const feedResolvers: Resolvers = {
  Cursor: CursorScalar,
  Query: {
    changes: (_, args, { services, principal }) => services.feed.changes(principal, args),
  },
  Subscription: {
    myFeed: {
      subscribe: async (_, { after }, context) =>
        withFreshLoaders(context, await context.services.feed.subscribe(context.principal, { after })),
      resolve: (change: FeedChange) => change,
    },
    caseEvents: {
      subscribe: async (_, { caseId, after }, context) =>
        withFreshLoaders(context, await context.services.feed.subscribe(context.principal, { caseId, after })),
      resolve: (change: FeedChange) => change,
    },
  },
  Change: {
    cursor: (c) => c.event._id,
    kind: (c) => c.kind,
    aggregateId: (c) => c.event.aggregateId,
    caseId: (c) => c.event.caseId ?? null,
    version: (c) => c.event.version,
    type: (c) => c.event.type,
    at: (c) => c.event.at,
    actorOrganisation: (c) => c.event.actor.organisation,
    state: (c) => c.state as never,
    removed: (c) => c.removed,
  },
  AggregateState: {
    __resolveType: (state) => (state as unknown as FeedState).__typename,
  },
};
