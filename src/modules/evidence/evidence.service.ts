// Evidence: uploads streamed into encrypted chunks with a size limit enforced as the bytes
// arrive, typed by content, committed by one event; downloads only by the parties to the
// case, each one recorded in the event log before a byte is sent.
//
// The chunks are written before the event, the way GridFS writes chunks before the files
// document: an upload becomes visible only when its event (carrying the metadata and the
// SHA-256 of the content) commits. Chunks of an upload that fails are deleted at once; the
// housekeeping job removes any left by a crash.
import { createHash, randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { authorize, caseRecordParties, caseScope, Audience } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { AppError, badInput, caseErased, forbidden, notFound } from '../../errors.ts';
import { fact, writtenDocument } from '../../events/executor.ts';
import { asBuffer } from '../../store/store.ts';
import { matchesScope, op, SYSTEM } from '../../store/tenant.ts';
import { parseInput, text, todayIso } from '../../validation.ts';
import { assertConsentFor } from '../cases/case.consent.ts';
import { recordFieldsOf, type CaseDoc } from '../cases/case.model.ts';
import { storeOrder } from '../cases/case.list-index.ts';
import { recordsOfCaseById, recordsOfCases } from '../cases/case.store.ts';
import { assertStatusAllows, SINCE_ARRIVAL_STATUSES } from '../cases/case.state.ts';
import {
  CHUNK_SIZE,
  EVIDENCE_KINDS,
  evidenceChunkSchema,
  evidenceSchema,
  type EvidenceChunkDoc,
  type EvidenceDoc,
  type EvidenceKind,
} from './evidence.model.ts';
import { fileTypeOf, safeFilename, sniff, SNIFF_BYTES, type FileType } from './file-type.ts';
import { firstVersion } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';

/** From arrival on a case has things to prove; before it nobody has paid for anything. */
export const EVIDENCE_STATUSES = SINCE_ARRIVAL_STATUSES;

const uploadMeta = z.object({
  kind: z.enum(EVIDENCE_KINDS),
  filename: text(255).nullish(),
});

export const evidenceId = z.uuid('an evidence id');

/** Why an upload was refused, for the HTTP status the upload endpoint answers with. */
export type UploadRefusal = 'TOO_LARGE' | 'UNSUPPORTED_TYPE' | 'EMPTY';

export const fileTooLarge = (limitBytes: number) =>
  new AppError('BAD_USER_INPUT', `The file is larger than the upload limit of ${limitBytes} bytes.`, {
    reason: 'TOO_LARGE' satisfies UploadRefusal,
    limitBytes,
  });

const unsupportedType = () =>
  new AppError('BAD_USER_INPUT', 'Only PDF, JPEG and PNG files are accepted (judged by their content, not their name).', {
    reason: 'UNSUPPORTED_TYPE' satisfies UploadRefusal,
  });

const emptyFile = () => new AppError('BAD_USER_INPUT', 'The file is empty.', { reason: 'EMPTY' satisfies UploadRefusal });

/** An evidence document with its name and digest opened (the digest is null once its case was erased). */
export type OpenedEvidence = Omit<EvidenceDoc, 'filename' | 'sha256'> & { filename: string; sha256: string | null };

const kindName = (kind: EvidenceKind) => kind.toLowerCase().replace(/_/g, '-');

export type Upload = {
  readonly id: string;
  /** Takes the next bytes; throws (and the caller aborts) past the limit or on a refused type. */
  write(piece: Buffer): Promise<void>;
  /** Commits the upload; a retry with the same idempotency key answers with the first upload. */
  finish(idempotencyKey?: string | null): Promise<{ evidence: OpenedEvidence; replayed: boolean }>;
  /** Removes whatever was stored of it. */
  abort(): Promise<void>;
};

export type EvidenceService = ReturnType<typeof createEvidenceService>;

export function createEvidenceService(
  deps: Needs<'store' | 'executor' | 'clock' | 'sealing' | 'cases'> & { uploadLimitBytes: number },
) {
  const { store, executor, clock, sealing, cases, uploadLimitBytes } = deps;
  const Evidence: Model<EvidenceDoc> = store.model('Evidence', evidenceSchema);
  const Chunks: Model<EvidenceChunkDoc> = store.model('EvidenceChunk', evidenceChunkSchema);
  const chunkContext = (id: string, n: number) => `evidence:${id}:${n}`;
  const metaContext = (id: string, field: 'filename' | 'sha256') => `evidence:${id}:${field}`;

  /** The file's name and digest, opened; once its case was erased a name made from its kind and type, and no digest. */
  async function opened(doc: EvidenceDoc): Promise<OpenedEvidence> {
    const key = await sealing.keys.forReading(doc.caseId);
    const open = (field: 'filename' | 'sha256', sealed: string | null | undefined, clear: string | undefined) =>
      sealed ? key.openText(metaContext(doc._id, field), sealed) : (clear ?? null);
    const type = fileTypeOf(doc.contentType);
    return {
      ...doc,
      filename: open('filename', doc.filenameSealed, doc.filename) ?? safeFilename(null, type, kindName(doc.kind)),
      sha256: open('sha256', doc.sha256Sealed, doc.sha256),
    };
  }

  async function deleteChunks(id: string): Promise<void> {
    await Chunks.collection.deleteMany({ evidenceId: id });
  }

  async function loadCaseForUpload(p: Principal, caseId: string): Promise<CaseDoc & { partner: string }> {
    // Whether its key is destroyed is asked of the store, as every write on a case does: an
    // erasure destroys it first, and this gateway may still hold it in memory (the file would
    // be accepted, sealed under a key that is gone).
    const [c, destroyed] = await Promise.all([cases.loadFor(p, caseId), sealing.keys.destroyed(caseId)]);
    if (!c) throw notFound('Case', caseId);
    if (c.erasedAt || destroyed) throw caseErased(caseId);
    assertStatusAllows(c.status, 'uploadEvidence', EVIDENCE_STATUSES);
    // A partner's files (receipts, certificates, photos) are personal content shared with the state.
    if (p.organisation.kind === 'PARTNER') assertConsentFor(c, 'REINTEGRATION_SUPPORT', todayIso(clock.now()), 'uploadEvidence');
    return c as CaseDoc & { partner: string };
  }

  return {
    uploadLimitBytes,
    opened,

    /**
     * A file's name and digest, opened for a reader: only when the reader's tenant scope holds
     * the file (the state, the partner), wherever the file was reached (a case, the feed).
     */
    async openedFor(principal: Principal | null, doc: EvidenceDoc): Promise<OpenedEvidence> {
      const p = authorize(principal, 'evidence.read');
      const scope = caseScope(p);
      if (scope !== SYSTEM && !matchesScope(doc, scope.filter)) throw forbidden('read Evidence');
      return opened(doc);
    },

    /** Starts an upload on a case: authorised, the case loaded through the tenant policy. */
    async begin(principal: Principal | null, caseId: string, rawMeta: unknown): Promise<Upload> {
      const p = authorize(principal, 'evidence.upload');
      const meta = parseInput(uploadMeta, rawMeta);
      const kase = await loadCaseForUpload(p, caseId);
      const key = await sealing.keyForWriting(kase._id);
      const id = randomUUID();
      const hash = createHash('sha256');
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let size = 0;
      let n = 0;
      let type: FileType | null = null;

      async function writeChunk(plain: Buffer): Promise<void> {
        await Chunks.collection.insertOne({
          _id: `${id}:${n}` as never,
          evidenceId: id,
          caseId: kase._id,
          memberState: kase.memberState,
          partner: kase.partner,
          sharedWithPartner: kase.sharedWithPartner,
          n,
          data: key.sealBytes(chunkContext(id, n), plain),
          createdAt: clock.now(),
        });
        n += 1;
      }

      async function flush(all: boolean): Promise<void> {
        while (pendingBytes >= CHUNK_SIZE || (all && pendingBytes > 0)) {
          const joined = Buffer.concat(pending);
          const take = Math.min(CHUNK_SIZE, joined.length);
          await writeChunk(joined.subarray(0, take));
          const rest = joined.subarray(take);
          pending = rest.length > 0 ? [rest] : [];
          pendingBytes = rest.length;
        }
      }

      function checkType(final: boolean): void {
        if (type || (!final && size < SNIFF_BYTES)) return;
        const head = Buffer.concat(pending).subarray(0, SNIFF_BYTES);
        type = sniff(head);
        if (!type) throw unsupportedType();
      }

      return {
        id,
        async write(piece) {
          size += piece.length;
          if (size > uploadLimitBytes) throw fileTooLarge(uploadLimitBytes);
          hash.update(piece);
          pending.push(piece);
          pendingBytes += piece.length;
          // The type is known from the first bytes, before anything is stored.
          checkType(false);
          await flush(false);
        },
        async finish(idempotencyKey) {
          try {
            if (size === 0) throw emptyFile();
            checkType(true);
            await flush(true);
            const sha256 = hash.digest('hex');
            const fileType = type!;
            const { event, replayed } = await executor.execute({
              principal: p,
              command: 'uploadEvidence',
              input: { caseId, kind: meta.kind, filename: meta.filename ?? null, size, sha256 },
              idempotencyKey,
              decide: async () => {
                const c = await loadCaseForUpload(p, caseId);
                const now = clock.now();
                const doc: EvidenceDoc = {
                  _id: id,
                  ...recordFieldsOf(c),
                  kind: meta.kind,
                  filenameSealed: key.seal(
                    metaContext(id, 'filename'),
                    safeFilename(meta.filename, fileType, kindName(meta.kind)),
                  ),
                  contentType: fileType.contentType,
                  size,
                  sha256Sealed: key.seal(metaContext(id, 'sha256'), sha256),
                  chunkSize: CHUNK_SIZE,
                  chunkCount: n,
                  uploadedBy: { organisation: p.organisation.code, subject: p.subject },
                  uploadedAt: now,
                  ...firstVersion(now),
                };
                // On the case's list of files before the upload commits, as its chunks are: a
                // crash in between leaves a listed id of no file (skipped), never a file unlisted.
                await cases.files.add(c._id, id);
                return {
                  aggregateType: 'evidence',
                  aggregateId: id,
                  caseId: c._id,
                  version: 1,
                  type: 'EvidenceUploaded',
                  // A file is a record of the case: its parties are told, never its units.
                  audience: caseRecordParties(c),
                  data: { kind: doc.kind, contentType: doc.contentType, size },
                  changes: [{ collection: 'evidence', doc }],
                };
              },
            });
            const evidence = writtenDocument<EvidenceDoc>(event);
            // A retry of an upload that already committed: keep the first copy only.
            if (evidence._id !== id) await deleteChunks(id);
            return { evidence: await opened(evidence), replayed };
          } catch (error) {
            await deleteChunks(id).catch(() => undefined);
            throw error;
          }
        },
        async abort() {
          await deleteChunks(id);
        },
      };
    },

    /** The whole upload from bytes in memory (the demo seed, tests). */
    async put(
      principal: Principal | null,
      caseId: string,
      meta: { kind: EvidenceKind; filename?: string | null },
      bytes: Buffer,
      idempotencyKey?: string | null,
    ): Promise<OpenedEvidence> {
      const upload = await this.begin(principal, caseId, meta);
      try {
        for (let at = 0; at < bytes.length; at += 64 * 1024) await upload.write(bytes.subarray(at, at + 64 * 1024));
      } catch (error) {
        await upload.abort();
        throw error;
      }
      return (await upload.finish(idempotencyKey)).evidence;
    },

    /**
     * Opens a file for download by a party to its case. The download is recorded in the
     * event log (with the case id, so it is part of the case's audit trail) before any
     * content is read; the content is checked against its chunk count and digest.
     */
    async download(principal: Principal | null, id: string): Promise<{ evidence: OpenedEvidence; body: AsyncGenerator<Buffer> }> {
      const p = authorize(principal, 'evidence.read');
      const scope = caseScope(p);
      const parsed = evidenceId.safeParse(id);
      const found = parsed.success
        ? await Evidence.findOne({ _id: parsed.data }).setOptions({ scope }).lean<EvidenceDoc>()
        : null;
      if (!found) throw notFound('Evidence', id);
      // An erased case's files are gone with its key.
      const key = await sealing.keys.forReading(found.caseId);
      if (key.erased) throw notFound('Evidence', id);
      if (p.organisation.kind === 'PARTNER') {
        // The partner reads the files of a case only while the returnee's consent covers it.
        const kase = await cases.loadFor(p, found.caseId);
        if (!kase) throw notFound('Evidence', id);
        assertConsentFor(kase, 'REINTEGRATION_SUPPORT', todayIso(clock.now()), 'downloadEvidence');
      }
      const evidence = await opened(found);
      await executor.recordFacts(p, [
        fact({
          aggregateType: 'evidence-download',
          caseId: evidence.caseId,
          type: 'EvidenceDownloaded',
          // An audited read: in the case's audit trail, never in a feed or webhook.
          audience: [Audience.auditOnly(evidence.memberState), Audience.auditOnly(evidence.partner)],
          data: { evidenceId: evidence._id, kind: evidence.kind, size: evidence.size },
        }),
      ]);
      async function* body(): AsyncGenerator<Buffer> {
        const digest = createHash('sha256');
        const batch = 4;
        for (let first = 0; first < evidence.chunkCount; first += batch) {
          const ids = Array.from(
            { length: Math.min(batch, evidence.chunkCount - first) },
            (_, i) => `${evidence._id}:${first + i}`,
          );
          const chunks = await Chunks.find({ _id: op({ $in: ids }) })
            .setOptions({ scope })
            .lean<EvidenceChunkDoc[]>();
          const byN = new Map(chunks.map((c) => [c.n, c]));
          for (let n = first; n < first + ids.length; n += 1) {
            const chunk = byN.get(n);
            if (!chunk) throw new Error(`evidence ${evidence._id} is missing chunk ${n}`);
            const plain = key.openBytes(chunkContext(evidence._id, n), asBuffer(chunk.data));
            if (!plain) throw new Error(`evidence ${evidence._id}: its case was erased during the download`);
            digest.update(plain);
            yield plain;
          }
        }
        if (digest.digest('hex') !== evidence.sha256) throw new Error(`evidence ${evidence._id} does not match its digest`);
      }
      return { evidence, body: body() };
    },

    /**
     * A file's whole content for its case's subject-access export (which is audited as a
     * whole); null once the case was erased.
     */
    async contentOf(doc: Pick<EvidenceDoc, '_id' | 'caseId'>): Promise<Buffer | null> {
      const key = await sealing.keys.forReading(doc.caseId);
      if (key.erased) return null;
      const chunks = await Chunks.find({ evidenceId: doc._id })
        .setOptions({ scope: SYSTEM })
        .sort({ evidenceId: 1, n: 1 })
        .lean<EvidenceChunkDoc[]>();
      const parts = chunks.map((c) => key.openBytes(chunkContext(doc._id, c.n), asBuffer(c.data)));
      return parts.every((part) => part !== null) ? Buffer.concat(parts) : null;
    },

    /**
     * For writes that cite a file (spend proof, handover certificate): the file must be on
     * the same case and of one of the kinds given. Runs inside the citing write's decision.
     */
    async requireOnCase(
      principal: Principal,
      caseId: string,
      id: string,
      path: string,
      kinds?: readonly EvidenceKind[],
    ): Promise<EvidenceDoc> {
      const parsed = parseInput(evidenceId, id, path);
      const doc = await Evidence.findOne({ _id: parsed })
        .setOptions({ scope: caseScope(principal) })
        .lean<EvidenceDoc>();
      if (doc?.caseId !== caseId) {
        throw badInput(`No evidence ${id} was uploaded to this case.`, [{ path, message: 'not evidence of this case' }]);
      }
      if (kinds && !kinds.includes(doc.kind)) {
        throw badInput(`Evidence ${id} is a ${doc.kind}; this needs a ${kinds.join(' or ')}.`, [
          { path, message: `must be a ${kinds.join(' or ')}` },
        ]);
      }
      return doc;
    },

    /**
     * Files of many cases, oldest first, within the principal's scope. A case's own page has
     * each of its files read by primary key from the case's list (case.files.ts), where a query
     * by case reads the whole collection on the embedded store; a page of cases (one query,
     * whatever its size), or a case stored before cases had a list, is read by case.
     */
    async ofCases(principal: Principal, caseIds: readonly string[]): Promise<EvidenceDoc[][]> {
      const sort = { caseId: 1, uploadedAt: 1 } as const;
      const only = caseIds.length === 1 ? caseIds[0]! : undefined;
      const head = only === undefined ? null : await cases.files.head(only);
      if (only === undefined || !head) return recordsOfCases(Evidence, principal, caseIds, { sort });
      // What was listed after the head is read alongside the head's files.
      const [listed, newest] = await Promise.all([
        recordsOfCaseById(Evidence, principal, only, head.ids, sort),
        cases.files.after(only, head),
      ]);
      const later = newest.ids.filter((id) => !head.ids.includes(id));
      if (later.length === 0) return [listed];
      const added = await recordsOfCaseById(Evidence, principal, only, later, sort);
      return [[...listed, ...added].sort(storeOrder<EvidenceDoc>(sort))];
    },

    /**
     * Removes chunks of uploads that never committed (a crash between chunks and event).
     * Looks at chunks between two days and one hour old, so an upload in progress is never
     * touched and each chunk is examined by a bounded number of runs.
     */
    async purgeAbandonedChunks(): Promise<number> {
      const now = clock.now().getTime();
      const chunks = await Chunks.find({
        createdAt: op({ $gte: new Date(now - 2 * 86_400_000), $lt: new Date(now - 3_600_000) }),
      })
        .setOptions({ scope: SYSTEM })
        .select({ evidenceId: 1 })
        .limit(10_000)
        .lean<Pick<EvidenceChunkDoc, 'evidenceId'>[]>();
      const ids = [...new Set(chunks.map((c) => c.evidenceId))];
      if (ids.length === 0) return 0;
      const committed = await Evidence.find({ _id: op({ $in: ids }) })
        .setOptions({ scope: SYSTEM })
        .select({ _id: 1 })
        .lean<{ _id: string }[]>();
      const known = new Set(committed.map((d) => d._id));
      const abandoned = ids.filter((id) => !known.has(id));
      for (const id of abandoned) await deleteChunks(id);
      return abandoned.length;
    },
  };
}
