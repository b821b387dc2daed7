// The returnee's consent through its life: given for purposes from a fixed list (each
// programme names those it asks for, config/programmes.yaml), renewed or withdrawn by the
// member state that owns the case, and expired by a job on its last day. Each purpose opens
// one kind of sharing (PURPOSE_GRANTS below) and only while consent is ACTIVE: otherwise the
// partner sees no special categories or narratives, and nothing personal is shared any more
// (referral, plan, progress, evidence, survey, return leg): CONSENT_REQUIRED.
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import { badInput, consentRequired, forbidden, invalidTransition } from '../../errors.ts';
import { isoDate, parseInput, todayIso } from '../../validation.ts';
import type { ProgrammeDoc } from '../organisations/organisation.model.ts';
import type { CaseDoc, Consent } from './case.model.ts';
import type { CaseStore, CaseView } from './case.store.ts';

/** What a returnee may consent to (the schema's ConsentPurpose); a programme asks for some of them. */
export const CONSENT_PURPOSES = [
  'REINTEGRATION_SUPPORT',
  'SPECIAL_CATEGORY_DATA',
  'RETURN_ASSISTANCE',
  'MONITORING',
  'EVALUATION_RESEARCH',
] as const;
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

export const CONSENT_STATUSES = ['ACTIVE', 'EXPIRED', 'WITHDRAWN'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

/** Consent as a client gives it (registration, renewal); purposes are checked against the programme later. */
export const consentInput = z
  .object({
    purposes: z
      .array(z.enum(CONSENT_PURPOSES))
      .min(1, 'at least one purpose')
      .max(CONSENT_PURPOSES.length)
      .refine((p) => new Set(p).size === p.length, 'a purpose is listed twice'),
    givenOn: isoDate,
    expiresOn: isoDate,
  })
  .refine((c) => c.expiresOn >= c.givenOn, { message: 'expires before it was given', path: ['expiresOn'] });
export type ConsentInput = z.infer<typeof consentInput>;

/**
 * Where consent stands on `today`: WITHDRAWN and EXPIRED as recorded, and EXPIRED also from
 * the day after `expiresOn` before the job has recorded it (so nothing leaks in between).
 */
export function consentStatus(consent: Consent, today: string): ConsentStatus {
  if (consent.status === 'WITHDRAWN') return 'WITHDRAWN';
  if (consent.status === 'EXPIRED' || consent.expiresOn < today) return 'EXPIRED';
  return 'ACTIVE';
}

export const consentActive = (c: Pick<CaseDoc, 'consent'>, today: string): boolean =>
  consentStatus(c.consent, today) === 'ACTIVE';

/**
 * What each purpose allows, while consent is ACTIVE (the schema's ConsentPurpose says the same):
 * the member state, as controller, keeps seeing its own case whatever the consent.
 */
export const PURPOSE_GRANTS: Record<ConsentPurpose, string> = {
  REINTEGRATION_SUPPORT:
    'the case goes to the partner (referral, reopening); the partner submits plans, posts progress, uploads and downloads evidence and reads narratives',
  SPECIAL_CATEGORY_DATA:
    'the partner sees the special categories: vulnerability, needs assessment, the entitlement’s amounts and lines, return guidance',
  RETURN_ASSISTANCE: 'the return leg is recorded (counselling, travel document, ticket, departure, arrival)',
  MONITORING: 'monitoring visits and sustainability surveys are recorded, and the partner reads the survey answers',
  EVALUATION_RESEARCH: 'the case is counted in approved evaluation-research extracts',
};

/** Consent is ACTIVE on `today` and covers `purpose`. */
export const consentCovers = (c: Pick<CaseDoc, 'consent'>, purpose: ConsentPurpose, today: string): boolean =>
  consentActive(c, today) && c.consent.purposes.includes(purpose);

/** Refuses a write that shares personal content for `purpose` unless consent is active and covers it. */
export function assertConsentFor(
  c: Pick<CaseDoc, '_id' | 'consent'>,
  purpose: ConsentPurpose,
  today: string,
  action: string,
): void {
  const status = consentStatus(c.consent, today);
  if (status !== 'ACTIVE') throw consentRequired(c._id, action, status, c.consent.expiresOn, purpose);
  if (!c.consent.purposes.includes(purpose)) throw consentRequired(c._id, action, status, c.consent.expiresOn, purpose);
}

/** A new consent as recorded: its purposes must be the programme's, its required ones all there, given by today. */
export function recordedConsent(programme: ProgrammeDoc, input: ConsentInput, today: string): Consent {
  const unknown = input.purposes.filter((p) => !programme.consentPurposes.includes(p));
  const missing = programme.requiredConsentPurposes.filter((p) => !input.purposes.includes(p));
  const problems = [
    ...unknown.map((p) => ({ path: 'consent.purposes', message: `${p} is not a purpose of ${programme.code}` })),
    ...missing.map((p) => ({ path: 'consent.purposes', message: `${programme.code} needs ${p}` })),
    ...(input.givenOn > today ? [{ path: 'consent.givenOn', message: 'in the future' }] : []),
  ];
  if (problems.length > 0) throw badInput(`Invalid consent: ${problems.map((p) => p.message).join('; ')}.`, problems);
  return { purposes: input.purposes, givenOn: input.givenOn, expiresOn: input.expiresOn, status: 'ACTIVE', withdrawnOn: null };
}

export type ConsentService = ReturnType<typeof createConsentService>;

export function createConsentService(deps: {
  cases: CaseStore;
  clock: Clock;
  programme: (code: string) => Promise<ProgrammeDoc | null>;
}) {
  const { cases, clock } = deps;

  /** Only the member state that owns the case manages its consent (a partner that sees the case may not). */
  function assertOwner(p: Principal, c: CaseDoc): void {
    if (p.organisation.kind !== 'MEMBER_STATE' || p.organisation.code !== c.memberState) throw forbidden('consent.manage');
  }

  return {
    status: (c: Pick<CaseDoc, 'consent'>): ConsentStatus => consentStatus(c.consent, todayIso(clock.now())),

    async withdraw(
      principal: Principal | null,
      args: { id: string; withdrawnOn?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CaseView> {
      const p = authorize(principal, 'consent.manage');
      const withdrawnOn = args.withdrawnOn ? parseInput(isoDate, args.withdrawnOn, 'withdrawnOn') : null;
      return cases.write({
        principal: p,
        command: 'withdrawConsent',
        id: args.id,
        expectedVersion: args.expectedVersion,
        input: { withdrawnOn },
        idempotencyKey,
        decide: (c, now) => {
          assertOwner(p, c);
          const today = todayIso(now);
          const status = consentStatus(c.consent, today);
          if (status === 'WITHDRAWN') throw invalidTransition('WITHDRAWN', 'WITHDRAWN', ['ACTIVE (renewConsent)']);
          const day = withdrawnOn ?? today;
          if (day > today || day < c.consent.givenOn) {
            throw badInput('withdrawnOn must lie between the day consent was given and today.', [
              { path: 'withdrawnOn', message: 'outside the consent' },
            ]);
          }
          return {
            type: 'ConsentWithdrawn',
            next: { ...c, consent: { ...c.consent, status: 'WITHDRAWN', withdrawnOn: day } },
            data: { withdrawnOn: day, previousStatus: status },
          };
        },
      });
    },

    async renew(
      principal: Principal | null,
      args: { id: string; consent: unknown; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<CaseView> {
      const p = authorize(principal, 'consent.manage');
      const input = parseInput(consentInput, args.consent, 'consent');
      return cases.write({
        principal: p,
        command: 'renewConsent',
        id: args.id,
        expectedVersion: args.expectedVersion,
        input,
        idempotencyKey,
        decide: async (c, now) => {
          assertOwner(p, c);
          const today = todayIso(now);
          if (input.expiresOn < today) {
            throw badInput('A renewed consent must last at least until today.', [
              { path: 'consent.expiresOn', message: 'in the past' },
            ]);
          }
          const consent = recordedConsent((await deps.programme(c.programme))!, input, today);
          return {
            type: 'ConsentRenewed',
            next: { ...c, consent },
            data: { purposes: consent.purposes, givenOn: consent.givenOn, expiresOn: consent.expiresOn },
          };
        },
      });
    },

    /**
     * Records the expiry of consents past their last day (a background job; safe on several
     * gateways at once: each is a version-checked write). A case changed meanwhile is left
     * for the next run; anything else (the store is down) fails the run.
     */
    async expire(system: Principal): Promise<number> {
      const today = todayIso(clock.now());
      return cases.writeEachDue(system, await cases.consentsDue(today, 500), {
        command: 'expireConsent',
        key: (c) => `consent-expiry-${c._id}-${c.version}`,
        // Renewed or withdrawn since it was found due: no longer expiring.
        skip: ['CONFLICT', 'INVALID_TRANSITION'],
        decide: (current) => {
          if (consentStatus(current.consent, today) !== 'EXPIRED' || current.consent.status === 'EXPIRED') {
            throw invalidTransition(current.consent.status, 'EXPIRED', []);
          }
          return {
            type: 'ConsentExpired',
            next: { ...current, consent: { ...current.consent, status: 'EXPIRED' } },
            data: { expiresOn: current.consent.expiresOn },
          };
        },
      });
    },
  };
}
