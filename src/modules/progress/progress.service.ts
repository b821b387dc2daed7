// Progress updates and spend. Every post is one write on its case (expectedVersion is the
// case's version): the update, the case's effective spend per component and its status
// (the first update after approval starts the implementation) change together.
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { authorize, caseScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { decodeCursor, encodeCursor } from '../../cursor.ts';
import { badInput, forbidden } from '../../errors.ts';
import { toEur } from '../../money.ts';
import { isoDate, money, pageSize, parseInput, requiredText, todayIso } from '../../validation.ts';
import { assertConsentFor } from '../cases/case.consent.ts';
import type { CaseInputArgs, CasePayload } from '../cases/case.store.ts';
import { recordsOfCaseDocs, writtenIn } from '../cases/case.store.ts';
import { ARRIVED_BEFORE_PLAN_STATUSES, assertStatusAllows, type CaseStatus } from '../cases/case.state.ts';
import { evidenceId } from '../evidence/evidence.service.ts';
import { addSpend, checkComponentBudget, totalOf } from './budget.ts';
import {
  assertDayOfSupport,
  componentId,
  componentOf,
  IMPLEMENTATION_STATUSES,
  languageTag,
  refOf,
  startImplementation,
} from './implementation.ts';
import {
  narrativeContext,
  PROGRESS_KINDS,
  progressSchema,
  type ProgressDoc,
  type ProgressKind,
  type SpendRecord,
} from './progress.model.ts';
import { recordFieldsOf, type CaseDoc } from '../cases/case.model.ts';
import { assertWithinSpendingWindow } from '../cases/spending-window.ts';
import { firstVersion } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';

/** Between arrival and plan approval only some kinds can be reported (no plan to spend against yet). */
const BEFORE_PLAN = ARRIVED_BEFORE_PLAN_STATUSES;

/** The statuses in which each kind may be posted. */
export const STATUSES_FOR: Record<Exclude<ProgressKind, 'MONITORING_VISIT'>, readonly CaseStatus[]> = {
  ARRIVAL_SUPPORT: [...BEFORE_PLAN, ...IMPLEMENTATION_STATUSES],
  COUNSELLING: [...BEFORE_PLAN, ...IMPLEMENTATION_STATUSES],
  PURCHASE: IMPLEMENTATION_STATUSES,
  TRAINING_ATTENDANCE: IMPLEMENTATION_STATUSES,
  TRAINING_COMPLETED: IMPLEMENTATION_STATUSES,
  BUSINESS_STARTED: IMPLEMENTATION_STATUSES,
  CONCERN: [...BEFORE_PLAN, ...IMPLEMENTATION_STATUSES, 'FINAL_REPORTED'],
  OTHER: [...BEFORE_PLAN, ...IMPLEMENTATION_STATUSES, 'FINAL_REPORTED'],
};

/** What a member state reports itself; the rest (and all spend) is the partner's. */
export const MEMBER_STATE_KINDS: readonly ProgressKind[] = ['COUNSELLING', 'CONCERN', 'OTHER'];

/** Kinds that concern one plan component, and the component kinds each may concern. */
export const COMPONENT_KINDS_FOR: Partial<Record<ProgressKind, readonly string[]>> = {
  PURCHASE: ['TRAINING', 'BUSINESS_PLAN', 'MATERIALS', 'SERVICE'],
  TRAINING_ATTENDANCE: ['TRAINING'],
  TRAINING_COMPLETED: ['TRAINING'],
  BUSINESS_STARTED: ['BUSINESS_PLAN'],
};

/** Kinds that never carry spend. */
const NO_SPEND: readonly ProgressKind[] = ['ARRIVAL_SUPPORT', 'COUNSELLING', 'CONCERN', 'MONITORING_VISIT'];

const progressInput = z
  .object({
    kind: z.enum(PROGRESS_KINDS),
    componentId: componentId.nullish(),
    narrative: requiredText(5000),
    language: languageTag,
    occurredOn: isoDate,
    spend: z.object({ amount: money, proof: evidenceId }).nullish(),
    corrects: z.uuid('the id of an update').nullish(),
  })
  .superRefine((u, ctx) => {
    if (u.kind === 'MONITORING_VISIT')
      ctx.addIssue({ code: 'custom', path: ['kind'], message: 'record monitoring visits with recordMonitoringVisit' });
    if (u.kind === 'PURCHASE' && !u.spend) ctx.addIssue({ code: 'custom', path: ['spend'], message: 'required for a PURCHASE' });
    if (u.spend && NO_SPEND.includes(u.kind))
      ctx.addIssue({ code: 'custom', path: ['spend'], message: `a ${u.kind} update carries no spend` });
    if (u.spend && u.spend.amount.amount <= 0)
      ctx.addIssue({ code: 'custom', path: ['spend', 'amount'], message: 'more than 0' });
    if ((COMPONENT_KINDS_FOR[u.kind] || u.spend) && !u.componentId)
      ctx.addIssue({ code: 'custom', path: ['componentId'], message: `required for ${u.spend ? 'spend' : `a ${u.kind}`}` });
  });

export type ProgressInput = z.infer<typeof progressInput>;

export type ProgressPage = {
  edges: { cursor: string; node: ProgressDoc }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
};

export const MAX_PROGRESS_PAGE = 100;

const cursorOf = (u: ProgressDoc) => encodeCursor('progress', [u.caseVersion]);

const positionOf = (cursor: string): number =>
  decodeCursor(cursor, 'progress', z.tuple([z.number().int()]), 'a progress list')[0];

/** A Relay page of a case's updates, newest first, from all of them (loaded in one batch per request). */
export function pageOfProgress(
  updates: readonly ProgressDoc[],
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const size = pageSize(first, 20, MAX_PROGRESS_PAGE);
  const from = after ? positionOf(after) : Infinity;
  const rest = updates.filter((u) => u.caseVersion < from);
  const edges = rest.slice(0, size).map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rest.length > size,
      hasPreviousPage: Boolean(after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: updates.length,
  } satisfies ProgressPage;
}

/** The updates no correction replaces. */
export function effectiveUpdates(updates: readonly ProgressDoc[]): ProgressDoc[] {
  const corrected = new Set(updates.map((u) => u.corrects).filter((id): id is string => id !== null));
  return updates.filter((u) => !corrected.has(u._id));
}

export type ProgressService = ReturnType<typeof createProgressService>;

export function createProgressService(deps: Needs<'store' | 'cases' | 'plans' | 'rates' | 'evidence' | 'sealing'>) {
  const { store, cases, plans, rates, evidence, sealing } = deps;
  const Progress: Model<ProgressDoc> = store.model('ProgressUpdate', progressSchema);

  async function updatesOfCase(principal: Principal, caseId: string): Promise<ProgressDoc[]> {
    return Progress.find({ caseId })
      .setOptions({ scope: caseScope(principal) })
      .sort({ caseId: 1, caseVersion: -1 })
      .lean<ProgressDoc[]>();
  }

  return {
    /** For other modules' writes (monitoring visits) that add an update of their own. */
    model: Progress,

    async post(
      principal: Principal | null,
      args: CaseInputArgs,
      idempotencyKey?: string | null,
    ): Promise<CasePayload & { update: ProgressDoc }> {
      const p = authorize(principal, 'progress.post');
      const input = parseInput(progressInput, args.input);
      const kind = input.kind as Exclude<ProgressKind, 'MONITORING_VISIT'>;
      if (p.organisation.kind === 'MEMBER_STATE' && (!MEMBER_STATE_KINDS.includes(kind) || input.spend)) {
        throw forbidden(`progress.post ${input.spend ? 'with spend' : kind} (the partner's to report)`);
      }
      const id = randomUUID();
      const saved = await cases.writeOn(p, 'postProgressUpdate', args, input, idempotencyKey, async (c, now) => {
        const key = await sealing.keyForWriting(c._id);
        assertStatusAllows(c.status, `post a ${kind} update`, STATUSES_FOR[kind]);
        if (input.spend) assertStatusAllows(c.status, 'record spend', IMPLEMENTATION_STATUSES);
        assertDayOfSupport(input.occurredOn, 'occurredOn', c, now);
        if (input.spend || kind === 'PURCHASE') assertWithinSpendingWindow(c, input.occurredOn, 'occurredOn');
        // The partner's narrative is personal content shared with the state: not without consent.
        if (p.organisation.kind === 'PARTNER') assertConsentFor(c, 'REINTEGRATION_SUPPORT', todayIso(now), 'postProgressUpdate');

        const plan = input.componentId ? await plans.inForce(p, c) : null;
        const component = input.componentId ? componentOf(plan, input.componentId, 'componentId') : null;
        const allowedComponents = COMPONENT_KINDS_FOR[kind];
        if (component && allowedComponents && !allowedComponents.includes(component.kind)) {
          throw badInput(`A ${kind} update concerns a ${allowedComponents.join(' or ')} component, not ${component.kind}.`, [
            { path: 'componentId', message: `must be a ${allowedComponents.join(' or ')} component` },
          ]);
        }

        let spend: SpendRecord | null = null;
        if (input.spend && component) {
          await evidence.requireOnCase(p, c._id, input.spend.proof, 'spend.proof', ['RECEIPT', 'INVOICE']);
          const { currency, amount } = input.spend.amount;
          const rate = (await rates.ratesOn([currency], input.occurredOn)).get(currency)!;
          spend = { amount, currency, amountEur: toEur(amount, currency, rate.rate), rate, proof: input.spend.proof };
        }

        let corrected: ProgressDoc | null = null;
        let all: ProgressDoc[] | null = null;
        if (input.corrects) {
          all = await updatesOfCase(p, c._id);
          corrected = all.find((u) => u._id === input.corrects) ?? null;
          if (!corrected)
            throw badInput('There is no such update on this case.', [
              { path: 'corrects', message: 'not an update of this case' },
            ]);
          const newer = all.find((u) => u.corrects === corrected!._id);
          if (newer) {
            throw badInput(`That update was already corrected by ${newer._id}; correct the correction instead.`, [
              { path: 'corrects', message: 'already corrected' },
            ]);
          }
          if (corrected.kind === 'MONITORING_VISIT')
            throw badInput('A monitoring visit is corrected by recording the visit again.', [
              { path: 'corrects', message: 'a monitoring visit' },
            ]);
          if (corrected.postedBy.organisation !== p.organisation.code)
            throw forbidden('progress.correct (only the organisation that posted an update corrects it)');
          // Spend is final with the final report, which accounts for it: an update that carries
          // spend is corrected only while spend may be recorded (or the budget would leave the report).
          if (corrected.spend) assertStatusAllows(c.status, 'correct an update with spend', IMPLEMENTATION_STATUSES);
        }

        // Effective spend: the corrected update's spend gives way to the correction's.
        let lines = c.spend;
        if (corrected?.spend && corrected.component)
          lines = addSpend(lines, corrected.component.id, corrected.component.kind, -corrected.spend.amountEur);
        if (spend && component) {
          const before = lines.find((l) => l.componentId === component.id)?.actualEur ?? 0;
          checkComponentBudget(component, before, spend.amountEur);
          lines = addSpend(lines, component.id, component.kind, spend.amountEur);
        }

        const update: ProgressDoc = {
          _id: id,
          ...recordFieldsOf(c),
          caseVersion: c.version + 1,
          kind,
          component: component ? refOf(component) : null,
          narrativeSealed: key.seal(narrativeContext(id), input.narrative),
          language: input.language,
          occurredOn: input.occurredOn,
          spend,
          corrects: corrected?._id ?? null,
          postedBy: { organisation: p.organisation.code, subject: p.subject },
          postedAt: now,
          ...firstVersion(now),
        };

        let arrivalSupportOn = c.arrivalSupportOn;
        if (kind === 'ARRIVAL_SUPPORT' || corrected?.kind === 'ARRIVAL_SUPPORT') {
          const effective = effectiveUpdates([update, ...(all ?? (await updatesOfCase(p, c._id)))]);
          const days = effective.filter((u) => u.kind === 'ARRIVAL_SUPPORT').map((u) => u.occurredOn);
          arrivalSupportOn = days.length > 0 ? days.sort()[0]! : null;
        }

        const next = startImplementation(c, now);
        return {
          type: corrected ? 'ProgressCorrected' : 'ProgressPosted',
          next: { ...next, spend: lines, actualEur: totalOf(lines), arrivalSupportOn },
          data: {
            updateId: id,
            kind,
            componentId: component?.id ?? null,
            occurredOn: input.occurredOn,
            ...(spend ? { spend: { amount: spend.amount, currency: spend.currency, amountEur: spend.amountEur } } : {}),
            ...(corrected ? { corrects: corrected._id } : {}),
          },
          extra: [{ collection: 'progress_updates', doc: update }],
        };
      });
      const [update] = writtenIn<ProgressDoc>(saved, 'progress_updates');
      return { case: saved, update: update! };
    },

    /**
     * Updates of many cases, newest first, in one query within the principal's scope; one
     * case's by primary key where it keeps their ids (recordsOfCaseDocs).
     */
    ofCaseDocs: (principal: Principal, cases: readonly Pick<CaseDoc, '_id' | 'recordIds'>[]) =>
      recordsOfCaseDocs(Progress, 'progress_updates', principal, cases, { caseId: 1, caseVersion: -1 }),

    updatesOfCase,
  };
}
