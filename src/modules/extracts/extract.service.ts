// Evaluation extracts for researchers. A researcher (of a research body the network
// registered) asks for variables from a fixed catalogue, whole calendar quarters and member
// states; each member state's data-protection officer approves or refuses its part; once the
// last quarter is over, the researcher has the extract built from the approved parts: each
// member state's quarter frozen at its first release and anonymised on its own (so two
// extracts differ by whole blocks, never by a case: extract.blocks.ts), fresh random
// pseudonyms (nothing that links to the exchange or to another extract), months at best,
// quasi-identifiers generalised until every combination covers at least k cases with diverse
// closure reasons (the rest suppressed, counts published rounded). The CSV is kept sealed
// until it expires, or until a case in it is erased; every step, each download included, is
// an event in the extract's audit trail.
import { createHash, randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { authorize, extractAudience, extractScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { SYSTEM_PRINCIPAL } from '../../auth/principal.ts';
import { AppError, badInput, invalidTransition, notFound } from '../../errors.ts';
import { firstVersion, nextVersion, type StoredEvent } from '../../events/event.model.ts';
import { documentWrite, expectVersion, writtenDocument } from '../../events/executor.ts';
import { asBuffer } from '../../store/store.ts';
import { op, SYSTEM } from '../../store/tenant.ts';
import { organisationCode, pageSize, parseInput, requiredText, text, todayIso } from '../../validation.ts';
import { tabulate } from './extract.table.ts';
import { catalogueEntries, EXTRACT_VARIABLES } from './extract.catalogue.ts';
import { createBlockStore } from './extract.blocks.ts';
import { misalignment, periodClosesOn, quartersOf } from './extract.periods.ts';
import { extractFileSchema, extractSchema, type ExtractBuild, type ExtractDoc, type ExtractFileDoc } from './extract.model.ts';
import type { Needs } from '../../deps.ts';

export const EXTRACT_STATUSES = ['PENDING', 'REFUSED', 'APPROVED', 'AVAILABLE', 'EXPIRED', 'WITHDRAWN'] as const;
export type ExtractStatus = (typeof EXTRACT_STATUSES)[number];

export type ExtractSettings = {
  /** Every combination of quasi-identifiers covers at least this many cases (ERIN_EXTRACT_K). */
  k: number;
  /** How long a built extract can be downloaded (ERIN_EXTRACT_TTL). */
  ttlMs: number;
};

export const MAX_EXTRACT_PAGE = 200;
/** A build that never committed leaves a file nobody points at; it is removed after this long. */
const ORPHAN_AGE_MS = 3_600_000;
/**
 * Concurrent downloads (and a withdrawal) each record an event on the extract, one per version:
 * a lost race is retried after a short random pause that grows with each attempt, so a research
 * body fetching its file from several workers at once is served, not refused with CONFLICT
 * (each round of a race has one winner; five attempts at once left most of 16 downloads refused).
 */
const WRITE_ATTEMPTS = 25;

/** Whether a write that lost a race on the extract may try again: after a pause, while attempts are left. */
async function mayRetry(error: unknown, attempt: number): Promise<boolean> {
  if (!(error instanceof AppError && error.code === 'CONFLICT' && attempt < WRITE_ATTEMPTS)) return false;
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
  return true;
}

const yearMonth = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'a month YYYY-MM');

const requestInput = z
  .object({
    purpose: requiredText(2000),
    variables: z
      .array(z.enum(EXTRACT_VARIABLES))
      .min(1, 'at least one variable')
      .refine((v) => new Set(v).size === v.length, 'each variable once'),
    periodFrom: yearMonth,
    periodTo: yearMonth,
    memberStates: z
      .array(organisationCode)
      .min(1, 'at least one member state')
      .max(50)
      .refine((m) => new Set(m).size === m.length, 'each member state once'),
  })
  .refine((r) => r.periodFrom <= r.periodTo, { message: 'periodTo is before periodFrom', path: ['periodTo'] })
  .superRefine((r, ctx) => {
    for (const which of ['periodFrom', 'periodTo'] as const) {
      const problem = misalignment(which, r[which]);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, path: [which] });
    }
  });

const decisionInput = z
  .object({ decision: z.enum(['APPROVE', 'REFUSE']), comment: text(2000).nullish() })
  .refine((d) => d.decision === 'APPROVE' || (d.comment ?? '').length > 0, {
    message: 'a refusal gives its reason',
    path: ['comment'],
  });

export function extractStatus(doc: Pick<ExtractDoc, 'build' | 'parts'>, now: Date): ExtractStatus {
  if (doc.build?.withdrawnAt) return 'WITHDRAWN';
  if (doc.build) return new Date(doc.build.expiresAt) > now ? 'AVAILABLE' : 'EXPIRED';
  if (doc.parts.some((p) => p.status === 'PENDING')) return 'PENDING';
  return doc.parts.some((p) => p.status === 'APPROVED') ? 'APPROVED' : 'REFUSED';
}

const extractExpired = (id: string, expiresAt: Date) =>
  new AppError('NOT_FOUND', `Extract ${JSON.stringify(id)} expired at ${expiresAt.toISOString()}; request a new one.`, {
    kind: 'Extract',
    id,
    reason: 'EXPIRED',
  });

const extractWithdrawn = (id: string, at: Date) =>
  new AppError(
    'NOT_FOUND',
    `Extract ${JSON.stringify(id)} was withdrawn at ${at.toISOString()}: a case it held was erased, or may no longer be used for research. Request a new one.`,
    { kind: 'Extract', id, reason: 'WITHDRAWN' },
  );

/** Building before the period is over would freeze its last quarter without the cases still to come. */
const periodNotOver = (status: string, periodTo: string) =>
  new AppError(
    'INVALID_TRANSITION',
    `The period ends with the quarter of ${periodTo}: the extract can be built from ${periodClosesOn(periodTo)}, once no case can join it.`,
    { from: status, attempted: 'AVAILABLE', allowed: [], reason: 'PERIOD_NOT_OVER' },
  );

/** The event of a write on an extract, seen by its parties. */
const extractEvent = (doc: ExtractDoc, type: string, data: Record<string, unknown>) =>
  documentWrite({ aggregateType: 'extract', collection: 'extracts', doc, type, audience: extractAudience(doc), data });

export type ExtractService = ReturnType<typeof createExtractService>;

export function createExtractService(
  deps: Needs<'store' | 'executor' | 'log' | 'clock' | 'sealer' | 'keys' | 'cases' | 'plans' | 'organisations'> & {
    settings: ExtractSettings;
  },
) {
  const { store, executor, log, clock, sealer, organisations, settings } = deps;
  const Extracts: Model<ExtractDoc> = store.model('Extract', extractSchema);
  const Files: Model<ExtractFileDoc> = store.model('ExtractFile', extractFileSchema);
  const blocks = createBlockStore({ store, keys: deps.keys, clock, cases: deps.cases.model, plans: deps.plans.model });

  const fileContext = (extractId: string, fileId: string) => `extract:${extractId}:${fileId}`;

  async function load(principal: Principal, id: string): Promise<ExtractDoc> {
    const doc = await Extracts.findOne({ _id: id })
      .setOptions({ scope: extractScope(principal) })
      .lean<ExtractDoc>();
    if (!doc) throw notFound('Extract', id);
    return doc;
  }

  return {
    model: Extracts,
    settings,

    catalogue: catalogueEntries,

    status: (doc: ExtractDoc) => extractStatus(doc, clock.now()),

    async list(principal: Principal | null, args: { first?: number | null }): Promise<ExtractDoc[]> {
      const p = authorize(principal, 'extract.read');
      const first = pageSize(args.first, 50, MAX_EXTRACT_PAGE);
      if (first === 0) return []; // a limit of 0 is "no limit" to the store
      return Extracts.find({})
        .setOptions({ scope: extractScope(p) })
        .sort({ createdAt: -1, _id: -1 })
        .limit(first)
        .lean<ExtractDoc[]>();
    },

    async get(principal: Principal | null, id: string): Promise<ExtractDoc> {
      return load(authorize(principal, 'extract.read'), id);
    },

    async request(principal: Principal | null, rawInput: unknown, idempotencyKey?: string | null): Promise<ExtractDoc> {
      const p = authorize(principal, 'extract.request');
      const input = parseInput(requestInput, rawInput);
      const { event } = await executor.execute({
        principal: p,
        command: 'requestExtract',
        input,
        idempotencyKey,
        decide: async () => {
          const states = await organisations.getMany(input.memberStates);
          const problems = input.memberStates.flatMap((code, i) =>
            states[i]?.kind === 'MEMBER_STATE' && states[i]?.active
              ? []
              : [{ path: `memberStates.${i}`, message: `${code} is not a member state of the network` }],
          );
          if (problems.length > 0) throw badInput('An extract is asked of member states only.', problems);
          const now = clock.now();
          const doc: ExtractDoc = {
            _id: randomUUID(),
            researchBody: p.organisation.code,
            purpose: input.purpose,
            variables: input.variables,
            periodFrom: input.periodFrom,
            periodTo: input.periodTo,
            memberStates: input.memberStates,
            k: settings.k,
            parts: input.memberStates.map((memberState) => ({ memberState, status: 'PENDING', decidedAt: null, comment: null })),
            build: null,
            downloads: 0,
            lastDownloadedAt: null,
            ...firstVersion(now),
          };
          return extractEvent(doc, 'ExtractRequested', {});
        },
      });
      return writtenDocument<ExtractDoc>(event);
    },

    /** A data-protection officer approves or refuses the part of the extract that is its member state's. */
    async decide(
      principal: Principal | null,
      args: { id: string; decision: string; comment?: string | null; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<ExtractDoc> {
      const p = authorize(principal, 'extract.decide');
      const { decision, comment } = parseInput(decisionInput, { decision: args.decision, comment: args.comment });
      const { event } = await executor.execute({
        principal: p,
        command: 'decideExtract',
        input: { id: args.id, decision, comment, expectedVersion: args.expectedVersion },
        idempotencyKey,
        decide: async () => {
          const current = await load(p, args.id);
          expectVersion('Extract', args.id, current.version, args.expectedVersion);
          const part = current.parts.find((x) => x.memberState === p.organisation.code);
          if (!part) throw notFound('Extract', args.id);
          const attempted = decision === 'APPROVE' ? ('APPROVED' as const) : ('REFUSED' as const);
          if (part.status !== 'PENDING') throw invalidTransition(part.status, attempted, []);
          const now = clock.now();
          const parts = current.parts.map((x) =>
            x === part ? { ...x, status: attempted, decidedAt: now, comment: comment || null } : x,
          );
          return extractEvent(nextVersion(current, { parts }, now), 'ExtractPartDecided', {
            memberState: part.memberState,
            decision: attempted,
            comment: comment || null,
          });
        },
      });
      return writtenDocument<ExtractDoc>(event);
    },

    /** Builds the extract from the approved parts, once every part is decided. One build per request. */
    async build(
      principal: Principal | null,
      args: { id: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<ExtractDoc> {
      const p = authorize(principal, 'extract.request');
      let written: string | null = null;
      try {
        const { event } = await executor.execute({
          principal: p,
          command: 'buildExtract',
          input: args,
          idempotencyKey,
          decide: async () => {
            const current = await load(p, args.id);
            expectVersion('Extract', args.id, current.version, args.expectedVersion);
            const status = extractStatus(current, clock.now());
            if (status !== 'APPROVED') {
              throw invalidTransition(status, 'AVAILABLE', status === 'PENDING' ? ['REFUSED', 'APPROVED'] : []);
            }
            if (todayIso(clock.now()) < periodClosesOn(current.periodTo)) throw periodNotOver(status, current.periodTo);
            const approved = current.parts.filter((x) => x.status === 'APPROVED').map((x) => x.memberState);
            const released = await blocks.release(approved, quartersOf(current.periodFrom, current.periodTo));
            const built = tabulate(
              current,
              released.flatMap((b) => (b.cases ? [b.cases] : [])),
            );
            const withheld = released.filter((b) => !b.cases).map(({ memberState, quarter }) => ({ memberState, quarter }));
            const now = clock.now();
            const fileId = randomUUID();
            const expiresAt = new Date(now.getTime() + settings.ttlMs);
            // The file first, the event after: a build that loses its race (or crashes)
            // leaves a file nobody points at, which is deleted (below, or by housekeeping).
            await Files.create({
              _id: fileId,
              extractId: current._id,
              researchBody: current.researchBody,
              snapshots: released.filter((b) => b.cases).map((b) => b.snapshotId),
              sealed: sealer.sealBytes(gzipSync(Buffer.from(built.csv, 'utf8')), fileContext(current._id, fileId)),
              expiresAt,
              createdAt: now,
            });
            written = fileId;
            const build: ExtractBuild = {
              fileId,
              builtAt: now,
              expiresAt,
              rows: built.rows,
              casesConsidered: built.casesConsidered,
              suppressedRows: built.suppressedRows,
              generalisations: built.generalisations,
              withheld,
              withdrawnAt: null,
              sha256: createHash('sha256').update(built.csv, 'utf8').digest('hex'),
            };
            return extractEvent(nextVersion(current, { build }, now), 'ExtractBuilt', {
              approved,
              rows: build.rows,
              casesConsidered: build.casesConsidered,
              suppressedRows: build.suppressedRows,
              generalisations: build.generalisations,
              withheld,
              sha256: build.sha256,
              expiresAt,
            });
          },
        });
        const doc = writtenDocument<ExtractDoc>(event);
        if (written && doc.build?.fileId !== written) await dropFile(written);
        return doc;
      } catch (error) {
        if (written) await dropFile(written);
        throw error;
      }
    },

    /**
     * The CSV of an available extract, for its research body's researchers. The download is
     * recorded on the extract (an event) before the file is handed over.
     */
    async download(principal: Principal | null, id: string): Promise<{ extract: ExtractDoc; csv: Buffer; filename: string }> {
      const p = authorize(principal, 'extract.download');
      for (let attempt = 1; ; attempt += 1) {
        const current = await load(p, id);
        const build = current.build;
        if (!build) throw invalidTransition(extractStatus(current, clock.now()), 'DOWNLOADED', []);
        if (build.withdrawnAt) throw extractWithdrawn(id, new Date(build.withdrawnAt));
        if (new Date(build.expiresAt) <= clock.now()) throw extractExpired(id, new Date(build.expiresAt));
        const file = await Files.findOne({ _id: build.fileId })
          .setOptions({ scope: { filter: { researchBody: p.organisation.code } } })
          .lean<ExtractFileDoc>();
        if (!file) throw extractExpired(id, new Date(build.expiresAt));
        // Checked at each download, not only when a case is erased: a build that raced an
        // erasure, or a withdrawal that failed half-way, is caught here.
        if (!(await blocks.stillReleasable(file.snapshots ?? []))) {
          throw extractWithdrawn(id, (await withdraw(id, file._id)) ?? clock.now());
        }
        const csv = gunzipSync(sealer.openBytes(asBuffer(file.sealed), fileContext(id, file._id)));
        try {
          const { event } = await executor.execute({
            principal: p,
            command: 'downloadExtract',
            input: { id },
            decide: async () => {
              const now = clock.now();
              const next = nextVersion(current, { downloads: current.downloads + 1, lastDownloadedAt: now }, now);
              return extractEvent(next, 'ExtractDownloaded', { sha256: build.sha256, rows: build.rows });
            },
          });
          return { extract: writtenDocument<ExtractDoc>(event), csv, filename: `erin-extract-${id}.csv` };
        } catch (error) {
          if (await mayRetry(error, attempt)) continue;
          throw error;
        }
      }
    },

    /** Every step of an extract (request, decisions, build, downloads), oldest first. */
    async trail(principal: Principal | null, extract: ExtractDoc): Promise<StoredEvent[]> {
      await load(authorize(principal, 'extract.read'), extract._id);
      return log.history(extract._id);
    },

    /**
     * A case was erased: every built file that holds it is withdrawn (its extract says so, its
     * file is deleted). Files built before blocks were recorded on them are withdrawn when they
     * hold the case's member state. Answers how many.
     */
    async withdrawFilesOf(caseId: string, memberState: string): Promise<number> {
      const snapshots = new Set(await blocks.snapshotsOf(caseId));
      const now = clock.now();
      // The extracts that asked for the case's member state, built and still downloadable.
      const built = (
        await Extracts.find({ memberStates: memberState }, { _id: 1, build: 1, parts: 1 })
          .setOptions({ scope: SYSTEM })
          .lean<Pick<ExtractDoc, '_id' | 'build' | 'parts'>[]>()
      ).filter(
        (x) =>
          x.build &&
          !x.build.withdrawnAt &&
          new Date(x.build.expiresAt) > now &&
          x.parts.some((part) => part.memberState === memberState && part.status === 'APPROVED'),
      );
      let withdrawn = 0;
      for (const extract of built) {
        const file = await Files.findOne({ _id: extract.build!.fileId }, { _id: 1, snapshots: 1 })
          .setOptions({ scope: SYSTEM })
          .lean<Pick<ExtractFileDoc, '_id' | 'snapshots'>>();
        if (!file) continue;
        const recorded = file.snapshots ?? [];
        if (recorded.length > 0 && !recorded.some((s) => snapshots.has(s))) continue;
        await withdraw(extract._id, file._id);
        withdrawn += 1;
      }
      return withdrawn;
    },

    /** Housekeeping: expired files, files of builds that never committed, and snapshots never claimed. */
    async purge(): Promise<number> {
      const now = clock.now();
      const expired = await Files.deleteMany({ expiresAt: op({ $lte: now }) }).setOptions({ scope: SYSTEM });
      const old = await Files.find({ createdAt: op({ $lt: new Date(now.getTime() - ORPHAN_AGE_MS) }) }, { _id: 1, extractId: 1 })
        .setOptions({ scope: SYSTEM })
        .lean<Pick<ExtractFileDoc, '_id' | 'extractId'>[]>();
      let orphans = 0;
      for (const file of old) {
        const extract = await Extracts.findOne({ _id: file.extractId }).setOptions({ scope: SYSTEM }).lean<ExtractDoc>();
        if (extract?.build?.fileId !== file._id || extract.build.withdrawnAt) {
          await dropFile(file._id);
          orphans += 1;
        }
      }
      return expired.deletedCount + orphans + (await blocks.purge());
    },
  };

  /**
   * Marks the extract withdrawn (an event, as the system: who erased what is not the research
   * body's to see), then deletes the file. Answers when it was withdrawn (null: the extract
   * no longer points at this file).
   */
  async function withdraw(extractId: string, fileId: string): Promise<Date | null> {
    for (let attempt = 1; ; attempt += 1) {
      const current = await Extracts.findOne({ _id: extractId }).setOptions({ scope: SYSTEM }).lean<ExtractDoc>();
      const build = current?.build;
      if (!current || !build || build.fileId !== fileId) break;
      if (build.withdrawnAt) {
        await dropFile(fileId);
        return new Date(build.withdrawnAt);
      }
      try {
        const now = clock.now();
        await executor.execute({
          principal: SYSTEM_PRINCIPAL,
          command: 'withdrawExtract',
          input: { id: extractId },
          decide: async () =>
            extractEvent(nextVersion(current, { build: { ...build, withdrawnAt: now } }, now), 'ExtractWithdrawn', {
              reason: 'A_CASE_LEFT',
            }),
        });
        await dropFile(fileId);
        return now;
      } catch (error) {
        if (await mayRetry(error, attempt)) continue;
        throw error;
      }
    }
    await dropFile(fileId);
    return null;
  }

  async function dropFile(fileId: string): Promise<void> {
    await Files.deleteOne({ _id: fileId })
      .setOptions({ scope: SYSTEM })
      .catch(() => undefined);
  }
}
