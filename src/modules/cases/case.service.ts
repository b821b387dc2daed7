// The case life cycle: reads, referral and its answer, arrival, closure and the expiry of
// unanswered referrals (registration is case.registration.ts). Every write reads top to bottom:
// authorise, validate, then (inside the case store's write) check the life cycle, decide, and return the event.
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { DAY_MS, type Clock } from '../../clock.ts';
import { badInput, invalidTransition, notFound } from '../../errors.ts';
import type { CommandExecutor } from '../../events/executor.ts';
import { isoDate, organisationCode, parseInput, requiredText, text, todayIso } from '../../validation.ts';
import type { OrganisationService } from '../organisations/organisation.service.ts';
import { updateCaseInput } from './case.inputs.ts';
import { listCases, type CaseConnection, type CaseListArgs } from './case.list.ts';
import { CLOSURE_REASONS, type CaseDoc, type ClosureReason } from './case.model.ts';
import type { CaseSealing } from './case.sealing.ts';
import {
  ASSIGNMENT_ENDED_STATUSES,
  assertStatusAllows,
  PARTNER_CHANGE_STATUSES,
  withStatus,
  type CaseStatus,
} from './case.state.ts';
import { type CasePayload, type CaseStore } from './case.store.ts';
import { createCaseEntitlements } from './case.entitlement.ts';
import { assertConsentFor } from './case.consent.ts';
import { assertActivePartner, assertBornBy, createCaseRegistration } from './case.registration.ts';
import type { EligibilityService } from '../eligibility/eligibility.service.ts';
import type { DepartureClaims } from '../eligibility/departure-claims.ts';

export const REFERRAL_ANSWER_DAYS = 7;

/** A referral (first or reopened): shared with the partner, who has 7 days to answer. */
function referralStarting(
  now: Date,
): Pick<CaseDoc, 'sharedWithPartner' | 'referredAt' | 'referralDeadline' | 'respondedAt' | 'declineReason'> {
  return {
    sharedWithPartner: true,
    referredAt: now,
    referralDeadline: new Date(now.getTime() + REFERRAL_ANSWER_DAYS * DAY_MS),
    respondedAt: null,
    declineReason: null,
  };
}

export type CaseService = ReturnType<typeof createCaseService>;

export function createCaseService(deps: {
  cases: CaseStore;
  sealing: CaseSealing;
  executor: CommandExecutor;
  clock: Clock;
  organisations: OrganisationService;
  eligibility: EligibilityService;
  departures: DepartureClaims;
}) {
  const { cases, sealing, clock, organisations } = deps;
  const entitlements = createCaseEntitlements(deps);
  const registration = createCaseRegistration({ ...deps, entitlements });

  /** What referral needs: active consent and an active contract for the partner, country and programme. */
  async function referralContract(c: CaseDoc, partner: string | null, day: string): Promise<string> {
    if (!partner)
      throw badInput('Choose the partner to refer the case to first.', [{ path: 'partner', message: 'required to refer' }]);
    assertConsentFor(c, 'REINTEGRATION_SUPPORT', day, 'referral');
    const contract = await organisations.activeContract(c.memberState, partner, c.originCountry, c.programme, day);
    if (!contract) {
      throw badInput(
        `${c.memberState} has no active contract with ${partner} for ${c.originCountry} under ${c.programme} on ${day}.`,
        [{ path: 'partner', message: 'no active contract' }],
      );
    }
    return contract._id;
  }

  /** A write on a case by a GraphQL caller, answered as `{ case }`. */
  async function lifeCycleWrite(
    p: Principal,
    command: string,
    id: string,
    expectedVersion: number,
    input: unknown,
    idempotencyKey: string | null | undefined,
    decide: Parameters<CaseStore['write']>[0]['decide'],
  ): Promise<CasePayload> {
    return { case: await cases.write({ principal: p, command, id, expectedVersion, input, idempotencyKey, decide }) };
  }

  return {
    // ---- reads -------------------------------------------------------------------------

    async get(principal: Principal | null, id: string): Promise<CaseDoc> {
      const p = authorize(principal, 'case.read');
      const c = await cases.loadFor(p, id);
      if (!c) throw notFound('Case', id);
      return c;
    },

    /** Batch load for DataLoaders, within the principal's scope. */
    getMany: (principal: Principal, ids: readonly string[]) => cases.getMany(principal, ids),

    storedVersion: (id: string) => cases.storedVersion(id),

    async list(principal: Principal | null, args: CaseListArgs): Promise<CaseConnection> {
      const p = authorize(principal, 'case.read');
      const memberStates = async () => (await organisations.list(p, { kind: 'MEMBER_STATE' })).map((o) => o.code);
      return listCases(cases, p, args, memberStates);
    },

    referenceDay: entitlements.referenceDayOf,
    openBirthMonths: (c: CaseDoc) => sealing.openBirthMonths(c),
    entitlementAfterMove: entitlements.afterMove,

    // ---- the life cycle ------------------------------------------------------------------

    create: registration,

    async update(
      principal: Principal | null,
      id: string,
      rawInput: unknown,
      expectedVersion: number,
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'case.update');
      const input = parseInput(updateCaseInput, rawInput);
      return lifeCycleWrite(p, 'updateCase', id, expectedVersion, input, idempotencyKey, async (c, now) => {
        if (c.status === 'CLOSED') throw invalidTransition(c.status, 'updateCase', []);
        if (input.partner && input.partner !== c.partner) {
          assertStatusAllows(c.status, 'change the partner', PARTNER_CHANGE_STATUSES);
          await assertActivePartner(organisations, input.partner);
        }
        const next: CaseDoc = { ...c };
        // A new partner sees the case only once it is referred to it (reopenCase).
        if (input.partner && input.partner !== c.partner) next.sharedWithPartner = false;
        if (input.partner) next.partner = input.partner;
        if (input.plannedDepartureDate !== undefined) next.plannedDepartureDate = input.plannedDepartureDate;
        if (input.plannedArrivalDate !== undefined) next.plannedArrivalDate = input.plannedArrivalDate;
        const key = await sealing.keyForWriting(id);
        if (input.needsAssessment !== undefined) next.needsAssessmentSealed = sealing.sealNeeds(key, input.needsAssessment);
        let vulnerability = await sealing.openVulnerability(c);
        if (input.vulnerability) {
          vulnerability = { ...input.vulnerability, notes: input.vulnerability.notes ?? null };
          next.vulnerabilitySealed = sealing.sealVulnerability(key, vulnerability);
        }
        if (input.household) {
          assertBornBy(input.household, now.getUTCFullYear());
          next.household = input.household.map(({ birthMonth: _month, ...member }) => member);
          next.birthMonthsSealed = sealing.sealBirthMonths(
            key,
            input.household.map((m) => m.birthMonth ?? null),
          );
        }
        if (
          input.household ||
          input.vulnerability ||
          input.plannedArrivalDate !== undefined ||
          input.plannedDepartureDate !== undefined
        ) {
          next.entitlement = await entitlements.recompute(next, vulnerability?.unaccompaniedMinor ?? false, now);
        }
        const fields = Object.keys(input).filter((k) => input[k as keyof typeof input] !== undefined);
        return { type: 'CaseUpdated', next, data: { fields } };
      });
    },

    async refer(
      principal: Principal | null,
      id: string,
      expectedVersion: number,
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'case.refer');
      return lifeCycleWrite(p, 'referCase', id, expectedVersion, {}, idempotencyKey, async (c, now) => {
        const next = withStatus(c, 'REFERRED', now);
        const contract = await referralContract(c, c.partner, todayIso(now));
        return {
          type: 'CaseReferred',
          next: { ...next, contract, ...referralStarting(now) },
          data: { partner: c.partner, contract },
        };
      });
    },

    async respond(
      principal: Principal | null,
      args: { id: string; decision: 'ACCEPT' | 'DECLINE'; reason?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'referral.respond');
      const reason = args.decision === 'DECLINE' ? parseInput(requiredText(1000), args.reason ?? '', 'reason') : null;
      const input = { decision: args.decision, reason };
      return lifeCycleWrite(p, 'respondToReferral', args.id, args.expectedVersion, input, idempotencyKey, (c, now) => {
        const status: CaseStatus = args.decision === 'ACCEPT' ? 'ACCEPTED' : 'DECLINED';
        if (c.status === 'REFERRED' && c.referralDeadline && now > c.referralDeadline) {
          throw invalidTransition('EXPIRED', status, ['REFERRED', 'CLOSED']);
        }
        const next = withStatus(c, status, now);
        return {
          type: args.decision === 'ACCEPT' ? 'ReferralAccepted' : 'ReferralDeclined',
          next: { ...next, respondedAt: now, declineReason: reason },
          data: reason ? { reason } : {},
        };
      });
    },

    async reopen(
      principal: Principal | null,
      args: { id: string; partner?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'case.reopen');
      const partner = args.partner ? parseInput(organisationCode, args.partner, 'partner') : null;
      return lifeCycleWrite(p, 'reopenCase', args.id, args.expectedVersion, { partner }, idempotencyKey, async (c, now) => {
        assertStatusAllows(c.status, 'REFERRED', ASSIGNMENT_ENDED_STATUSES);
        const next = withStatus(c, 'REFERRED', now);
        const newPartner = partner ?? c.partner;
        if (partner) await assertActivePartner(organisations, partner);
        const contract = await referralContract(c, newPartner, todayIso(now));
        return {
          type: 'CaseReopened',
          next: { ...next, partner: newPartner, contract, ...referralStarting(now) },
          data: { partner: newPartner, previousPartner: c.partner },
        };
      });
    },

    async confirmArrival(
      principal: Principal | null,
      args: { id: string; arrivedOn: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'arrival.confirm');
      const arrivedOn = parseInput(isoDate, args.arrivedOn, 'arrivedOn');
      return lifeCycleWrite(p, 'confirmArrival', args.id, args.expectedVersion, { arrivedOn }, idempotencyKey, async (c, now) => {
        const next = withStatus(c, 'ARRIVED', now);
        if (arrivedOn > todayIso(now))
          throw badInput('arrivedOn is in the future.', [{ path: 'arrivedOn', message: 'in the future' }]);
        const withArrival = { ...next, arrivedOn };
        withArrival.entitlement = await entitlements.afterMove(c, withArrival, now);
        return { type: 'ArrivalConfirmed', next: withArrival, data: { arrivedOn } };
      });
    },

    async close(
      principal: Principal | null,
      args: { id: string; reason: ClosureReason; comment?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CasePayload> {
      const p = authorize(principal, 'case.close');
      const reason = parseInput(z.enum(CLOSURE_REASONS), args.reason, 'reason');
      const comment = args.comment ? parseInput(text(2000), args.comment, 'comment') : null;
      return lifeCycleWrite(p, 'closeCase', args.id, args.expectedVersion, { reason, comment }, idempotencyKey, (c, now) => ({
        type: 'CaseClosed',
        next: { ...withStatus(c, 'CLOSED', now), closedAt: now, closureReason: reason, closureComment: comment },
        data: { reason },
      }));
    },

    /**
     * Expires referrals unanswered past their deadline (a background job; safe to run on
     * several gateways at once: each expiry is a version-checked write). A referral answered
     * or changed meanwhile is skipped; anything else (the store is down) fails the run.
     */
    async expireReferrals(system: Principal): Promise<number> {
      return cases.writeEachDue(system, await cases.referralsDue(clock.now(), 500), {
        command: 'expireReferral',
        key: (c) => `expire-${c._id}-${c.version}`,
        decide: (current, at) => ({
          type: 'ReferralExpired',
          next: withStatus(current, 'EXPIRED', at),
          data: { deadline: current.referralDeadline },
        }),
      });
    },
  };
}
