import type { Context } from '../../graphql/context.ts';
import type { QueryAuditTrailArgs, Resolvers } from '../../graphql/generated/types.ts';
import { logPageComplexity } from '../../graphql/plugins.ts';
import { READ_TYPES } from './access.ts';

export const auditResolvers: Resolvers = {
  Query: {
    auditTrail: {
      resolve: (_: unknown, args: QueryAuditTrailArgs, { services, principal }: Context) => services.audit.trail(principal, args),
      extensions: { complexity: logPageComplexity },
    } as never,
  },
  AuditEntry: {
    cursor: (e) => e._id,
    caseVersion: (e) => (e.aggregateType === 'case' ? e.version : null),
    fields: (e) => (READ_TYPES.includes(e.type) && Array.isArray(e.data.fields) ? (e.data.fields as string[]) : []),
  },
};
