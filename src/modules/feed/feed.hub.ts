// One poller per gateway for all its subscribers. The log is the only source: the hub
// reads it after its last sequence number (on a short interval, or at once when this
// gateway commits something) and keeps the newest events in a bounded buffer. Each
// subscriber keeps its own cursor and reads from the buffer, or from the store when it
// is further behind, so every gateway on the store delivers every event and a slow
// subscriber costs no memory here.
//
// The poll first probes `_id = head + 1`: the log is gap-free, so when that event does
// not exist there is nothing new, and the probe is a primary-key lookup on every store.
import type { Logger } from '../../logger.ts';
import type { StoredEvent } from '../../events/event.model.ts';
import type { EventLog } from '../../events/log.ts';

export type FeedHubOptions = {
  intervalMs: number;
  /** Events kept for subscribers that are nearly current. */
  bufferSize?: number;
};

const PAGE = 1000;

export class FeedHub {
  private head = -1;
  private buffer: StoredEvent[] = [];
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private again = false;
  private subscribers = 0;
  private stopped = false;
  private readonly bufferSize: number;

  constructor(
    private readonly log: EventLog,
    private readonly logger: Logger,
    private readonly options: FeedHubOptions,
  ) {
    this.bufferSize = options.bufferSize ?? 5000;
  }

  /** The newest sequence number this hub has read (reads the log's head on first use). */
  async position(): Promise<number> {
    if (this.head < 0) this.head = await this.log.lastSeq();
    return this.head;
  }

  /** A subscriber starts: polling runs while anyone listens. Returns the release function. */
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
      if (this.subscribers === 0) {
        // Idle: forget the position, so the next subscriber starts from the head, not from a backlog.
        if (this.timer) clearInterval(this.timer);
        this.timer = undefined;
        if (!this.polling) {
          this.head = -1;
          this.buffer = [];
        }
      }
    };
  }

  /** Polls now (this gateway committed an event; its subscribers need not wait for the interval). */
  poke(): void {
    if (this.subscribers === 0 || this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = this.poll()
      .catch((error: unknown) => this.logger.warn({ err: error }, 'feed poll failed'))
      .finally(() => {
        this.polling = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async poll(): Promise<void> {
    const before = this.head;
    const from = await this.position();
    if (await this.log.get(from + 1)) {
      let after = from;
      for (;;) {
        const events = await this.log.page(after, PAGE);
        if (events.length === 0) break;
        this.buffer.push(...events);
        after = events.at(-1)!._id;
        if (events.length < PAGE) break;
      }
      if (this.buffer.length > this.bufferSize) this.buffer = this.buffer.slice(-this.bufferSize);
      this.head = after;
    }
    // Also when the position was only just read: a subscriber behind it catches up from the store.
    if (this.head === before) return;
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Events after `after` from the buffer, up to `limit`; undefined when the buffer no
   * longer reaches back that far (the subscriber reads the store instead).
   */
  recent(after: number, limit: number): StoredEvent[] | undefined {
    if (after >= this.head) return [];
    const first = this.buffer[0];
    if (!first || first._id > after + 1) return undefined;
    const start = after + 1 - first._id;
    return this.buffer.slice(start, start + limit);
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

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const wake of [...this.waiters]) wake();
  }
}
