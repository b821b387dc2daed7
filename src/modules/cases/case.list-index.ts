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

function comparator(sort: Sort): (a: CaseListEntry, b: CaseListEntry) => number {
  const keys = Object.entries(sort) as [keyof CaseListEntry, 1 | -1][];
  return (a, b) => {
    for (const [field, direction] of keys) {
      const x = comparable(a[field]);
      const y = comparable(b[field]);
      if (x < y) return -direction;
      if (x > y) return direction;
    }
    return 0;
  };
}

export class CaseListIndex {
  private readonly entries = new Map<string, CaseListEntry>();
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
   * The entries matching `filter` (a store query, the scope included) in `sort` order, at
   * most `limit`, and how many match in all (counted only when asked).
   */
  async find(filter: Record<string, unknown>, sort: Sort, limit: number): Promise<CaseListEntry[]> {
    await this.current();
    const test = tester(filter);
    const matching: CaseListEntry[] = [];
    for (const entry of this.entries.values()) if (test(entry)) matching.push(entry);
    return matching.sort(comparator(sort)).slice(0, limit);
  }

  async count(filter: Record<string, unknown>): Promise<number> {
    await this.current();
    const test = tester(filter);
    let n = 0;
    for (const entry of this.entries.values()) if (test(entry)) n += 1;
    return n;
  }

  get size(): number {
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

  private put(entry: CaseListEntry): void {
    const held = this.entries.get(entry._id);
    if (held && held.version >= entry.version) return;
    this.entries.set(entry._id, { ...entry, createdAt: asDate(entry.createdAt)!, updatedAt: asDate(entry.updatedAt)! });
  }
}
