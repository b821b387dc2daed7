import type { Resolvers } from '../../graphql/generated/types.ts';
import type { ErasureReason } from './erasure.service.ts';

export const erasureResolvers: Resolvers = {
  Mutation: {
    eraseCase: (_, { caseId, reason }, { services, principal }) => services.erasure.eraseCase(principal, caseId, reason),
  },
  Case: {
    erasedAt: (c) => c.erasedAt ?? null,
    erasureReason: (c) => (c.erasureReason as ErasureReason | null | undefined) ?? null,
  },
};
