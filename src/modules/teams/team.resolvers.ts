import { teamRolesOf } from '../../auth/case-team.ts';
import type { Resolvers } from '../../graphql/generated/types.ts';

export const teamResolvers: Resolvers = {
  Mutation: {
    formCaseTeam: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.teams.form(principal, args, idempotencyKey),
    inviteToCaseTeam: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.teams.invite(principal, args, idempotencyKey),
    removeFromCaseTeam: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.teams.remove(principal, args, idempotencyKey),
  },
  Case: {
    team: (c) => c.team ?? null,
    myTeamRoles: (c, _, { principal }) => (principal ? teamRolesOf(principal, c) : []),
  },
  CaseTeam: {
    lead: (t, _, { loaders }) => (t.lead ? loaders.organisation.load(t.lead) : null),
  },
  CaseTeamMember: {
    organisation: async (m, _, { loaders }) => (await loaders.organisation.load(m.unit))!,
  },
};
