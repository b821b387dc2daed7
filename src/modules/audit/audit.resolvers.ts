import type { Resolvers } from '../../graphql/generated/types.ts';
import { READ_TYPES } from './access.ts';

export const auditResolvers: Resolvers = {
  Query: {
    auditTrail: (_, args, { services, principal }) => services.audit.trail(principal, args),
  },
  AuditEntry: {
    cursor: (e) => e._id,
    caseVersion: (e) => (e.aggregateType === 'case' ? e.version : null),
    fields: (e) => (READ_TYPES.includes(e.type) && Array.isArray(e.data.fields) ? (e.data.fields as string[]) : []),
  },
};
