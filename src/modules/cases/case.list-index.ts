// The gateway's memory of the list entries: every case's entry (case.list-entry.ts), so a
// page of a list is chosen in memory instead of by a query the embedded store can only
// answer by decoding every entry (at 2,000 cases most of a page's time, at 10,000 seconds).
//
// It is a read model of the log, not a second store: filled once from `case_list` (the
// store's copy, which stays the reference and keeps its indexes), then kept by the log
// itself: every event the feed's follower reads (this gateway's and every other's) carries
// the post-image of each case it wrote, and the entry is derived from it as the projection
// derives the stored one. Before a page is chosen the follower catches up with the log's
// head (primary-key lookups, as a `changes` page does), so a page shows every write
// committed before it was asked for, whichever gateway took it.
//
// Filters and the caller's scope are the store's own query, evaluated by sift (MongoDB's
// query language in JavaScript, which mongoose itself uses): the page is the one the store
// would answer (test/case-list-index.test.ts compares them).
import siftModule from 'sift';
import type { StoredEvent } from '../../events/event.model.ts';
import { listEntryOf, type CaseListEntry } from './case.list-entry.ts';
import type { CaseDoc } from './case.model.ts';

/** The follower of the log (the feed's hub): it calls `observe` with every event it reads. */
export type LogFollower = {
  /** Reads the log up to its present head; every event up to it has been observed when it resolves. */
  catchUp: () => Promise<unknown>;
  /**
   * The last events before the follower's position, read again once at the load: the
   * follower starts at the first block of the log that is not sealed, and an event just
   * before it may not be in the store's entries yet (its projection still under way).
   */
  recent: () => Promise<StoredEvent[]>;
};

type Sort = Record<string, 1 | -1>;

// sift is CommonJS: its default import is the module, with every operation on it.
const { createQueryTester, $and, $or, $in, $eq, $gt, $gte, $lt, $lte, $regex, $options } = siftModule;
/** The operations list queries use, and no others (no `$where`: nothing here runs code from a query). */
const OPERATIONS = { $and, $or, $in, $eq, $gt, $gte, $lt, $lte, $regex, $options };
const tester = (filter: Record<string, unknown>) => createQueryTester(filter, { operations: OPERATIONS });

const asDate = (value: unknown): Date | null =>
  value === null || value === undefined ? null : value instanceof Date ? value : new Date(value as string);

function comparable(value: unknown): number | string {
  if (value instanceof Date) return value.getTime();
  if (value === null || value === undefined) return -Infinity; // MongoDB sorts null before every value
  return value as number | string;
}

/** Documents in the order a store's sort gives them (entries here, a case's records elsewhere). */
export function storeOrder<T>(sort: Sort): (a: T, b: T) => number {
  const keys = Object.entries(sort);
  return (a, b) => {
    for (const [field, direction] of keys) {
      const x = comparable((a as Record<string, unknown>)[field]);
      const y = comparable((b as Record<string, unknown>)[field]);
      if (x < y) return -direction;
      if (x > y) return direction;
    }
    return 0;
  };
}

/** Fields whose equality narrows a query to one bucket of entries (every scope names one). */
const BUCKETED = ['memberState', 'partner'] as const;
type Bucketed = (typeof BUCKETED)[number];
const bucketKey = (field: Bucketed, value: string) => `${field}:${value}`;

/**
 * The buckets a query's matches must all be in: for a top-level equality (or `$in` of
 * values) on a bucketed field, the buckets of those values; the smallest such choice.
 * Undefined when the query names none (every entry is a candidate).
 */
function bucketsOf(filter: Record<string, unknown>, size: (key: string) => number): string[] | undefined {
  let best: string[] | undefined;
  let bestSize = Infinity;
  const consider = (keys: string[]) => {
    const total = keys.reduce((n, key) => n + size(key), 0);
    if (total < bestSize) [best, bestSize] = [keys, total];
  };
  const visit = (f: Record<string, unknown>) => {
    for (const [field, condition] of Object.entries(f)) {
      if (field === '$and' && Array.isArray(condition)) for (const part of condition) visit(part as Record<string, unknown>);
      if (!(BUCKETED as readonly string[]).includes(field)) continue;
      if (typeof condition === 'string') consider([bucketKey(field as Bucketed, condition)]);
      const values = (condition as { $in?: unknown } | null)?.$in;
      if (Object.keys(condition ?? {}).length === 1 && Array.isArray(values) && values.every((v) => typeof v === 'string')) {
        consider([...new Set(values)].map((v) => bucketKey(field as Bucketed, v)));
      }
    }
  };
  visit(filter);
  return best;
}

/** Queries whose answers are remembered (each an array of the entries it matched). */
const ANSWERS_REMEMBERED = 64;

/** A query and its order as a key (regular expressions and dates included). */
const queryKey = (filter: Record<string, unknown>, sort: Sort): string =>
  JSON.stringify([filter, sort], (_, value: unknown) => (value instanceof RegExp ? `/${value.source}/${value.flags}` : value));

export class CaseListIndex {
  private readonly entries = new Map<string, CaseListEntry>();
  /** The entries by member state and by partner (see bucketsOf). */
  private readonly buckets = new Map<string, Map<string, CaseListEntry>>();
  /** Counts changes: of any entry, and (the count when it last changed) of each bucket. */
  private generation = 0;
  private readonly generations = new Map<string, number>();
  /** Answers to recent queries (see sorted), least recently used first out. */
  private readonly answers = new Map<string, { stamp: string; entries: CaseListEntry[] }>();
  private loaded: Promise<void> | undefined;
  private follower: LogFollower | undefined;

  /** `load`: every list entry in the store (read once, at the first page). */
  constructor(private readonly load: () => Promise<CaseListEntry[]>) {}

  /** The follower of the log that keeps the index (set once, when the gateway is built). */
  follow(follower: LogFollower): void {
    this.follower = follower;
  }

  /**
   * An event read from the log: the entry of every case it wrote, at its new version. An
   * entry never goes back to an older version (the load and the follower may cross).
   */
  observe(event: StoredEvent): void {
    for (const change of event.changes) {
      if (change.collection === 'cases') this.put(listEntryOf(change.doc as unknown as CaseDoc));
    }
  }

  /**
   * The entries matching `filter` (a store query, the scope included) in `sort` order,
   * beyond `position` (a cursor's condition, also a store query) when given, at most `limit`.
   */
  async find(
    filter: Record<string, unknown>,
    sort: Sort,
    limit: number,
    position?: Record<string, unknown>,
  ): Promise<CaseListEntry[]> {
    await this.current();
    const sorted = this.sorted(filter, sort);
    if (!position) return sorted.slice(0, limit);
    // In sort order, the entries beyond a cursor's position come after every entry before it.
    const beyond = tester(position);
    const start = sorted.findIndex((entry) => beyond(entry));
    return start < 0 ? [] : sorted.slice(start, start + limit);
  }

  /** How many entries match `filter`. */
  async count(filter: Record<string, unknown>, sort: Sort = { _id: 1 }): Promise<number> {
    await this.current();
    return this.sorted(filter, sort).length;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Loads the entries now (the gateway's start), so the first page after a restart does not wait for them. */
  async warm(): Promise<number> {
    await this.current();
    return this.entries.size;
  }

  /** Loaded once, then caught up with the log's head. */
  private async current(): Promise<void> {
    const follower = this.follower;
    if (!follower) throw new Error('the list index follows no log');
    this.loaded ??= this.fill(follower).catch((error: unknown) => {
      this.loaded = undefined;
      throw error;
    });
    await this.loaded;
    await follower.catchUp();
  }

  private async fill(follower: LogFollower): Promise<void> {
    // The follower first: every event it reads from here on reaches `observe`, so what the
    // store's entries miss (a projection not yet written when they were read) comes from the log.
    await follower.catchUp();
    const [stored, recent] = await Promise.all([this.load(), follower.recent()]);
    for (const entry of stored) this.put(listEntryOf(entry));
    for (const event of recent) this.observe(event);
  }

  /**
   * The entries matching `filter`, in `sort` order: tested only among the buckets the filter
   * names, and remembered until an entry of those buckets changes (a dashboard asked again
   * and again costs a lookup here, not a test of every entry and a sort).
   */
  private sorted(filter: Record<string, unknown>, sort: Sort): CaseListEntry[] {
    const keys = bucketsOf(filter, (key) => this.buckets.get(key)?.size ?? 0);
    const stamp = keys ? keys.map((key) => this.generations.get(key) ?? 0).join() : String(this.generation);
    const key = queryKey(filter, sort);
    const known = this.answers.get(key);
    if (known?.stamp === stamp) {
      this.answers.delete(key);
      this.answers.set(key, known);
      return known.entries;
    }
    const test = tester(filter);
    const candidates = keys ? keys.map((k) => this.buckets.get(k)?.values() ?? []) : [this.entries.values()];
    const entries: CaseListEntry[] = [];
    for (const bucket of candidates) for (const entry of bucket) if (test(entry)) entries.push(entry);
    entries.sort(storeOrder<CaseListEntry>(sort));
    this.answers.delete(key);
    this.answers.set(key, { stamp, entries });
    if (this.answers.size > ANSWERS_REMEMBERED) this.answers.delete(this.answers.keys().next().value!);
    return entries;
  }

  private put(entry: CaseListEntry): void {
    const held = this.entries.get(entry._id);
    if (held && held.version >= entry.version) return;
    const stored = {
      ...entry,
      createdAt: asDate(entry.createdAt)!,
      updatedAt: asDate(entry.updatedAt)!,
      nextDeadlineAt: asDate(entry.nextDeadlineAt),
    };
    this.entries.set(entry._id, stored);
    this.generation += 1;
    for (const field of BUCKETED) {
      if (held?.[field]) {
        const before = bucketKey(field, held[field]);
        this.buckets.get(before)?.delete(entry._id);
        this.generations.set(before, this.generation);
      }
      const value = stored[field];
      if (!value) continue;
      const key = bucketKey(field, value);
      this.generations.set(key, this.generation);
      let bucket = this.buckets.get(key);
      if (!bucket) this.buckets.set(key, (bucket = new Map()));
      bucket.set(entry._id, stored);
    }
  }
}
