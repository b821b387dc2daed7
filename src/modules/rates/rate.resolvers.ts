import type { Resolvers } from '../../graphql/generated/types.ts';

export const rateResolvers: Resolvers = {
  Query: {
    exchangeRates: (_, { currency }, { services, principal }) => services.rates.list(principal, currency),
  },
  Mutation: {
    setExchangeRate: (_, { input, expectedVersion, idempotencyKey }, { services, principal }) =>
      services.rates.set(principal, input, expectedVersion, idempotencyKey),
  },
};
