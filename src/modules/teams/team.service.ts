// Case teams: local cooperation on one person's case ("de gemeente heeft de regie"). The
// member state forms a team on a case, led by one of its municipalities or its return
// service, or by itself; the state or the lead invites the state's units and removes them.
// Each is a case write (an event in the log, in the case's audit trail); the units on the
// team are the case's `units`, so the tenant scope, the feed and the subscriptions follow
// at once. What each member sees and does is the policy's table (src/auth/case-team.ts).
import { z } from 'zod';
import { mayLead, mayTakeTeamAction, memberRoleFor, unitsOnCase, type CaseTeam } from '../../auth/case-team.ts';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput, forbidden } from '../../errors.ts';
import { organisationCode, parseInput } from '../../validation.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { CaseDecision, CaseView } from '../cases/case.store.ts';
import type { Needs } from '../../deps.ts';

const leadInput = z.object({ lead: organisationCode.nullish() });
const unitInput = z.object({ unit: organisationCode });

type TeamWrite = { caseId: string; expectedVersion: number };

/** The case with its team replaced; its units follow. */
function withTeam(c: CaseDoc, team: CaseTeam): CaseDoc {
  const next = { ...c, team };
  return { ...next, units: unitsOnCase(next) };
}

export type TeamService = ReturnType<typeof createTeamService>;

export function createTeamService(deps: Needs<'cases' | 'organisations'>) {
  const { cases, organisations } = deps;

  /** The member state of the case, or the unit leading its team (a write's principal, checked on the case). */
  function requireManager(p: Principal, c: CaseDoc): void {
    if (p.organisation.kind === 'MEMBER_STATE') return;
    if (!mayTakeTeamAction(p, c, 'team.manage') || p.organisation.kind === 'PARTNER') throw forbidden('team.manage');
  }

  /** A write on one unit of the team (invite, remove) by the member state or the team's lead. */
  function memberWrite(
    principal: Principal | null,
    command: string,
    args: TeamWrite & { unit: string },
    idempotencyKey: string | null | undefined,
    decide: (p: Principal, c: CaseDoc, code: string, now: Date) => Promise<CaseDecision> | CaseDecision,
  ): Promise<CaseView> {
    const p = authorize(principal, 'team.manage');
    const { unit: code } = parseInput(unitInput, { unit: args.unit });
    return cases.write({
      principal: p,
      command,
      id: args.caseId,
      expectedVersion: args.expectedVersion,
      input: { unit: code },
      idempotencyKey,
      decide: (c, now) => {
        requireManager(p, c);
        return decide(p, c, code, now);
      },
    });
  }

  return {
    async form(
      principal: Principal | null,
      args: TeamWrite & { lead?: string | null },
      idempotencyKey?: string | null,
    ): Promise<CaseView> {
      const p = authorize(principal, 'team.form');
      if (p.organisation.kind !== 'MEMBER_STATE') throw forbidden('team.form');
      const { lead } = parseInput(leadInput, { lead: args.lead });
      return cases.write({
        principal: p,
        command: 'formCaseTeam',
        id: args.caseId,
        expectedVersion: args.expectedVersion,
        input: { lead },
        idempotencyKey,
        decide: async (c, now) => {
          // The lead handed over leaves the team with its lead (the state invites it back if it should stay).
          let members = (c.team?.members ?? []).filter((m) => m.unit !== c.team?.lead);
          if (lead) {
            const unit = await organisations.unitOf(c.memberState, lead, ['MUNICIPALITY', 'AGENCY'], 'lead');
            const role = memberRoleFor(unit);
            if (!role || !mayLead(unit)) {
              throw badInput(`${lead} may not lead a case's team: a municipality or the return service leads.`, [
                { path: 'lead', message: 'not a municipality or the return service' },
              ]);
            }
            const existing = members.find((m) => m.unit === lead);
            members = [...members.filter((m) => m.unit !== lead), existing ?? { unit: lead, role, since: now }];
          }
          return {
            type: 'CaseTeamFormed',
            next: withTeam(c, { lead: lead ?? null, members }),
            data: { lead: lead ?? null, previousLead: c.team?.lead ?? null },
          };
        },
      });
    },

    async invite(
      principal: Principal | null,
      args: TeamWrite & { unit: string },
      idempotencyKey?: string | null,
    ): Promise<CaseView> {
      return memberWrite(principal, 'inviteToCaseTeam', args, idempotencyKey, async (_p, c, code, now) => {
        const unit = await organisations.unitOf(c.memberState, code, ['MUNICIPALITY', 'AGENCY', 'NGO'], 'unit');
        const role = memberRoleFor(unit);
        if (!role) throw badInput(`${code} has no role on a case's team.`, [{ path: 'unit', message: 'no team role' }]);
        const members = c.team?.members ?? [];
        if (members.some((m) => m.unit === code)) {
          throw badInput(`${code} is on the case's team already.`, [{ path: 'unit', message: 'already on the team' }]);
        }
        return {
          type: 'CaseTeamMemberInvited',
          next: withTeam(c, { lead: c.team?.lead ?? null, members: [...members, { unit: code, role, since: now }] }),
          data: { unit: code, role },
        };
      });
    },

    async remove(
      principal: Principal | null,
      args: TeamWrite & { unit: string },
      idempotencyKey?: string | null,
    ): Promise<CaseView> {
      return memberWrite(principal, 'removeFromCaseTeam', args, idempotencyKey, (p, c, code) => {
        const team = c.team;
        const member = team?.members.find((m) => m.unit === code);
        if (!team || !member) {
          throw badInput(`${code} is not on the case's team.`, [{ path: 'unit', message: 'not on the team' }]);
        }
        if (team.lead === code && p.organisation.kind !== 'MEMBER_STATE') {
          throw badInput('The lead does not leave its own team; the member state hands the lead over (formCaseTeam).', [
            { path: 'unit', message: 'the lead' },
          ]);
        }
        return {
          type: 'CaseTeamMemberRemoved',
          next: withTeam(c, {
            lead: team.lead === code ? null : team.lead,
            members: team.members.filter((m) => m.unit !== code),
          }),
          data: { unit: code, role: member.role },
        };
      });
    },
  };
}
