// Background work on several gateways at once: a job run is claimed by inserting its
// lease (`<job>:<time bucket>`) into a collection with a unique _id, the one primitive
// that is atomic on every store. The instance whose insert succeeds does the run; the
// others skip it. Nothing is held: a lease is just a record that the bucket was taken.
import { Schema, type Model } from 'mongoose';
import type { Logger } from '../logger.ts';
import type { Clock } from '../clock.ts';
import { isDuplicateKey, type Store } from '../store/store.ts';

type LeaseDoc = { _id: string; job: string; owner: string; at: Date };

const leaseSchema = new Schema<LeaseDoc>(
  {
    _id: { type: String, required: true },
    job: { type: String, required: true },
    owner: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'leases', versionKey: false },
);
leaseSchema.index({ at: 1 });

export type Job = {
  name: string;
  /** How often it runs (one run per interval across all instances). */
  everyMs: number;
  run: () => Promise<unknown>;
  /**
   * false: the job runs on every instance at every interval, without a lease, because it
   * claims its own units of work (webhook deliveries) and a lease per short interval would
   * only fill the lease collection.
   */
  lease?: boolean;
};

export class JobRunner {
  private readonly leases: Model<LeaseDoc>;
  private timers: NodeJS.Timeout[] = [];
  /** Runs in progress in this process: a job whose last run has not finished skips a tick. */
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly owner = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    store: Store,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.leases = store.model<LeaseDoc>('Lease', leaseSchema);
  }

  /** Claims the run of `job` for the current time bucket; true when this instance got it. */
  async claim(job: string, everyMs: number): Promise<boolean> {
    const now = this.clock.now();
    const bucket = Math.floor(now.getTime() / everyMs);
    try {
      await this.leases.collection.insertOne({ _id: `${job}:${bucket}` as never, job, owner: this.owner, at: now });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /** Runs the job now if this instance wins the current bucket. */
  async tick(job: Job): Promise<boolean> {
    if (this.running.has(job.name)) return false;
    const run = (async () => {
      if (job.lease !== false && !(await this.claim(job.name, job.everyMs))) return false;
      await job.run();
      return true;
    })();
    this.running.set(job.name, run);
    try {
      return await run;
    } finally {
      this.running.delete(job.name);
    }
  }

  start(jobs: Job[]): void {
    for (const job of jobs) {
      const timer = setInterval(
        () => {
          this.tick(job).catch((error: unknown) => this.logger.warn({ err: error, job: job.name }, 'background job failed'));
        },
        Math.min(job.everyMs, 60_000),
      );
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Stops the timers; resolves when the runs in progress have finished. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.running.values()]);
  }

  /** Old leases are only history; keep a week. */
  async purge(): Promise<void> {
    await this.leases.collection.deleteMany({ at: { $lt: new Date(this.clock.now().getTime() - 7 * 86_400_000) } });
  }
}
