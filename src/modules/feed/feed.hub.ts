// One follower of the log per gateway, for every feed it serves: the `changes` query,
// subscriptions and webhooks. It reads the log by primary key (`_id = head + 1`: the log
// is gap-free, so a missing event means nothing new), keeps in memory the events that are
// not in a sealed segment yet, and seals each block of the log once it holds all of its
// events (segments.ts). Older events are read from the sealed segments of the audience
// markers asked for. So a page costs what it holds, not what the log holds, on every
// store: the embedded one answers nothing but a primary-key lookup without a scan.
//
// It polls on a short interval while anyone subscribes, and at once when this gateway
// commits something or a reader asks for the newest events.
import { feedMarkersOf } from '../../auth/policy.ts';
import type { Logger } from '../../logger.ts';
import type { StoredEvent } from '../../events/event.model.ts';
import type { EventLog } from '../../events/log.ts';
import type { FeedSegments } from './segments.ts';

export type FeedHubOptions = {
  intervalMs: number;
};

/** Lookups of events by primary key sent at once while following the log or filling a gap. */
const MAX_PARALLEL_LOOKUPS = 64;
/** Sealed blocks read at once, at most (a page reads one, then two, four… until it is full). */
const MAX_BLOCKS_AHEAD = 16;

export class FeedHub {
  /** The newest sequence number read; every event up to it exists. */
  private head = 0;
  /** Consecutive events ending at `head`: at least every event not sealed yet. */
  private buffer: StoredEvent[] = [];
  /** Every block below this one is sealed. */
  private sealedBlocks = 0;
  /** Events this gateway appended, ahead of `head` (no need to read them back). */
  private readonly appended = new Map<number, StoredEvent>();
  private started: Promise<void> | undefined;
  /** Started: `head` and `sealedBlocks` are known. */
  private following = false;
  private queued: Promise<void> | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private subscribers = 0;
  private stopped = false;
  private readonly listeners: ((event: StoredEvent) => void)[] = [];

  constructor(
    private readonly log: EventLog,
    private readonly segments: FeedSegments,
    private readonly logger: Logger,
    private readonly options: FeedHubOptions,
  ) {}

  /** The newest sequence number this hub has read (starts following the log on first use). */
  async position(): Promise<number> {
    await this.start();
    return this.head;
  }

  /** Reads up to the log's present head and returns it: every event up to it can be read. */
  async catchUp(): Promise<number> {
    await this.start();
    const head = await this.log.lastCommittedSeq(this.head);
    while (this.head < head || this.segments.lastOf(this.sealedBlocks) <= this.head) await this.poll();
    return head;
  }

  /** Resolves when the reads and seals under way are done (benchmarks, tests). */
  async idle(): Promise<void> {
    await this.chain;
  }

  /**
   * Calls `listener` with every event the hub reads from now on, in log order, once each
   * (whoever wrote it: this gateway or another). What a gateway must hear of promptly,
   * such as an erasure (its cached case key goes), hangs here.
   */
  onEvent(listener: (event: StoredEvent) => void): void {
    this.listeners.push(listener);
  }

  /** A subscriber starts: polling runs on the interval while anyone listens. Returns the release function. */
  join(): () => void {
    this.subscribers += 1;
    if (!this.timer && !this.stopped) {
      this.timer = setInterval(() => this.poke(), this.options.intervalMs);
      this.timer.unref();
      this.poke();
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.subscribers -= 1;
      if (this.subscribers === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /**
   * This gateway appended events: take them as they are, without reading them back, and
   * tell subscribers now. Only a gap (another gateway appended in between) is read from the
   * store; sealing waits for the next read of the hub, so a write costs no extra round trip.
   */
  observe(events: readonly StoredEvent[]): void {
    if (!this.following) return; // nobody has read through the hub yet: it starts from the store
    for (const event of events) if (event._id > this.head) this.appended.set(event._id, event);
    if (this.takeAppended()) this.wake();
    if (this.appended.size > 0) this.poke();
  }

  /** Reads what is new now (this gateway committed something; subscribers need not wait for the interval). */
  poke(): void {
    if (this.stopped) return;
    this.poll().catch((error: unknown) => this.logger.warn({ err: error }, 'feed poll failed'));
  }

  /** Resolves when the hub has read past `after`, or when the signal aborts. */
  async waitBeyond(after: number, signal: AbortSignal): Promise<void> {
    if (this.head > after || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * Events after `after` up to `until` (at most the hub's position) that any of `markers`
   * may read (all events when null), in log order, at most `limit`.
   */
  async read(markers: readonly string[] | null, after: number, until: number, limit: number): Promise<StoredEvent[]> {
    await this.start();
    const last = Math.min(until, this.head);
    const wanted = markers ? (event: StoredEvent) => feedMarkersOf(event).some((marker) => markers.includes(marker)) : () => true;
    const out: StoredEvent[] = [];
    let position = after;
    let ahead = 1;
    while (out.length < limit && position < last) {
      const inMemory = this.buffer[0]?._id ?? this.head + 1;
      if (position + 1 >= inMemory) {
        for (let i = position + 1 - inMemory; i < this.buffer.length && out.length < limit; i += 1) {
          const event = this.buffer[i]!;
          if (event._id > last) break;
          if (wanted(event)) out.push(event);
        }
        break;
      }
      const block = this.segments.blockOf(position + 1);
      let upTo: number;
      if (block < this.sealedBlocks) {
        const blocks = Array.from(
          { length: Math.min(ahead, this.sealedBlocks - block, this.segments.blockOf(last) - block + 1) },
          (_, i) => block + i,
        );
        const read = await Promise.all(blocks.map((b) => this.segments.read(b, markers)));
        for (const event of read.flat()) {
          if (out.length >= limit) break;
          if (event._id > position && event._id <= last) out.push(event);
        }
        upTo = this.segments.lastOf(blocks.at(-1)!);
        ahead = Math.min(ahead * 2, MAX_BLOCKS_AHEAD);
      } else {
        // Neither sealed nor in memory (not yet read since start): by primary key.
        upTo = Math.min(last, inMemory - 1, position + MAX_PARALLEL_LOOKUPS);
        const events = await this.lookup(position + 1, upTo);
        for (const event of events) if (out.length < limit && wanted(event)) out.push(event);
      }
      position = Math.min(upTo, last);
    }
    return out;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const wake of [...this.waiters]) wake();
  }

  /**
   * Starts following the log: from the first block that is not sealed (normally the one
   * holding the head), reading forward to the head and sealing blocks as they fill.
   */
  private start(): Promise<void> {
    this.started ??= (async () => {
      const head = await this.log.lastCommittedSeq();
      let frontier = this.segments.blockOf(head + 1);
      while (frontier > 0 && !(await this.segments.isSealed(frontier - 1))) frontier -= 1;
      this.sealedBlocks = frontier;
      this.head = this.segments.firstOf(frontier) - 1;
      this.following = true;
    })().catch((error: unknown) => {
      this.started = undefined;
      throw error;
    });
    return this.started;
  }

  /** One reader at a time; a poll asked for while one runs runs once more after it. */
  private poll(): Promise<void> {
    if (this.queued) return this.queued;
    const run = this.chain.then(() => {
      this.queued = undefined;
      return this.readNew();
    });
    this.queued = run;
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async readNew(): Promise<void> {
    await this.start();
    const before = this.head;
    this.takeAppended();
    let batch = 1;
    for (;;) {
      const events = await this.lookup(this.head + 1, this.head + batch);
      // Events this gateway appended meanwhile may have been taken already.
      for (const event of events) if (event._id > this.head && !this.take(event)) break;
      this.takeAppended();
      await this.sealFull();
      if (events.length < batch) break;
      batch = Math.min(batch * 2, MAX_PARALLEL_LOOKUPS);
    }
    for (const seq of this.appended.keys()) if (seq <= this.head) this.appended.delete(seq);
    if (this.head !== before) this.wake();
  }

  /** Appends the next event of the log to the buffer; false when it is not the next one. */
  private take(event: StoredEvent): boolean {
    if (event._id !== this.head + 1) return false;
    this.appended.delete(event._id);
    this.buffer.push(event);
    this.head = event._id;
    for (const listener of this.listeners) listener(event);
    return true;
  }

  /** Takes the events this gateway appended that continue the log; true when there were any. */
  private takeAppended(): boolean {
    let took = false;
    for (let next = this.appended.get(this.head + 1); next; next = this.appended.get(this.head + 1)) took = this.take(next);
    return took;
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /** Seals every complete block the buffer holds, and forgets their events. */
  private async sealFull(): Promise<void> {
    while (this.segments.lastOf(this.sealedBlocks) <= this.head) {
      const block = this.sealedBlocks;
      const first = this.segments.firstOf(block);
      const start = first - (this.buffer[0]?._id ?? first);
      const events = this.buffer.slice(start, start + this.segments.blockSize);
      if (!(await this.segments.isSealed(block))) await this.segments.seal(block, events);
      this.sealedBlocks = block + 1;
      this.buffer = this.buffer.slice(start + this.segments.blockSize);
    }
  }

  /** Consecutive events from `from` to `to` by primary key, up to the first one missing. */
  private async lookup(from: number, to: number): Promise<StoredEvent[]> {
    const seqs = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
    const found = await Promise.all(
      seqs.map((seq) => {
        const known = this.appended.get(seq);
        return known ? Promise.resolve(known) : this.log.getCommitted(seq);
      }),
    );
    const missing = found.findIndex((event) => event === null);
    return (missing < 0 ? found : found.slice(0, missing)) as StoredEvent[];
  }
}
