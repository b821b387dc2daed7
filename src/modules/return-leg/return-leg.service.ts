// The return leg: what happens before the person arrives (counselling, travel document,
// ticket, departure), carried out by the member state's implementing organisation (IOM in
// the Netherlands). The member state assigns a case to it; from then on its return
// counsellors see that case, and only while it stays assigned.
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput } from '../../errors.ts';
import { organisationCode, parseInput } from '../../validation.ts';
import type { CasePayload } from '../cases/case.service.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { CaseStore } from '../cases/case.store.ts';
import type { OrganisationService } from '../organisations/organisation.service.ts';

const assignInput = z.object({ organisation: organisationCode.nullish() });

/** The case with its implementing organisation replaced (null: none); the units list follows. */
export function withImplementingOrganisation(c: CaseDoc, organisation: string | null): CaseDoc {
  const others = c.units.filter((u) => u !== c.implementingOrganisation);
  return { ...c, implementingOrganisation: organisation, units: organisation ? [...others, organisation] : others };
}

export type ReturnLegService = ReturnType<typeof createReturnLegService>;

export function createReturnLegService(deps: { cases: CaseStore; organisations: OrganisationService }) {
  const { cases, organisations } = deps;

  return {
    /** Member state: give the case's return leg to one of its implementing organisations (or take it back). */
    async assignImplementingOrganisation(
      principal: Principal | null,
      args: { id: string; organisation?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'case.assignUnits');
      if (p.organisation.kind !== 'MEMBER_STATE') throw badInput('Only the case’s member state assigns its units.');
      const input = parseInput(assignInput, { organisation: args.organisation });
      const organisation = input.organisation ?? null;
      const updated = await cases.write({
        principal: p,
        command: 'assignImplementingOrganisation',
        id: args.id,
        expectedVersion: args.expectedVersion,
        input,
        idempotencyKey,
        decide: async (c) => {
          if (organisation) {
            await organisations.unitOf(c.memberState, organisation, ['IMPLEMENTING_ORGANISATION'], 'organisation');
          }
          return {
            type: 'ImplementingOrganisationAssigned',
            next: withImplementingOrganisation(c, organisation),
            data: { organisation, previous: c.implementingOrganisation },
          };
        },
      });
      return { case: updated };
    },
  };
}
