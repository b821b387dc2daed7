// The return leg: what happens before the person arrives (counselling, travel document,
// ticket, departure, transit, arrival), carried out by the member state's implementing
// organisation (IOM in the Netherlands). The member state assigns a case to it; from then on
// its return counsellors see that case, and only while it stays assigned. Arrival assistance
// hands the case over to the partner.
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import { mayTakeTeamAction, unitsOnCase } from '../../auth/case-team.ts';
import type { Principal } from '../../auth/principal.ts';
import type { CaseKey } from '../../crypto/case-keys.ts';
import { caseFieldContext, type PersonalDataReads } from '../cases/case.sealing.ts';
import { badInput, budgetExceeded, forbidden, invalidTransition } from '../../errors.ts';
import { formatMoney } from '../../money.ts';
import { isoDate, minorUnits, organisationCode, parseInput, requiredText, todayIso } from '../../validation.ts';
import type { CasePayload } from '../cases/case.store.ts';
import { assertConsentFor } from '../cases/case.consent.ts';
import type { CaseDoc, Entitlement } from '../cases/case.model.ts';
import {
  BEFORE_DEPARTURE_STATUSES,
  CONTRIBUTION_STATUSES,
  TRANSITIONS,
  withStatus,
  type CaseStatus,
} from '../cases/case.state.ts';
import {
  emptyReturnSupport,
  GUIDANCE_GROUPS,
  TRAVEL_DOCUMENT_STAGES,
  type Guidance,
  type ReturnStepKind,
  type ReturnSupport,
} from './return-leg.model.ts';
import type { Needs } from '../../deps.ts';

const assignInput = z.object({ organisation: organisationCode.nullish() });

const eurAmount = z.object({
  amount: minorUnits,
  currency: z.literal('EUR', { message: 'amounts of the return leg are in EUR' }),
});
const place = requiredText(200);
const airport = z.string().regex(/^[A-Z]{3}$/, 'an IATA airport code such as AMS');

const stepInput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('COUNSELLING'), on: isoDate, decidedToReturn: z.boolean().nullish() }),
  z
    .object({
      kind: z.literal('TRAVEL_DOCUMENT'),
      on: isoDate,
      stage: z.enum(TRAVEL_DOCUMENT_STAGES),
      amount: eurAmount.nullish(),
    })
    .refine((s) => s.stage !== 'COST_REIMBURSED' || s.amount, { message: 'the cost reimbursed', path: ['amount'] }),
  z.object({
    kind: z.literal('TICKET'),
    on: isoDate,
    departureDate: isoDate,
    route: z.array(airport).min(2, 'from the airport of departure to the one of arrival').max(6),
    finalDestination: requiredText(200),
    landTravelAllowance: eurAmount.nullish(),
  }),
  z.object({ kind: z.literal('DEPARTURE'), on: isoDate, place }),
  z.object({ kind: z.literal('TRANSIT'), on: isoDate, place }),
  z.object({ kind: z.literal('ARRIVAL'), on: isoDate, place, metOnArrival: z.boolean() }),
  z.object({ kind: z.literal('FIRST_PERIOD_CONTRIBUTION'), on: isoDate, amount: eurAmount }),
  z.object({ kind: z.literal('INDIVIDUAL_GUIDANCE'), on: isoDate, group: z.enum(GUIDANCE_GROUPS), note: requiredText(2000) }),
]);
export type ReturnStepInput = z.infer<typeof stepInput>;

/** The statuses in which each step may be recorded (DEPARTURE and ARRIVAL follow the state machine). */
const STEP_STATUSES: Record<ReturnStepKind, readonly CaseStatus[]> = {
  COUNSELLING: BEFORE_DEPARTURE_STATUSES,
  TRAVEL_DOCUMENT: BEFORE_DEPARTURE_STATUSES,
  TICKET: BEFORE_DEPARTURE_STATUSES,
  INDIVIDUAL_GUIDANCE: [...BEFORE_DEPARTURE_STATUSES, 'DEPARTED'],
  DEPARTURE: ['ACCEPTED'],
  TRANSIT: ['DEPARTED'],
  ARRIVAL: ['ACCEPTED', 'DEPARTED'],
  FIRST_PERIOD_CONTRIBUTION: CONTRIBUTION_STATUSES,
};

/** Statuses in which some step of the return leg may be recorded (the case's allowed actions). */
export const RETURN_STEP_STATUSES: readonly CaseStatus[] = [...new Set(Object.values(STEP_STATUSES).flat())];

/** The case with its implementing organisation replaced (null: none); the units list follows. */
export function withImplementingOrganisation(c: CaseDoc, organisation: string | null): CaseDoc {
  const next = { ...c, implementingOrganisation: organisation };
  return { ...next, units: unitsOnCase(next) };
}

export const guidanceContext = (caseId: string) => caseFieldContext(caseId, 'guidance');

export type ReturnLegService = ReturnType<typeof createReturnLegService>;

export function createReturnLegService(
  deps: Needs<'cases' | 'organisations' | 'sealing'> & {
    /** Ages count on the departure day: the entitlement follows when a departure or arrival moves it. */
    entitlementAfterMove: (before: CaseDoc, after: CaseDoc, now: Date) => Promise<Entitlement>;
  },
) {
  const { cases, organisations, sealing } = deps;

  /** The guidance notes, sealed under the case's key (none once the case was erased). */
  async function openGuidance(c: CaseDoc): Promise<Guidance[]> {
    const sealed = c.returnSupport?.guidanceSealed;
    const text = sealed ? (await sealing.keys.forReading(c._id)).openText(guidanceContext(c._id), sealed) : null;
    return text ? (JSON.parse(text) as Guidance[]) : [];
  }

  /** The case after one step: the return support changed and, for departure and arrival, the status. */
  function applyStep(c: CaseDoc, step: ReturnStepInput, now: Date, guidanceSoFar?: { key: CaseKey; notes: Guidance[] }): CaseDoc {
    const allowed = STEP_STATUSES[step.kind];
    if (!allowed.includes(c.status)) {
      const to = step.kind === 'DEPARTURE' ? 'DEPARTED' : step.kind === 'ARRIVAL' ? 'ARRIVED' : `record ${step.kind}`;
      throw invalidTransition(
        c.status,
        to,
        step.kind === 'DEPARTURE' || step.kind === 'ARRIVAL' ? TRANSITIONS[c.status] : allowed,
      );
    }
    const today = todayIso(now);
    if (step.on > today) throw badInput(`on (${step.on}) is in the future.`, [{ path: 'on', message: 'in the future' }]);
    const rs: ReturnSupport = structuredClone(c.returnSupport ?? emptyReturnSupport());
    let next: CaseDoc = c;
    switch (step.kind) {
      case 'COUNSELLING':
        rs.counselling.push({ heldOn: step.on, decidedToReturn: step.decidedToReturn ?? false });
        rs.counselling.sort((a, b) => a.heldOn.localeCompare(b.heldOn));
        break;
      case 'TRAVEL_DOCUMENT': {
        const doc = rs.travelDocument ?? { appliedOn: null, obtainedOn: null, reimbursedOn: null, costEur: 0 };
        if (step.stage === 'APPLIED') doc.appliedOn = step.on;
        if (step.stage === 'OBTAINED') doc.obtainedOn = step.on;
        if (step.stage === 'COST_REIMBURSED') {
          doc.reimbursedOn = step.on;
          doc.costEur = step.amount!.amount;
        }
        rs.travelDocument = doc;
        break;
      }
      case 'TICKET':
        if (step.departureDate < step.on) {
          throw badInput('The departure is before the booking.', [{ path: 'departureDate', message: 'before the booking' }]);
        }
        rs.ticket = {
          bookedOn: step.on,
          departureDate: step.departureDate,
          route: step.route,
          finalDestination: step.finalDestination,
          landTravelAllowanceEur: step.landTravelAllowance?.amount ?? 0,
        };
        next = { ...c, plannedDepartureDate: step.departureDate };
        break;
      case 'DEPARTURE':
        if (!rs.ticket)
          throw badInput('Record the ticket (flight details) before the departure.', [
            { path: 'kind', message: 'no ticket yet' },
          ]);
        rs.departure = { on: step.on, place: step.place };
        next = withStatus(c, 'DEPARTED', now);
        break;
      case 'TRANSIT':
        rs.transit.push({ on: step.on, place: step.place });
        break;
      case 'ARRIVAL':
        if (rs.departure && step.on < rs.departure.on) {
          throw badInput('The arrival is before the departure.', [{ path: 'on', message: `before ${rs.departure.on}` }]);
        }
        rs.arrival = { on: step.on, place: step.place, metOnArrival: step.metOnArrival };
        next = { ...withStatus(c, 'ARRIVED', now), arrivedOn: step.on };
        break;
      case 'FIRST_PERIOD_CONTRIBUTION': {
        if (rs.firstPeriodContribution) {
          throw badInput('The first-period contribution has been paid already.', [{ path: 'kind', message: 'paid once' }]);
        }
        // Counted against the entitlement: at most what the programme gives this household.
        const most = c.entitlement.firstPeriodContribution ?? 0;
        if (most === 0) {
          const reason = c.eligibility?.reasons.find((r) => r.code === 'NO_FIRST_PERIOD_CONTRIBUTION');
          throw badInput(reason?.message ?? `${c.programme} pays no first-period contribution.`, [
            { path: 'kind', message: 'no first-period contribution' },
          ]);
        }
        if (step.amount.amount > most) {
          throw budgetExceeded(`The contribution is more than the ${formatMoney(most, 'EUR')} this household is entitled to.`, {
            entitlementEur: most,
            requestedEur: step.amount.amount,
          });
        }
        rs.firstPeriodContribution = { paidOn: step.on, amountEur: step.amount.amount };
        break;
      }
      case 'INDIVIDUAL_GUIDANCE': {
        const { key, notes } = guidanceSoFar!;
        const guidance = [...notes, { on: step.on, group: step.group, note: step.note }];
        rs.guidanceSealed = key.seal(guidanceContext(c._id), JSON.stringify(guidance));
        rs.guidanceCount = guidance.length;
        break;
      }
    }
    return { ...next, returnSupport: rs };
  }

  return {
    /** The return leg is the member state's and its implementing organisation's; the partner gets the hand-over. */
    supportFor(principal: Principal | null, c: CaseDoc): ReturnSupport | null {
      return c.returnSupport && principal?.organisation.kind !== 'PARTNER' ? c.returnSupport : null;
    },

    /** The guidance notes, opened only for a party allowed special categories, and the read noted. */
    async guidance(principal: Principal | null, c: CaseDoc, reads: PersonalDataReads): Promise<Guidance[] | null> {
      const sealed = c.returnSupport?.guidanceSealed;
      if (!principal || !sealing.maySeeSpecialCategory(principal, c) || !sealed) return sealed ? null : [];
      const notes = await openGuidance(c);
      if (notes.length > 0) reads.read(c, 'guidance');
      return notes;
    },

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

    /** The implementing organisation (or the member state) records one step of the return leg. */
    async recordStep(
      principal: Principal | null,
      args: { caseId: string; step: unknown; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'returnStep.record');
      const step = parseInput(stepInput, args.step, 'step');
      const updated = await cases.write({
        principal: p,
        command: 'recordReturnStep',
        id: args.caseId,
        expectedVersion: args.expectedVersion,
        input: step,
        idempotencyKey,
        decide: async (c, now) => {
          // A unit records only the steps its role on the case's team allows.
          if (!mayTakeTeamAction(p, c, `returnStep.${step.kind}`)) throw forbidden(`record ${step.kind}`);
          assertConsentFor(c, 'RETURN_ASSISTANCE', todayIso(now), 'recordReturnStep');
          const guidance =
            step.kind === 'INDIVIDUAL_GUIDANCE'
              ? { key: await sealing.keyForWriting(c._id), notes: await openGuidance(c) }
              : undefined;
          const next = applyStep(c, step, now, guidance);
          next.entitlement = await deps.entitlementAfterMove(c, next, now);
          return {
            type:
              step.kind === 'DEPARTURE' ? 'Departed' : step.kind === 'ARRIVAL' ? 'ArrivedAndHandedOver' : 'ReturnStepRecorded',
            next,
            data: { kind: step.kind, on: step.on },
          };
        },
      });
      return { case: updated };
    },
  };
}
