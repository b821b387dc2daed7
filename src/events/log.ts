// Appending to and reading the event log.
//
// An append claims sequence `head + 1` by inserting the event with that `_id`; the
// insert also claims `(aggregate, version)` through a unique index. Both claims are
// atomic on MongoDB and on the embedded store, and nothing else is. Appends of one
// gateway are serialised in-process (the hash chain needs the previous hash anyway);
// another gateway instance taking our number shows up as a duplicate key on `_id`, and
// we step forward to the newest event and try again.
import type { Collection, Model } from 'mongoose';
import { isDuplicateKey, type Store } from '../store/store.ts';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { eventSchema, GENESIS_HASH, type DocumentChange, type EventDraft, type StoredEvent } from './event.model.ts';

export class VersionConflict extends Error {
  override name = 'VersionConflict';
}

type Head = { seq: number; hash: string };

export function hashEvent(event: Omit<StoredEvent, 'hash'>): string {
  const { _id, prevHash, ...rest } = event;
  return sha256Hex(`${_id}|${prevHash}|${canonicalJson(rest)}`);
}

export class EventLog {
  readonly model: Model<StoredEvent>;
  private head: Head | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  /** The clock; tests replace it to place events in time. */
  now: () => Date = () => new Date();

  constructor(private readonly store: Store) {
    this.model = store.model<StoredEvent>('Event', eventSchema);
  }

  private get events(): Collection<StoredEvent> {
    return this.model.collection as unknown as Collection<StoredEvent>;
  }

  /** Appends one event; throws VersionConflict when its aggregate version is taken. */
  append(draft: EventDraft): Promise<StoredEvent> {
    const run = this.tail.then(() => this.appendNow(draft));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async appendNow(draft: EventDraft): Promise<StoredEvent> {
    for (let attempt = 0; attempt < 1000; attempt += 1) {
      const head = this.head ?? (await this.readHead());
      const unhashed: Omit<StoredEvent, 'hash'> = {
        _id: head.seq + 1,
        ...draft,
        caseId: draft.caseId ?? null,
        at: this.now(),
        prevHash: head.hash,
      };
      const event: StoredEvent = { ...unhashed, hash: hashEvent(unhashed) };
      try {
        await this.events.insertOne(event);
        this.head = { seq: event._id, hash: event.hash };
        return event;
      } catch (error) {
        this.head = undefined;
        if (!isDuplicateKey(error)) throw error;
        const taken = await this.events.findOne({ _id: event._id });
        if (!taken) throw new VersionConflict(); // the sequence was free: the version was not
        if (
          taken.aggregateType === draft.aggregateType &&
          taken.aggregateId === draft.aggregateId &&
          taken.version === draft.version
        ) {
          throw new VersionConflict();
        }
        // Another gateway appended: jump to the newest event and try after it.
        await this.readHeadSorted();
      }
    }
    throw new Error('event append did not converge');
  }

  /**
   * Appends many events in log order with one insert (bulk imports). Drafts whose
   * aggregate version is taken are skipped; returns the events appended.
   */
  appendMany(drafts: EventDraft[]): Promise<StoredEvent[]> {
    const run = this.tail.then(async () => {
      const head = this.head ?? (await this.readHead());
      const at = this.now();
      let prev = head;
      const events = drafts.map((draft) => {
        const unhashed: Omit<StoredEvent, 'hash'> = {
          _id: prev.seq + 1,
          ...draft,
          caseId: draft.caseId ?? null,
          at,
          prevHash: prev.hash,
        };
        const event: StoredEvent = { ...unhashed, hash: hashEvent(unhashed) };
        prev = { seq: event._id, hash: event.hash };
        return event;
      });
      try {
        if (events.length > 0) await this.events.insertMany(events, { ordered: true });
        this.head = prev;
        return events;
      } catch (error) {
        this.head = undefined;
        if (!isDuplicateKey(error)) throw error;
        // Someone else appended meanwhile, or an aggregate exists: finish one by one.
        const appended: StoredEvent[] = [];
        for (const draft of drafts) {
          const existing = await this.findVersion(draft.aggregateType, draft.aggregateId, draft.version);
          if (existing) continue;
          try {
            appended.push(await this.appendNow(draft));
          } catch (e) {
            if (!(e instanceof VersionConflict)) throw e;
          }
        }
        return appended;
      }
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /**
   * The newest event. The log is gap-free from 1, so a galloping search by `_id` equality
   * finds it in about 2·log2(n) primary-key lookups, which every store answers without a
   * scan; the sorted query confirms it (and is the fallback if the log had a hole).
   */
  private async readHead(): Promise<Head> {
    const exists = async (seq: number) => (await this.events.findOne({ _id: seq }, { projection: { _id: 1 } })) !== null;
    let low = 0;
    let high = 1;
    while (await exists(high)) {
      low = high;
      high *= 2;
    }
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (await exists(mid)) low = mid;
      else high = mid;
    }
    const last = low > 0 ? await this.events.findOne({ _id: low }) : null;
    this.head = last ? { seq: last._id, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    return this.head;
  }

  /** The head by a sorted query: authoritative, but a full scan on the embedded store. */
  private async readHeadSorted(): Promise<Head> {
    const [last] = await this.events.find({}, { sort: { _id: -1 }, limit: 1 }).toArray();
    this.head = last ? { seq: last._id, hash: last.hash } : { seq: 0, hash: GENESIS_HASH };
    return this.head;
  }

  /** The newest sequence number in the log (0 when empty). */
  async lastSeq(): Promise<number> {
    return (await this.readHead()).seq;
  }

  async get(seq: number): Promise<StoredEvent | null> {
    return this.events.findOne({ _id: seq });
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

  async findByIdempotencyKey(key: string): Promise<StoredEvent | null> {
    return this.events.findOne({ idempotencyKey: key });
  }

  /** Events after `after` in log order, visible to any of `audience` (all when omitted). */
  async page(after: number, limit: number, audience?: string[]): Promise<StoredEvent[]> {
    const filter = audience ? { audience: { $in: audience }, _id: { $gt: after } } : { _id: { $gt: after } };
    return this.events.find(filter, { sort: { _id: 1 }, limit }).toArray();
  }

  /** Events of one aggregate in order. */
  async history(aggregateId: string, after = 0, limit = 1000): Promise<StoredEvent[]> {
    return this.events.find({ aggregateId, _id: { $gt: after } }, { sort: { _id: 1 }, limit }).toArray();
  }

  /**
   * Writes an event's post-images into their collections. Safe to repeat: a document
   * is written only over its previous version, so a replay never moves one backwards.
   */
  async applyChanges(changes: DocumentChange[]): Promise<void> {
    for (const change of changes) {
      const collection = this.store.connection.collection(change.collection);
      const { doc } = change;
      if (doc.version === 1) {
        try {
          await collection.insertOne(doc as never);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
      } else {
        await collection.replaceOne({ _id: doc._id as never, version: doc.version - 1 }, doc);
      }
    }
  }

  /**
   * Re-applies the post-images of recent events whose documents are behind, so a write
   * interrupted between its event and its projection is finished (at start, and when a
   * write meets the version its predecessor claimed).
   */
  async reconcile(events: StoredEvent[]): Promise<number> {
    let repaired = 0;
    for (const event of events) {
      for (const change of event.changes) {
        const current = await this.store.connection
          .collection(change.collection)
          .findOne({ _id: change.doc._id as never }, { projection: { version: 1 } });
        const currentVersion = (current?.version as number | undefined) ?? 0;
        if (currentVersion < change.doc.version) {
          await this.applyChanges([change]);
          repaired += 1;
        }
      }
    }
    return repaired;
  }

  async reconcileRecent(count = 500): Promise<number> {
    const last = await this.lastSeq();
    const events = await this.page(Math.max(0, last - count), count);
    return this.reconcile(events);
  }
}

export type ChainProblem = { seq: number; problem: string };

/** Walks the log in order and reports the first broken link, if any. */
export async function verifyChain(
  log: EventLog,
  onProgress?: (seq: number) => void,
): Promise<{ checked: number; broken: ChainProblem | undefined }> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  const batch = 1000;
  for (;;) {
    const events = await log.page(expectedSeq - 1, batch);
    if (events.length === 0) return { checked, broken: undefined };
    for (const event of events) {
      if (event._id !== expectedSeq) {
        return { checked, broken: { seq: expectedSeq, problem: `event ${expectedSeq} is missing` } };
      }
      if (event.prevHash !== prevHash) {
        return { checked, broken: { seq: event._id, problem: 'does not link to the previous event' } };
      }
      const { hash, ...rest } = event;
      if (hashEvent(rest) !== hash) {
        return { checked, broken: { seq: event._id, problem: 'content does not match its hash' } };
      }
      prevHash = hash;
      expectedSeq += 1;
      checked += 1;
    }
    onProgress?.(expectedSeq - 1);
  }
}
