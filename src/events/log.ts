// Appending to and reading the event log.
//
// An append claims sequence `head + 1` by inserting the event with that `_id`; the
// insert also claims `(aggregate, version)` through a unique index. Both claims are
// atomic on MongoDB and on the embedded store, and nothing else is. Appends of one
// gateway are serialised in-process (the hash chain needs the previous hash anyway);
// another gateway instance taking our number shows up as a duplicate key on `_id`, and
// we step forward to the newest event and try again.
import type { Collection, Model, mongo } from 'mongoose';

type FindOptions = mongo.FindOptions;
import { isDuplicateKey, MAX_BATCH, type Store } from '../store/store.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { eventSchema, GENESIS_HASH, type DocumentChange, type EventDraft, type StoredEvent } from './event.model.ts';

/** A post-image that could not be written: its document is held by another or not at the version before. */
export class ProjectionRefused extends Error {
  override name = 'ProjectionRefused';
  constructor(change: DocumentChange, found: number) {
    super(
      `projection of ${change.collection}/${change.doc._id} at version ${change.doc.version} refused: ` +
        (found === 0 ? 'another document holds one of its unique fields' : `the document is at version ${found}`),
    );
  }
}

/** The indexes of the documents a bulk write refused, if the error says. */
function writeErrorIndexes(error: unknown): number[] | undefined {
  const writeErrors = (error as { writeErrors?: { index?: number }[] | { index?: number } }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  const indexes = list.map((w) => w.index).filter((i): i is number => typeof i === 'number');
  return indexes.length > 0 ? indexes : undefined;
}

export class VersionConflict extends Error {
  override name = 'VersionConflict';
  /**
   * @param rival what holds the version, when the log found it among its newest events: the
   *   event that took it and the aggregate's newest version
   */
  constructor(readonly rival?: { winner: StoredEvent; current: number }) {
    super('the aggregate version is taken');
  }
}

/** The request's idempotency key is already in the log: it was committed before. */
export class AlreadyCommitted extends Error {
  override name = 'AlreadyCommitted';
  constructor(readonly event: StoredEvent) {
    super(`request ${event.idempotencyKey ?? ''} was committed as event ${event._id}`);
  }
}

type Head = { seq: number; hash: string };

/** How many of the newest events a refused write's rival is looked for among, by primary key. */
const RECENT_EVENTS = 64;
/** Primary-key lookups sent at once while looking. */
const LOOKUP_BATCH = 16;

const sameVersion = (event: StoredEvent, draft: EventDraft) =>
  event.aggregateType === draft.aggregateType && event.aggregateId === draft.aggregateId && event.version === draft.version;

/**
 * How an event's sequence number is stored as its `_id`: a zero-padded string, so the
 * order of `_id`s is the order of the log, and a lookup of one event is an equality on a
 * string `_id`, which the embedded store answers from an index (it scans for a number).
 */
export const SEQ_DIGITS = 15;
export const eventDocumentId = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

type StoredDocument = Omit<StoredEvent, '_id'> & { _id: string; requestKey: string };
type Filter = Record<string, unknown>;

function storedFilter(filter: Filter): Filter {
  const id = filter._id;
  if (id === undefined) return filter;
  if (typeof id === 'number') return { ...filter, _id: eventDocumentId(id) };
  const conditions: Record<string, unknown> = {};
  for (const [op, value] of Object.entries(id as Record<string, unknown>)) {
    conditions[op] = Array.isArray(value) ? value.map((v) => eventDocumentId(v as number)) : eventDocumentId(value as number);
  }
  return { ...filter, _id: conditions };
}

/**
 * The stored request claim: the idempotency key, or `#<seq>` for a write without one (never
 * an organisation-prefixed key). Derived from hashed fields, so it is not hashed itself.
 */
const requestKeyOf = (event: StoredEvent): string => event.idempotencyKey ?? `#${eventDocumentId(event._id)}`;
const toStored = (event: StoredEvent): StoredDocument => ({
  ...event,
  _id: eventDocumentId(event._id),
  requestKey: requestKeyOf(event),
});
const fromStored = ({ requestKey: _claim, ...doc }: StoredDocument): StoredEvent => ({ ...doc, _id: Number(doc._id) });

export function hashEvent(event: Omit<StoredEvent, 'hash'>): string {
  const { _id, prevHash, ...rest } = event;
  return sha256Hex(`${_id}|${prevHash}|${canonicalJson(rest)}`);
}

/** A change to project: an event's, or one derived from it (see EventLog.derive). */
type Projected = DocumentChange & { derived?: boolean };

export class EventLog {
  readonly model: Model<StoredEvent>;
  private head: Head | undefined;
  /** The newest head this gateway has seen (kept when `head` is dropped after a refusal). */
  private lastKnown: Head | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** The clock; tests replace it to place events in time. */
  now: () => Date = () => new Date();
  /** This gateway's projections under way, by event. */
  private readonly projecting = new Map<number, Promise<void>>();
  /** Events committed here whose projection failed: nothing of them is in flight. */
  private readonly failedHere = new Set<number>();
  /** The tail of this gateway's writes of each document. */
  private readonly documentTails = new Map<string, Promise<unknown>>();
  /** Derivations of documents from others' post-images, by source collection (see derive). */
  private readonly derivations = new Map<string, ((doc: DocumentChange['doc']) => DocumentChange)[]>();

  constructor(private readonly store: Store) {
    this.model = store.model<StoredEvent>('Event', eventSchema);
  }

  /** The events collection, speaking sequence numbers (stored as padded strings, see eventDocumentId). */
  private get events() {
    const raw = this.model.collection as unknown as Collection<StoredDocument>;
    return {
      insertOne: (event: StoredEvent) => raw.insertOne(toStored(event)),
      insertMany: (events: StoredEvent[], options: { ordered: boolean }) => raw.insertMany(events.map(toStored), options),
      findOne: async (filter: Filter, options?: FindOptions): Promise<StoredEvent | null> => {
        const doc = await raw.findOne(storedFilter(filter) as never, { ...this.store.queryOptions, ...options });
        return doc ? fromStored(doc) : null;
      },
      find: (filter: Filter, options?: FindOptions) => ({
        toArray: async (): Promise<StoredEvent[]> =>
          (await raw.find(storedFilter(filter) as never, { ...this.store.queryOptions, ...options }).toArray()).map(fromStored),
      }),
    };
  }

  /** Appends one event; throws VersionConflict when its aggregate version is taken. */
  append(draft: EventDraft): Promise<StoredEvent> {
    return this.serialised(() => this.appendNow(draft));
  }

  /** Runs appends of this gateway one after another (each links to the previous hash). */
  private serialised<T>(append: () => Promise<T>): Promise<T> {
    const run = this.tail.then(append);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The event a draft becomes when appended after `head`. */
  private chained(draft: EventDraft, head: Head): StoredEvent {
    const unhashed: Omit<StoredEvent, 'hash'> = {
      _id: head.seq + 1,
      ...draft,
      caseId: draft.caseId ?? null,
      requestHash: draft.requestHash ?? null,
      at: this.now(),
      prevHash: head.hash,
    };
    return { ...unhashed, hash: hashEvent(unhashed) };
  }

  private async appendNow(draft: EventDraft): Promise<StoredEvent> {
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const event = this.chained(draft, this.head ?? (await this.readHead()));
      try {
        await this.events.insertOne(event);
        this.head = { seq: event._id, hash: event.hash };
        this.lastKnown = this.head;
        return event;
      } catch (error) {
        this.head = undefined;
        if (!isDuplicateKey(error)) throw error;
        // Which claim refused it, asked by primary key first: the embedded store scans the
        // events for anything else, and under contention this is every losing write.
        const taken = await this.events.findOne({ _id: event._id });
        if (taken && draft.idempotencyKey && taken.idempotencyKey === draft.idempotencyKey) throw new AlreadyCommitted(taken);
        if (!taken || sameVersion(taken, draft)) {
          // The sequence was free (or is this very version): the version or the request claim was not.
          const rival = await this.recentRival(draft);
          if (rival?.kind === 'request') throw new AlreadyCommitted(rival.event);
          if (rival?.kind === 'version') throw new VersionConflict({ winner: rival.event, current: rival.current });
          await this.refuseRecommit(draft);
          throw new VersionConflict();
        }
        // Another gateway appended: search the head from the event that took this number.
        this.head = await this.searchHead({ seq: taken._id, hash: taken.hash }, {});
        this.lastKnown = this.head;
      }
    }
    throw new Error('event append did not converge');
  }

  /**
   * Appends several events in one round trip (audited reads of a whole page, say). They
   * take consecutive numbers in one ordered insert; if another gateway takes one of the
   * numbers the insert stops there, and the rest are appended after the new head.
   * Throws VersionConflict when an event's aggregate version is taken.
   */
  appendMany(drafts: EventDraft[]): Promise<StoredEvent[]> {
    if (drafts.length === 0) return Promise.resolve([]);
    return this.serialised(() => this.appendManyNow(drafts));
  }

  private async appendManyNow(drafts: EventDraft[]): Promise<StoredEvent[]> {
    const appended: StoredEvent[] = [];
    let rest = drafts;
    for (let refusals = 0; refusals < 1000 && rest.length > 0;) {
      let head = this.head ?? (await this.readHead());
      const batch: StoredEvent[] = [];
      // At most MAX_BATCH per insert, so the insert stops at its first refusal on both stores.
      for (const draft of rest.slice(0, MAX_BATCH)) {
        const event = this.chained(draft, head);
        batch.push(event);
        head = { seq: event._id, hash: event.hash };
      }
      try {
        await this.events.insertMany(batch, { ordered: true });
        this.head = head;
        this.lastKnown = head;
        appended.push(...batch);
        rest = rest.slice(batch.length);
      } catch (error) {
        refusals += 1;
        this.head = undefined;
        if (!isDuplicateKey(error)) throw error;
        // An ordered insert stops at the first refusal: what went in is a prefix of the batch.
        const stored = await this.events
          .find({ _id: { $in: batch.map((e) => e._id) } }, { projection: { _id: 1, hash: 1 } })
          .toArray();
        const ours = new Set(stored.filter((s) => batch.some((e) => e._id === s._id && e.hash === s.hash)).map((s) => s._id));
        const inserted = batch.filter((e) => ours.has(e._id));
        appended.push(...inserted);
        const refused = batch[inserted.length];
        if (refused) await this.refuseRecommit(refused);
        if (refused && !stored.some((s) => s._id === refused._id)) throw new VersionConflict();
        rest = rest.slice(inserted.length);
      }
    }
    if (rest.length > 0) throw new Error('event append did not converge');
    return appended;
  }

  /** After a refused insert: throws AlreadyCommitted when the refusal was the request claim. */
  private async refuseRecommit(draft: EventDraft): Promise<void> {
    if (!draft.idempotencyKey) return;
    const earlier = await this.findByIdempotencyKey(draft.idempotencyKey);
    if (earlier) throw new AlreadyCommitted(earlier);
  }

  /**
   * The newest event. The log is gap-free from 1, so an exponential search by `_id`
   * equality finds it with primary-key lookups, which every store answers without a scan
   * (the embedded store scans for anything else). It starts from the last head this
   * gateway knew: usually one lookup (is there an event after it?) settles it.
   */
  private async readHead(): Promise<Head> {
    this.head = await this.searchHead(this.lastKnown, {});
    this.lastKnown = this.head;
    return this.head;
  }

  private async searchHead(known: Head | undefined, options: FindOptions): Promise<Head> {
    const exists = async (seq: number) =>
      (await this.events.findOne({ _id: seq }, { ...options, projection: { _id: 1 } })) !== null;
    let low = known && (await exists(known.seq)) ? known.seq : 0;
    let step = 1;
    let high = low + step;
    while (await exists(high)) {
      low = high;
      step *= 2;
      high = low + step;
    }
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await exists(mid)) low = mid;
      else high = mid;
    }
    const last =
      low > 0
        ? low === known?.seq
          ? known
          : await this.events.findOne({ _id: low }, { ...options, projection: { _id: 1, hash: 1 } })
        : null;
    return last ? { seq: 'seq' in last ? last.seq : last._id, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /**
   * What refused `draft` among the newest events (read by primary key, newest first, a batch
   * at a time): the event holding its request claim, or else the event holding its version
   * and the aggregate's newest version. A rival that just won a race is among them; undefined
   * when none of them is the rival (the caller then asks the log's other indexes).
   */
  private async recentRival(
    draft: EventDraft,
  ): Promise<{ kind: 'request'; event: StoredEvent } | { kind: 'version'; event: StoredEvent; current: number } | undefined> {
    let version: { kind: 'version'; event: StoredEvent; current: number } | undefined;
    let current = 0;
    for await (const batch of this.newestEvents()) {
      for (const event of batch) {
        if (draft.idempotencyKey && event.idempotencyKey === draft.idempotencyKey) return { kind: 'request', event };
        const ofAggregate = event.aggregateType === draft.aggregateType && event.aggregateId === draft.aggregateId;
        if (ofAggregate) current = Math.max(current, event.version);
        if (!version && sameVersion(event, draft)) version = { kind: 'version', event, current };
      }
      // Without a request claim to look for, the newest events up to the winner say it all.
      if (version && !draft.idempotencyKey) break;
    }
    return version && { ...version, current };
  }

  /**
   * The newest RECENT_EVENTS events, newest first, a batch of LOOKUP_BATCH primary-key lookups at a
   * time (the embedded store answers only those from an index); `projection` reads less of each.
   */
  private async *newestEvents(projection?: Record<string, 1>): AsyncGenerator<StoredEvent[]> {
    const head = (await this.readHead()).seq;
    const oldest = Math.max(1, head - RECENT_EVENTS + 1);
    for (let top = head; top >= oldest; top -= LOOKUP_BATCH) {
      const seqs = Array.from({ length: Math.min(LOOKUP_BATCH, top - oldest + 1) }, (_, i) => top - i);
      const found = await Promise.all(seqs.map((seq) => this.events.findOne({ _id: seq }, projection && { projection })));
      yield found.filter((e): e is StoredEvent => e !== null);
    }
  }

  /**
   * The aggregate's events past `version`, oldest first, looked for among the newest events
   * (by primary key, newest first, a batch at a time, each read for its aggregate and version
   * only) down to the event that wrote `version`; none when there are none. A write that
   * decided on `version` and was refused by its own rule asks it: a rival that won the race
   * meanwhile is among the newest events, and the rule may have read what it wrote.
   */
  async eventsPast(aggregateType: string, aggregateId: string, version: number): Promise<StoredEvent[]> {
    const projection = { _id: 1, aggregateType: 1, aggregateId: 1, version: 1 } as const;
    const past: number[] = [];
    scan: for await (const batch of this.newestEvents(projection)) {
      for (const event of batch) {
        if (event.aggregateType !== aggregateType || event.aggregateId !== aggregateId) continue;
        if (event.version <= version) break scan;
        past.unshift(event._id);
      }
    }
    const events = await Promise.all(past.map((seq) => this.events.findOne({ _id: seq })));
    return events.filter((e): e is StoredEvent => e !== null);
  }

  /** The newest sequence number in the log (0 when empty). */
  async lastSeq(): Promise<number> {
    return (await this.readHead()).seq;
  }

  /**
   * The newest sequence number the feed may hand out (read like getCommitted), searched from
   * `from`: its existence is checked (by `_id` alone), then the search goes on after it.
   */
  async lastCommittedSeq(from = 0): Promise<number> {
    // Only the sequence number is answered, so the hash of `from` is never read.
    const head = await this.searchHead(from > 0 ? { seq: from, hash: '' } : undefined, this.store.feedReadOptions);
    return head.seq;
  }

  async get(seq: number): Promise<StoredEvent | null> {
    return this.events.findOne({ _id: seq });
  }

  /**
   * An event as the feed may hand it out: read with the feed's read concern (majority by
   * default), so an event a failover could still roll back is not there yet.
   */
  async getCommitted(seq: number): Promise<StoredEvent | null> {
    return this.events.findOne({ _id: seq }, this.store.feedReadOptions);
  }

  async findVersion(aggregateType: string, aggregateId: string, version: number): Promise<StoredEvent | null> {
    return this.events.findOne({ aggregateType, aggregateId, version });
  }

  /** The newest version of an aggregate in the log (0 when it has none). */
  async latestVersion(aggregateType: string, aggregateId: string): Promise<number> {
    const [last] = await this.events
      .find({ aggregateType, aggregateId }, { sort: { version: -1 }, limit: 1, projection: { version: 1 } })
      .toArray();
    return last?.version ?? 0;
  }

  /** Some event of an aggregate type up to a sequence number, if there is any. */
  async firstOfType(aggregateType: string, until: number): Promise<StoredEvent | null> {
    return this.events.findOne({ aggregateType, _id: { $lte: until } });
  }

  async findByIdempotencyKey(key: string): Promise<StoredEvent | null> {
    return this.events.findOne({ requestKey: key });
  }

  /**
   * Events after `after` (and up to `until`, if given) in log order, visible to any of
   * `audience` (all when omitted).
   */
  async page(after: number, limit: number, audience?: string[], until?: number): Promise<StoredEvent[]> {
    const range = until === undefined ? { $gt: after } : { $gt: after, $lte: until };
    const filter = audience ? { audience: { $in: audience }, _id: range } : { _id: range };
    return this.events.find(filter, { sort: { _id: 1 }, limit }).toArray();
  }

  /** Events of one case (its writes, its records', audited reads of it) in order. */
  async ofCase(caseId: string, after: number, limit: number): Promise<StoredEvent[]> {
    return this.events.find({ caseId, _id: { $gt: after } }, { sort: { _id: 1 }, limit }).toArray();
  }

  /** Events of one aggregate in order. */
  async history(aggregateId: string, after = 0, limit = 1000): Promise<StoredEvent[]> {
    return this.events.find({ aggregateId, _id: { $gt: after } }, { sort: { _id: 1 }, limit }).toArray();
  }

  /**
   * The committer's projection of the event it appended. Until it ends, a reconcile of the
   * same event in this gateway waits for it instead of writing the same documents at once.
   */
  async project(event: StoredEvent): Promise<void> {
    const run = this.applyChanges(event.changes);
    this.projecting.set(event._id, run);
    try {
      await run;
    } catch (error) {
      // Nothing of it is in flight any more: a reconcile here may finish it at once.
      this.failedHere.add(event._id);
      throw error;
    } finally {
      this.projecting.delete(event._id);
    }
  }

  /**
   * Writes post-images into their collections, each document only over its previous version
   * (a replay never moves one backwards), and one write of a document at a time in this
   * gateway: on the embedded store a conditional write is a read and then a write by `_id`,
   * so two writes of one document at once could land in the wrong order (see reconcile).
   * A document that cannot be written because another one holds its unique field, or that is
   * not at the version before, is an error: only a document already at this version or
   * later counts as projected before.
   */
  async applyChanges(changes: DocumentChange[]): Promise<void> {
    await this.write(this.withDerived(changes));
  }

  /**
   * Documents derived from another collection's documents (a case's list entry): written
   * right after their source, with the source's `_id` and `version`, and repaired with it.
   * Derived documents are not in events: a missing or stale one is brought to its source's
   * version (catchUpDerived) rather than replayed through the source's history.
   */
  derive(collection: string, derivation: (doc: DocumentChange['doc']) => DocumentChange): void {
    this.derivations.set(collection, [...(this.derivations.get(collection) ?? []), derivation]);
  }

  /** The changes with the documents derived from each, each right after its source. */
  private withDerived(changes: readonly DocumentChange[]): Projected[] {
    if (this.derivations.size === 0) return [...changes];
    return changes.flatMap((change) => [
      change,
      ...(this.derivations.get(change.collection) ?? []).map((derive) => ({ ...derive(change.doc), derived: true })),
    ]);
  }

  private async write(changes: Projected[]): Promise<void> {
    // Only new documents (a bulk import, say): order does not matter, one insert per collection.
    if (changes.length > 1 && changes.every((c) => c.doc.version === 1)) {
      const byCollection = new Map<string, DocumentChange[]>();
      for (const change of changes) byCollection.set(change.collection, [...(byCollection.get(change.collection) ?? []), change]);
      for (const [name, group] of byCollection) {
        for (let from = 0; from < group.length; from += MAX_BATCH) {
          const batch = group.slice(from, from + MAX_BATCH);
          try {
            await this.store.connection.collection(name).insertMany(
              batch.map((c) => c.doc as never),
              { ordered: false },
            );
          } catch (error) {
            if (!isDuplicateKey(error)) throw error;
            const refused = writeErrorIndexes(error);
            for (const index of refused ?? batch.keys()) await this.mustBeProjected(batch[index]!);
          }
        }
      }
      return;
    }
    for (const change of changes) await this.oneAtATime(change, () => this.writeDocument(change));
  }

  private async writeDocument(change: Projected): Promise<void> {
    const collection = this.store.connection.collection(change.collection);
    const { doc } = change;
    if (doc.version === 1) return this.insertDocument(change);
    const { matchedCount } = await collection.replaceOne({ _id: doc._id as never, version: doc.version - 1 }, doc);
    if (matchedCount === 0) await (change.derived ? this.catchUpDerived(change) : this.mustBeProjected(change));
  }

  /**
   * A derived document that was not at the version before: missing (a store written before
   * it was derived, or a projection cut short between source and derived) or further behind.
   * Brought to this version unless it is there already: its source is, so it is as current
   * as it gets.
   */
  private async catchUpDerived(change: DocumentChange): Promise<void> {
    const { doc } = change;
    const collection = this.store.connection.collection(change.collection);
    const current = await collection.findOne(
      { _id: doc._id as never },
      { ...this.store.queryOptions, projection: { version: 1 } },
    );
    if (!current) return this.insertDocument(change);
    const version = current.version as number;
    if (version >= doc.version) return;
    const { matchedCount } = await collection.replaceOne({ _id: doc._id as never, version }, doc);
    if (matchedCount === 0) await this.mustBeProjected(change);
  }

  /** After a write that changed nothing: fine when the document is at this version or later, an error otherwise. */
  /** A document's first write; if it is there already, it must be at this version or later. */
  private async insertDocument(change: DocumentChange): Promise<void> {
    try {
      await this.store.connection.collection(change.collection).insertOne(change.doc as never);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      await this.mustBeProjected(change);
    }
  }

  private async mustBeProjected(change: DocumentChange): Promise<void> {
    const version = await this.documentVersion(change);
    if (version >= change.doc.version) return;
    throw new ProjectionRefused(change, version);
  }

  private async documentVersion(change: DocumentChange): Promise<number> {
    const current = await this.store.connection
      .collection(change.collection)
      .findOne({ _id: change.doc._id as never }, { ...this.store.queryOptions, projection: { version: 1 } });
    return (current?.version as number | undefined) ?? 0;
  }

  /** Runs the writes of one document in this gateway one after another. */
  private oneAtATime<T>(change: DocumentChange, write: () => Promise<T>): Promise<T> {
    const key = `${change.collection}/${change.doc._id}`;
    const run = (this.documentTails.get(key) ?? Promise.resolve()).then(write);
    const tail = run.catch(() => undefined);
    this.documentTails.set(key, tail);
    void tail.then(() => {
      if (this.documentTails.get(key) === tail) this.documentTails.delete(key);
    });
    return run;
  }

  /**
   * Re-applies the post-images of events whose documents are behind, so a write interrupted
   * between its event and its projection is finished (at start, on reconnect, when a write
   * meets the version its predecessor claimed, when a request is retried).
   *
   * It never writes a document its committer may still be writing: on the embedded store
   * two writers of one version at once could leave the document behind a newer version
   * written in between (the late one's read saw the version before both). So it waits for
   * this gateway's own projection of the event, and for another gateway's for the
   * projection grace after the event, polling the document; only an event whose committer
   * failed here, or whose grace has passed, is written by the reconcile.
   */
  async reconcile(events: StoredEvent[], options: { fromHistory?: boolean } = {}): Promise<number> {
    let repaired = 0;
    // Each document's version is read once, however many of these events wrote it.
    const versions = new Map<string, number>();
    for (const event of events) {
      const ownProjection = this.projecting.get(event._id);
      if (ownProjection) await ownProjection.catch(() => undefined);
      for (const change of this.withDerived(event.changes)) {
        const key = `${change.collection}/${change.doc._id}`;
        let currentVersion = versions.get(key) ?? (await this.documentVersion(change));
        if (currentVersion < change.doc.version && !this.failedHere.has(event._id)) {
          currentVersion = await this.waitForCommitter(event, change, currentVersion);
        }
        if (currentVersion < change.doc.version - 1 && !options.fromHistory && !change.derived) {
          // An earlier event of the aggregate is not projected either: finish its history in order first.
          repaired += await this.reconcile(await this.history(event.aggregateId, 0, 10_000), { fromHistory: true });
          currentVersion = await this.documentVersion(change);
        }
        if (currentVersion < change.doc.version) {
          await this.write([change]);
          repaired += 1;
          currentVersion = change.doc.version;
        }
        versions.set(key, currentVersion);
      }
      this.failedHere.delete(event._id);
    }
    return repaired;
  }

  /** Polls a document behind an event until it catches up or the event's projection grace has passed. */
  private async waitForCommitter(event: StoredEvent, change: DocumentChange, seen: number): Promise<number> {
    const age = Math.max(0, this.now().getTime() - event.at.getTime());
    const deadline = Date.now() + Math.max(0, this.store.settings.projectionGraceMs - age);
    let version = seen;
    for (let pause = 10; version < change.doc.version && Date.now() < deadline; pause = Math.min(pause * 2, 250)) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(0, deadline - Date.now()))));
      version = await this.documentVersion(change);
    }
    return version;
  }

  /**
   * Finishes the projections of the newest events (at start, on reconnect). An event whose
   * projection is refused is logged and left (the gateway still starts; the refusal needs an
   * operator), the others are finished.
   */
  async reconcileRecent(count = 500): Promise<number> {
    const last = await this.lastSeq();
    return this.reconcileAfter(Math.max(0, last - count), count);
  }

  /**
   * Finishes the projections of every event after `seq` (up to `limit` of them), as
   * reconcileRecent does: after a one-time migration that wrote projected documents
   * (the case store's backfills), whose conditional write is a read and then a write on the
   * embedded store, so a write another gateway projected in between may have been written over.
   */
  async reconcileAfter(seq: number, limit = Number.MAX_SAFE_INTEGER): Promise<number> {
    let repaired = 0;
    for (let after = seq, left = limit; left > 0;) {
      const events = await this.page(after, Math.min(left, 1000));
      if (events.length === 0) break;
      for (const event of events) {
        try {
          repaired += await this.reconcile([event]);
        } catch (error) {
          if (!(error instanceof ProjectionRefused)) throw error;
          this.store.logger?.error({ err: error, seq: event._id }, 'projection refused');
        }
      }
      after = events.at(-1)!._id;
      left -= events.length;
    }
    return repaired;
  }
}

export type ChainProblem = {
  /** The first event that is not what was appended (or the first missing one). */
  seq: number;
  problem: string;
};

/**
 * Walks the log in order and reports the first broken link, if any. An event edited in
 * place no longer matches its own hash; one edited and re-hashed to hide it no longer
 * matches the link its successor stored. Both are reported at the edited event.
 */
export async function verifyChain(
  log: EventLog,
  onProgress?: (seq: number) => void,
): Promise<{ checked: number; head: { seq: number; hash: string }; broken: ChainProblem | undefined }> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const batch = 1000;
  for (;;) {
    const events = await log.page(expectedSeq - 1, batch);
    if (events.length === 0) return { checked, head: { seq: expectedSeq - 1, hash: prevHash }, broken: undefined };
    for (const event of events) {
      const head = { seq: expectedSeq - 1, hash: prevHash };
      if (event._id !== expectedSeq) {
        return { checked, head, broken: { seq: expectedSeq, problem: `event ${expectedSeq} is missing` } };
      }
      const { hash, ...rest } = event;
      if (hashEvent(rest) !== hash) {
        return { checked, head, broken: { seq: event._id, problem: 'its content does not match its hash (edited)' } };
      }
      if (event.prevHash !== prevHash) {
        // Both events match their own hashes, so one was edited and re-hashed: this one
        // (its link rewritten) when its successor no longer links to it either, else the previous one.
        const next = await log.get(event._id + 1);
        const thisOne = event._id === 1 || (next !== null && next.prevHash !== hash);
        return thisOne
          ? { checked, head, broken: { seq: event._id, problem: 'its link to the previous event was rewritten and re-hashed' } }
          : {
              checked: checked - 1,
              head,
              broken: {
                seq: event._id - 1,
                problem: `its hash differs from the one event ${event._id} recorded (edited and re-hashed)`,
              },
            };
      }
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
    onProgress?.(expectedSeq - 1);
  }
}
