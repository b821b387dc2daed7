// The case kernel's store: the Case and reference models, reads through the tenant policy,
// the one reader of a case's records, reference numbering, and the one write on a case
// that every module uses (load in scope → version check → decide → one event that bumps
// the case's version and carries the case and any child documents).
import type { Model } from 'mongoose';
import { caseScope, caseWriteAudience } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import { AppError, caseErased, conflict, notFound } from '../../errors.ts';
import type { DocumentChange, StoredEvent } from '../../events/event.model.ts';
import { expectVersion, type CommandExecutor } from '../../events/executor.ts';
import { insertInOrder, isDuplicateKey, type Store } from '../../store/store.ts';
import { idsFilter, matchesScope, op, SYSTEM, type TenantScope } from '../../store/tenant.ts';
import { CaseVersions } from './case.cache.ts';
import { createCaseFiles, FILE_LIST_VERSIONS } from './case.files.ts';
import { maySeeSpecialCategory, withoutSpecialCategory } from './case.sealing.ts';
import { todayIso } from '../../validation.ts';
import { CaseListIndex, storeOrder } from './case.list-index.ts';
import type { ConsentStatus } from './case.consent.ts';
import { caseListEntrySchema, LIST_ENTRY_PROJECTION, listEntryOf, type CaseListEntry } from './case.list-entry.ts';
import {
  caseReferenceSchema,
  caseSchema,
  noRecordIds,
  RECORD_LISTS,
  withImplementationDefaults,
  withTeamOf,
  type CaseDoc,
  type RecordIds,
  type CaseReferenceDoc,
} from './case.model.ts';

/** Keeps a case's deadline data current on every write (src/modules/deadlines implements it). */
export type DeadlinePlanner = (c: CaseDoc, now: Date) => Promise<CaseDoc>;

/**
 * The five-year rule on every write that records a case's assisted departure
 * (src/modules/eligibility/departure-claims.ts): claims it for the person, or refuses.
 */
export type DepartureGuard = (
  before: CaseDoc,
  after: CaseDoc,
  now: Date,
) => Promise<{ release: (error: unknown) => Promise<void> } | null>;

/** What a write on a case decides: the event type, the case's next state and any other documents. */
export type CaseDecision = { type: string; next: CaseDoc; data?: Record<string, unknown>; extra?: DocumentChange[] };

/**
 * A case as one event left it, with the other documents that event wrote (by id). A
 * mutation's answer and a feed entry are such cases, so their plan and final report show
 * as that event left them, also when a retried request is answered from the log later.
 * A case read from the store has no `alongside`: its records are loaded as they are now.
 */
export type CaseView = CaseDoc & { readonly alongside?: ReadonlyMap<string, DocumentChange> };

/** What every write on a case answers (modules add the document they wrote: `{ case, plan }`, `{ case, update }`…). */
export type CasePayload = { case: CaseView };

/** The case of an event's changes, carrying the event's other documents; undefined when it wrote no such case. */
export function caseFromChanges(changes: readonly DocumentChange[], id: string): CaseView | undefined {
  const written = changes.find((ch) => ch.collection === 'cases' && ch.doc._id === id)?.doc as CaseDoc | undefined;
  if (!written) return undefined;
  return { ...written, alongside: new Map(changes.filter((ch) => ch.doc !== written).map((ch) => [ch.doc._id, ch])) };
}

/**
 * A record written together with this case by the event it comes from, if any, and if the
 * reader's tenant scope holds it: a record carried in an event is shown to whom a read of
 * the record would show it (a unit's scope holds no record of a case), never more.
 */
export function writtenAlongside<T>(c: CaseView, id: string, reader: Principal): T | undefined {
  const doc = c.alongside?.get(id)?.doc;
  if (!doc) return undefined;
  const scope = caseScope(reader);
  return scope === SYSTEM || matchesScope(doc, scope.filter) ? (doc as T) : undefined;
}

/** The documents of one collection written together with this case by the event it comes from. */
export function writtenIn<T>(c: CaseView, collection: string): T[] {
  return [...(c.alongside?.values() ?? [])].filter((ch) => ch.collection === collection).map((ch) => ch.doc as T);
}

/**
 * The one reader of a case's records (plans, progress updates, files, shipments, surveys,
 * final reports) for a page of cases: one query within the caller's scope, grouped by case
 * in the order asked. `keyedByCase`: the record's id is its case's id (one record per case),
 * so a single case stays a primary-key lookup.
 */
export async function recordsOfCases<T extends { _id: string; caseId: string }>(
  model: Model<T>,
  principal: Principal,
  caseIds: readonly string[],
  options: { sort?: Record<string, 1 | -1>; keyedByCase?: boolean } = {},
): Promise<T[][]> {
  const filter = options.keyedByCase ? idsFilter(caseIds) : { caseId: op({ $in: [...caseIds] }) };
  const query = model.find(filter).setOptions({ scope: caseScope(principal) });
  const docs = await (options.sort ? query.sort(options.sort) : query).lean<T[]>();
  return caseIds.map((id) => docs.filter((d) => d.caseId === id));
}

/**
 * A page of cases' records of a collection whose ids a case keeps (RECORD_LISTS). One case
 * that keeps them (a case's own page) has each read by primary key, which the embedded store
 * answers from its index where a query by `caseId` reads the whole collection (seconds at a
 * network's tens of thousands of updates); otherwise, and for a page of cases (one query,
 * whatever its size), recordsOfCases.
 */
export async function recordsOfCaseDocs<T extends { _id: string; caseId: string }>(
  model: Model<T>,
  collection: (typeof RECORD_LISTS)[number],
  principal: Principal,
  cases: readonly Pick<CaseDoc, '_id' | 'recordIds'>[],
  sort: Record<string, 1 | -1>,
): Promise<T[][]> {
  const only = cases.length === 1 ? cases[0] : undefined;
  const ids = only?.recordIds?.[collection];
  if (!only || !ids)
    return recordsOfCases(
      model,
      principal,
      cases.map((c) => c._id),
      { sort },
    );
  return [await recordsOfCaseById(model, principal, only._id, ids, sort)];
}

/**
 * One case's records by their ids (a list the case keeps), each read by primary key within
 * the principal's scope: the tenant policy keeps it a primary-key lookup and applies the scope
 * to the record found. Records of another case, or not found, are left out; the rest come in
 * the order the store would sort them.
 */
export async function recordsOfCaseById<T extends { _id: string; caseId: string }>(
  model: Model<T>,
  principal: Principal,
  caseId: string,
  ids: readonly string[],
  sort: Record<string, 1 | -1>,
): Promise<T[]> {
  const scope = caseScope(principal);
  const docs: (T | null)[] = await Promise.all(
    ids.map(async (id) => (await model.findOne({ _id: id }).setOptions({ scope }).lean()) as T | null),
  );
  return docs.filter((doc): doc is T => doc !== null && doc.caseId === caseId).sort(storeOrder<T>(sort));
}

/**
 * The record ids a case keeps after a write (CaseDoc.recordIds): its own, and those of the
 * listed records the write wrote. None for a case stored before it kept them: its list is
 * not known whole, so its records are read by `caseId` as before.
 */
function keptRecordIds(current: CaseDoc, written: readonly DocumentChange[] | undefined): Pick<CaseDoc, 'recordIds'> {
  if (!current.recordIds) return {};
  const recordIds = { ...current.recordIds };
  for (const change of written ?? []) {
    const collection = change.collection as (typeof RECORD_LISTS)[number];
    if (!RECORD_LISTS.includes(collection) || change.doc.caseId !== current._id) continue;
    const ids = recordIds[collection] ?? [];
    if (!ids.includes(change.doc._id)) recordIds[collection] = [...ids, change.doc._id];
  }
  return { recordIds };
}

export type WriteCaseRequest = {
  principal: Principal;
  command: string;
  id: string;
  expectedVersion: number;
  input: unknown;
  idempotencyKey?: string | null | undefined;
  decide: (current: CaseDoc, now: Date) => Promise<CaseDecision> | CaseDecision;
  /** Where the case is loaded from: the principal's cases unless a background job says SYSTEM. */
  scope?: TenantScope;
  /**
   * The erasure's own write, the one write that goes through once the case's key is
   * destroyed (which is the erasure's first step: every other write is refused from then on).
   */
  erasing?: boolean;
};

/**
 * The arguments of a mutation that records something on a case (a progress update, a
 * shipment step, a visit, the final report): the case, the client's input and the version
 * of the case the client read.
 */
export type CaseInputArgs = { caseId: string; input: unknown; expectedVersion: number };

export type CaseStore = ReturnType<typeof createCaseStore>;

/** The markers of the list entries' backfills (see backfillEntries): the entries, then their deadline. */
const ENTRIES_MIGRATION = 'case-list-entries';
const DEADLINES_MIGRATION = 'case-list-deadlines';
/** The marker of the cases' record ids' backfill (see backfillRecordIds). */
const RECORD_IDS_MIGRATION = 'case-record-ids';
/** The marker of the cases' lists of files' backfill (see backfillFileLists). */
const FILE_LISTS_MIGRATION = 'case-file-lists';

export function createCaseStore(deps: {
  store: Store;
  executor: CommandExecutor;
  clock: Clock;
  planDeadlines?: DeadlinePlanner;
  departures?: DepartureGuard;
  /** Whether the case's data key was destroyed, asked of the store (CaseKeys.destroyed): an erasure is under way. */
  keyDestroyed?: (caseId: string) => Promise<boolean>;
  /**
   * The case's newest version in the log when it is past `version`, its projection finished
   * first (EventLog.eventsPast, then reconcile), so a retry at that version decides on it.
   */
  versionPast?: (caseId: string, version: number) => Promise<number | undefined>;
}) {
  const { store, executor, clock } = deps;
  const keyDestroyed = deps.keyDestroyed ?? (async () => false);
  const versionPast = deps.versionPast ?? (async () => undefined);
  const planDeadlines: DeadlinePlanner = deps.planDeadlines ?? (async (c) => c);
  const Cases: Model<CaseDoc> = store.model('Case', caseSchema);
  const References: Model<CaseReferenceDoc> = store.model('CaseReference', caseReferenceSchema);
  const Entries: Model<CaseListEntry> = store.model('CaseListEntry', caseListEntrySchema);
  const versions = new CaseVersions();
  const files = createCaseFiles(store);
  // Whole collection, once, in `_id` order (which every store walks by its primary key).
  const listIndex = new CaseListIndex(() =>
    Entries.find({}).setOptions({ scope: SYSTEM }).sort({ _id: 1 }).lean<CaseListEntry[]>().exec(),
  );
  const lastReference = new Map<string, number>();

  // One-time migrations of this store's documents, each recorded by a marker once it ran.
  const markers = store.connection.collection<{ _id: string; at: Date }>('migrations');
  const migrated = async (id: string) => (await markers.findOne({ _id: id }, store.queryOptions)) !== null;
  const markMigrated = (id: string) =>
    markers.insertOne({ _id: id, at: clock.now() }).then(
      () => undefined,
      (error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      },
    );

  async function load(scope: TenantScope, id: string): Promise<CaseDoc | null> {
    const doc = await Cases.findOne({ _id: id }).setOptions({ scope }).lean<CaseDoc>();
    return doc ? withImplementationDefaults(doc) : null;
  }

  /** The number of the newest reference claimed with this prefix (0 when none). */
  async function newestReference(prefix: string): Promise<number> {
    const [newest] = await References.collection
      .find({ _id: { $gte: prefix, $lt: `${prefix}~` } as never }, { ...store.queryOptions, sort: { _id: -1 }, limit: 1 })
      .toArray();
    return newest ? Number(String(newest._id).slice(prefix.length)) : 0;
  }

  /**
   * The one way every module writes on an existing case: loaded through the tenant policy,
   * version-checked, committed as one event that bumps the case's version and carries the
   * case and any child documents. Answers the case as that event left it.
   */
  async function write(request: WriteCaseRequest): Promise<CaseView> {
    const { principal, id, expectedVersion } = request;
    const scope = request.scope ?? caseScope(principal);
    // A departure claimed by this attempt, released if the write then fails (see DepartureGuard).
    let departure: Awaited<ReturnType<DepartureGuard>> = null;
    const writing = executor.execute({
      principal,
      command: request.command,
      input: { id, expectedVersion, input: request.input },
      idempotencyKey: request.idempotencyKey,
      scope,
      decide: async () => {
        // Both by primary key, at once: the case, and whether its key is destroyed.
        const [current, destroyed] = await Promise.all([load(scope, id), request.erasing ? false : keyDestroyed(id)]);
        if (!current) throw notFound('Case', id);
        // An erased case takes no more writes (another gateway may still hold its key for a
        // moment); nor does a case being erased: its key is destroyed first, and a write that
        // went on meanwhile would outrun the erasure (and be sealed under a key that is gone).
        if (current.erasedAt || destroyed) throw caseErased(id);
        expectVersion('Case', id, current.version, expectedVersion);
        const now = clock.now();
        const decision = await decideOn(current, () => request.decide(current, now));
        const next: CaseDoc = await planDeadlines(
          { ...decision.next, ...keptRecordIds(current, decision.extra), version: current.version + 1, updatedAt: now },
          now,
        );
        // Last before the log: the claim is the one step that others see before the commit.
        if (deps.departures) departure = await deps.departures(current, next, now);
        return {
          aggregateType: 'case',
          aggregateId: id,
          caseId: id,
          version: next.version,
          type: decision.type,
          audience: caseWriteAudience(current, next),
          data: decision.data ?? {},
          // The case last: the projection writes in this order, so whoever reads the case
          // at its new version also finds the other documents of that version (a write
          // deciding on a child document reads the case first, then the child).
          changes: [...(decision.extra ?? []), { collection: 'cases', doc: next }],
        };
      },
    });
    const { event, replayed } = await writing.catch(async (error: unknown) => {
      await departure?.release(error).catch(() => undefined);
      throw error;
    });
    const written = writtenCase(event, id);
    return replayed && scope !== SYSTEM ? asSeenNow(principal, written, await load(scope, id)) : written;
  }

  /**
   * Runs a write's rule on the case as read. Its refusal may be of a state the case never had:
   * a write that won the race meanwhile projects its records before the case (see `write`), so
   * the rule can read the case at its version and a record (the plan, say) at the next, and
   * refuse the mix ("no plan awaits a decision" while the case says PLAN_SUBMITTED). A case
   * that moved on meanwhile answers CONFLICT with its version, as every write that lost the
   * race does, so the client reloads and decides again; only a refusal of the case as it
   * still stands is answered as the rule gave it.
   */
  async function decideOn(current: CaseDoc, decide: () => Promise<CaseDecision> | CaseDecision): Promise<CaseDecision> {
    try {
      return await decide();
    } catch (error) {
      if (error instanceof AppError && error.code !== 'CONFLICT') {
        const moved = await versionPast(current._id, current.version);
        if (moved !== undefined) {
          throw conflict(`case ${current._id} was changed by someone else (now at version ${moved}); reload and retry.`, moved);
        }
      }
      throw error;
    }
  }

  /**
   * A replayed write's case (the first answer: that version, with the records it wrote) as
   * the caller may see it now: NOT_FOUND once it may not see the case at all (the executor's
   * replay check has refused that already), and with what decides its fields taken from the
   * case now — the team and units (a unit's fields by its role), and whether it may see the
   * special categories (the feed's rule: who may see them now, not who might then).
   */
  function asSeenNow(principal: Principal, written: CaseView, current: CaseDoc | null): CaseView {
    if (!current) throw notFound('Case', written._id);
    const view: CaseView = withTeamOf(written, current);
    return maySeeSpecialCategory(principal, current, todayIso(clock.now())) ? view : withoutSpecialCategory(view);
  }

  return {
    /** The Case model, for readers that walk cases with queries of their own (lists, deadlines, statistics). */
    model: Cases,

    load,

    /** The case's deadline data brought up to date (every write does it; registration too). */
    planDeadlines,

    /** A case as the principal may see it, or null. */
    async loadFor(principal: Principal, id: string): Promise<CaseDoc | null> {
      const doc = await load(caseScope(principal), id);
      if (doc) versions.put(doc);
      return doc;
    },

    /** Batch load for DataLoaders, within the principal's scope. */
    async getMany(principal: Principal, ids: readonly string[]): Promise<(CaseDoc | null)[]> {
      const docs = await Cases.find(idsFilter(ids))
        .setOptions({ scope: caseScope(principal) })
        .lean<CaseDoc[]>();
      const byId = new Map(docs.map((d) => [d._id, withImplementationDefaults(d)]));
      return ids.map((id) => byId.get(id) ?? null);
    },

    /**
     * The version a case is stored at (0 when it is not stored yet), whoever may see it: only
     * the number, so a reader holding a newer event of the case (the log is ahead of the
     * documents until the event's projection is written) can tell that the store is behind it.
     */
    async storedVersion(id: string): Promise<number> {
      const doc = await Cases.findOne({ _id: id })
        .setOptions({ scope: SYSTEM })
        .select({ version: 1 })
        .lean<{ version: number }>();
      return doc?.version ?? 0;
    },

    /** Cases remembered by version (list pages); this gateway's writes are observed into it. */
    versions,

    /** Each case's list of its files (evidence), by primary key (case.files.ts). */
    files,

    /** Every case's list entry, in memory, kept by the log's follower (lists choose their pages there). */
    listIndex,

    /**
     * The cases of a page of list entries, in their order: those remembered at the entry's
     * version from memory, the others in one query within the principal's scope. A case no
     * longer in scope is left out; one changed since its entry was read is given as it is now.
     */
    async ofEntries(principal: Principal, entries: readonly CaseListEntry[]): Promise<CaseDoc[]> {
      const scope = caseScope(principal);
      const inScope = (doc: CaseDoc) => scope === SYSTEM || matchesScope(doc, scope.filter);
      const found = new Map<string, CaseDoc>();
      for (const entry of entries) {
        const doc = versions.get(entry._id, entry.version);
        if (doc && inScope(doc)) found.set(entry._id, doc);
      }
      const missing = entries.filter((e) => !found.has(e._id)).map((e) => e._id);
      if (missing.length > 0) {
        const docs = await Cases.find(idsFilter(missing)).setOptions({ scope }).lean<CaseDoc[]>();
        for (const raw of docs) {
          const doc = withImplementationDefaults(raw);
          versions.put(doc);
          found.set(doc._id, doc);
        }
      }
      return entries.flatMap((e) => found.get(e._id) ?? []);
    },

    /**
     * Writes the list entries of cases stored before lists had entries, and the deadline of
     * entries written before entries had one, once per store (markers record that each ran);
     * entries written since are the projection's. Answers how many it wrote.
     */
    async backfillEntries(): Promise<number> {
      if ((await Promise.all([ENTRIES_MIGRATION, DEADLINES_MIGRATION].map(migrated))).every(Boolean)) return 0;
      const [docs, existing] = await Promise.all([
        // Whole collections, once: in `_id` order, which every store walks by its primary key.
        Cases.find({}, LIST_ENTRY_PROJECTION).setOptions({ scope: SYSTEM }).sort({ _id: 1 }).lean<CaseListEntry[]>(),
        Entries.find({}, { _id: 1, version: 1, nextDeadlineAt: 1 })
          .setOptions({ scope: SYSTEM })
          .sort({ _id: 1 })
          .lean<{ _id: string; version: number; nextDeadlineAt?: Date | null }[]>(),
      ]);
      const stored = new Map(existing.map((e) => [e._id, e]));
      const missing = docs.filter((d) => !stored.has(d._id)).map(listEntryOf);
      if (missing.length > 0) {
        await Entries.collection.insertMany(missing as never[], { ordered: false }).catch((error: unknown) => {
          if (!isDuplicateKey(error)) throw error; // written meanwhile by the projection
        });
      }
      let written = missing.length;
      for (const doc of docs) {
        const entry = stored.get(doc._id);
        if (!entry || entry.version > doc.version) continue;
        if (entry.version < doc.version) {
          await Entries.collection.replaceOne({ _id: doc._id as never, version: entry.version }, listEntryOf(doc));
        } else if (!('nextDeadlineAt' in entry)) {
          // Only the field is set, at the version read: a write meanwhile wrote a whole entry.
          await Entries.collection.updateOne(
            { _id: doc._id as never, version: entry.version },
            { $set: { nextDeadlineAt: doc.nextDeadlineAt ?? null } },
          );
        } else continue;
        written += 1;
      }
      for (const id of [ENTRIES_MIGRATION, DEADLINES_MIGRATION]) await markMigrated(id);
      return written;
    },

    /**
     * Gives cases stored before cases kept their records' ids (CaseDoc.recordIds) the ids of
     * their progress updates, shipments and surveys, once per store (a marker records that it
     * ran), so their pages read them by primary key too. Each case is written only at the
     * version it was read at: one written meanwhile keeps reading its records by case. Answers
     * how many cases it completed.
     */
    async backfillRecordIds(): Promise<number> {
      if (await migrated(RECORD_IDS_MIGRATION)) return 0;
      // Whole collections, once: in `_id` order, which every store walks by its primary key.
      const [cases, ...records] = await Promise.all([
        Cases.find({}, { _id: 1, version: 1, recordIds: 1 })
          .setOptions({ scope: SYSTEM })
          .sort({ _id: 1 })
          .lean<Pick<CaseDoc, '_id' | 'version' | 'recordIds'>[]>(),
        ...RECORD_LISTS.map((collection) =>
          store.connection
            .collection<{ _id: string; caseId: string }>(collection)
            .find({}, { projection: { _id: 1, caseId: 1 }, sort: { _id: 1 } })
            .toArray(),
        ),
      ]);
      const byCase = new Map<string, RecordIds>();
      RECORD_LISTS.forEach((collection, i) => {
        for (const record of records[i]!) {
          let ids = byCase.get(record.caseId);
          if (!ids) byCase.set(record.caseId, (ids = noRecordIds()));
          ids[collection].push(record._id);
        }
      });
      let completed = 0;
      for (const c of cases) {
        if (c.recordIds) continue;
        const recordIds = byCase.get(c._id) ?? noRecordIds();
        const { matchedCount } = await Cases.collection.updateOne(
          { _id: c._id as never, version: c.version },
          { $set: { recordIds } },
        );
        completed += matchedCount;
      }
      await markMigrated(RECORD_IDS_MIGRATION);
      return completed;
    },

    /**
     * Gives cases stored before cases had a list of their files (case.files.ts) one, once per
     * store (a marker records that it ran): their files as found by case, with any that uploads
     * listed on them meanwhile (another gateway, during a rolling start). A case that has a list
     * is left as it is. Answers how many cases it gave one.
     */
    async backfillFileLists(): Promise<number> {
      if (await migrated(FILE_LISTS_MIGRATION)) return 0;
      // Whole collections, once: in `_id` order, which every store walks by its primary key.
      const walk = (collection: string) =>
        store.connection
          .collection<{ _id: string; caseId: string }>(collection)
          .find({}, { ...store.queryOptions, projection: { _id: 1, caseId: 1 }, sort: { _id: 1 } })
          .toArray();
      const [cases, evidence, listed, withHeads] = await Promise.all([
        Cases.find({}, { _id: 1 }).setOptions({ scope: SYSTEM }).sort({ _id: 1 }).lean<{ _id: string }[]>(),
        walk('evidence'),
        walk(FILE_LIST_VERSIONS),
        files.withHeads(),
      ]);
      const filesOf = new Map<string, string[]>();
      for (const file of evidence) {
        let ids = filesOf.get(file.caseId);
        if (!ids) filesOf.set(file.caseId, (ids = []));
        ids.push(file._id);
      }
      const versioned = new Set(listed.map((v) => v.caseId));
      const without = cases.filter((c) => !withHeads.has(c._id));
      // Nothing to list (most cases): an empty head each, in batches.
      const empty = without.filter((c) => !filesOf.has(c._id) && !versioned.has(c._id)).map((c) => c._id);
      await files.openMany(empty);
      // Files found by case and no version yet (all of them, unless uploads listed some meanwhile): in batches.
      const unversioned = without.filter((c) => filesOf.has(c._id) && !versioned.has(c._id));
      await files.completeMany(unversioned.map((c) => ({ caseId: c._id, ids: filesOf.get(c._id)! })));
      for (const c of without) {
        if (versioned.has(c._id)) await files.complete(c._id, filesOf.get(c._id) ?? []);
      }
      await markMigrated(FILE_LISTS_MIGRATION);
      return without.length;
    },

    /** Which of these case ids exist (bulk imports skip them). */
    async existingIds(ids: string[]): Promise<string[]> {
      const docs = await Cases.find({ _id: op({ $in: ids }) }, { _id: 1 })
        .setOptions({ scope: SYSTEM })
        .lean<{ _id: string }[]>();
      return docs.map((d) => d._id);
    },

    /** Referrals unanswered past their deadline, across tenants (the expiry job). */
    async referralsDue(now: Date, limit: number): Promise<CaseDoc[]> {
      return Cases.find({ status: 'REFERRED', referralDeadline: op({ $lt: now }) })
        .setOptions({ scope: SYSTEM })
        .limit(limit)
        .lean<CaseDoc[]>();
    },

    /** Cases whose consent ran out before `today` but is not recorded as ended, across tenants (the consent expiry job). */
    async consentsDue(today: string, limit: number): Promise<CaseDoc[]> {
      const docs = await Cases.find({
        // Not yet ended: ACTIVE, or no status (consent recorded before it had one). Named, not
        // `$nin` of the ended ones: a negation has no index bounds.
        'consent.status': op({ $in: ['ACTIVE', null] as (ConsentStatus | null)[] }),
        'consent.expiresOn': op({ $lt: today }),
      })
        .setOptions({ scope: SYSTEM })
        .limit(limit)
        .lean<CaseDoc[]>();
      return docs.map(withImplementationDefaults);
    },

    /** Claims the next reference of a member state and year (`NL-2026-000124`) by inserting it. */
    async claimReference(memberState: string, year: number, caseId: string): Promise<string> {
      const prefix = `${memberState}-${year}-`;
      let last = lastReference.get(prefix) ?? (await newestReference(prefix));
      for (let attempt = 0; attempt < 10_000; attempt += 1) {
        // Taken in memory before the insert, so this gateway's concurrent creations try
        // different numbers instead of colliding on the same one and retrying in turn.
        const number = Math.max(last, lastReference.get(prefix) ?? 0) + 1;
        lastReference.set(prefix, number);
        const reference = `${prefix}${String(number).padStart(6, '0')}`;
        try {
          await References.collection.insertOne({ _id: reference as never, caseId, at: clock.now() });
          return reference;
        } catch (error) {
          if (!isDuplicateKey(error)) {
            // Not claimed: the number goes back unless a later one was taken meanwhile.
            if (lastReference.get(prefix) === number) lastReference.set(prefix, number - 1);
            throw error;
          }
          last = number; // another gateway took it
        }
      }
      throw new Error('could not claim a case reference');
    },

    /** Claims consecutive references for many new cases at once (bulk imports). */
    async claimReferenceBlock(memberState: string, year: number, caseIds: string[]): Promise<string[]> {
      const prefix = `${memberState}-${year}-`;
      const claimed: string[] = [];
      while (claimed.length < caseIds.length) {
        let last = Math.max(await newestReference(prefix), lastReference.get(prefix) ?? 0);
        const docs = caseIds
          .slice(claimed.length)
          .map((caseId) => ({ _id: `${prefix}${String(++last).padStart(6, '0')}` as never, caseId, at: clock.now() }));
        // Stops at the first number a concurrent writer took: keep what we got in order, retry the rest after it.
        const { inserted } = await insertInOrder(References.collection, docs);
        claimed.push(...docs.slice(0, inserted).map((d) => String(d._id)));
        lastReference.set(prefix, Number(claimed.at(-1)?.slice(prefix.length) ?? last));
      }
      return claimed;
    },

    write,

    /**
     * A background job's write on each case it found due, across tenants, at the version it
     * read (safe on several gateways at once). A case changed meanwhile, or one its decision
     * refuses with an error code in `skip`, is left for the next run; so is an erased case (or
     * one being erased: its key destroyed, the erasure not recorded yet), which takes no more
     * writes and must not fail the run for every case after it (an erased referral stays
     * REFERRED, so it is found due at every run); anything else (the store is down) fails the
     * run. Answers how many it wrote.
     */
    async writeEachDue(
      system: Principal,
      due: readonly CaseDoc[],
      job: { command: string; key: (c: CaseDoc) => string; decide: WriteCaseRequest['decide']; skip?: readonly string[] },
    ): Promise<number> {
      const skip = job.skip ?? ['CONFLICT'];
      let written = 0;
      for (const c of due) {
        try {
          const { command, decide } = job;
          await write({
            principal: system,
            scope: SYSTEM,
            command,
            id: c._id,
            expectedVersion: c.version,
            input: {},
            decide,
            idempotencyKey: job.key(c),
          });
          written += 1;
        } catch (error) {
          if (!(error instanceof AppError && (skip.includes(error.code) || error.extensions.reason === 'ERASED'))) throw error;
        }
      }
      return written;
    },

    /**
     * `write` as a mutation calls it: the principal's command on the case the client named, at
     * the version it read, with the input as parsed.
     */
    writeOn: (
      principal: Principal,
      command: string,
      target: { caseId: string; expectedVersion: number },
      input: unknown,
      idempotencyKey: string | null | undefined,
      decide: WriteCaseRequest['decide'],
    ) => write({ principal, command, id: target.caseId, expectedVersion: target.expectedVersion, input, idempotencyKey, decide }),
  };
}

/** The case an event wrote, as that event left it. */
export function writtenCase(event: StoredEvent, id: string): CaseView {
  const written = caseFromChanges(event.changes, id);
  if (!written) throw new Error(`event ${event._id} wrote no case ${id}`);
  return written;
}
