// Idempotency keys: a write that carries a key claims `<organisation>:<key>` by an insert
// (atomic on both stores). A retry with the same key and input gets the first result; the
// same key with another input is refused. A claim left pending by a crash is recovered
// from the event log, where the write's event names the key, and so is one whose attempt
// ended without learning whether it committed (`unknown`). So a key without a record has no
// earlier attempt that may have committed (within the records' retention, see services.ts):
// a write refused on a fresh claim is answered without searching the log for the key, which
// the embedded store can only do by reading the whole log. This record is the fast path
// and the input check; that a request commits at most once is the event log's own unique
// request claim (see event.model.ts), which holds whatever timing the claims here meet.
import { Schema, type Model } from 'mongoose';
import { badInput, requestInProgress } from '../errors.ts';
import { isDuplicateKey, type Store } from '../store/store.ts';

export type IdempotencyRecord = {
  _id: string;
  /** A keyed digest of the command and its input (Sealer.fingerprint), never the input itself. */
  inputHash: string;
  /** `unknown`: an attempt ended without learning whether it committed (a retry asks the log). */
  status: 'pending' | 'done' | 'unknown';
  at: Date;
  /** The event the write appended. */
  eventSeq: number | null;
};

const idempotencySchema = new Schema<IdempotencyRecord>(
  {
    _id: { type: String, required: true },
    inputHash: { type: String, required: true },
    status: { type: String, enum: ['pending', 'done', 'unknown'], required: true },
    at: { type: Date, required: true },
    eventSeq: { type: Number, default: null },
  },
  { collection: 'idempotency', versionKey: false },
);
idempotencySchema.index({ at: 1 });

/**
 * How long a pending claim is trusted to belong to a write still in flight; after that a
 * retry looks in the log and either answers from it or takes the claim over. Longer than
 * a write can take (the store timeout bounds each of its round trips).
 */
const PENDING_GRACE_MS = 10_000;
const POLL_MS = 50;
const MAX_WAIT_MS = 5_000;

export type Claim =
  /** A new record: no earlier attempt with this key may have committed. */
  | { kind: 'claimed' }
  | { kind: 'replay'; eventSeq: number }
  /**
   * The claim was pending past its grace period, or its attempt's outcome unknown, and no
   * event names it: the earlier attempt did not commit (or not yet: the log's request claim
   * still refuses it a second time).
   */
  | { kind: 'taken-over' };

export const keyReusedForAnotherRequest = () =>
  badInput('This idempotency key was already used for a different request.', [
    { path: 'idempotencyKey', message: 'reused with a different input' },
  ]);

export class IdempotencyStore {
  readonly model: Model<IdempotencyRecord>;
  private readonly queryOptions: { maxTimeMS: number };

  constructor(store: Store) {
    this.model = store.model<IdempotencyRecord>('Idempotency', idempotencySchema);
    this.queryOptions = store.queryOptions;
  }

  /**
   * Claims `key` for a request with this input fingerprint; `sameRequest` tells whether a
   * stored fingerprint is of the same input (fingerprints are keyed, so compared by the sealer).
   */
  async claim(
    request: { key: string; fingerprint: string },
    sameRequest: (fingerprint: string) => boolean,
    findCommitted: (key: string) => Promise<number | undefined>,
  ): Promise<Claim> {
    const { key, fingerprint } = request;
    try {
      await this.model.collection.insertOne({
        _id: key as never,
        inputHash: fingerprint,
        status: 'pending',
        at: new Date(),
        eventSeq: null,
      });
      return { kind: 'claimed' };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const started = Date.now();
    for (;;) {
      const record = await this.model.collection.findOne({ _id: key as never }, this.queryOptions);
      if (!record) return this.claim(request, sameRequest, findCommitted); // released meanwhile
      if (!sameRequest(record.inputHash)) throw keyReusedForAnotherRequest();
      if (record.status === 'done' && typeof record.eventSeq === 'number') {
        return { kind: 'replay', eventSeq: record.eventSeq };
      }
      const age = Date.now() - new Date(record.at as Date).getTime();
      if (record.status === 'unknown' || age > PENDING_GRACE_MS) {
        const committed = await findCommitted(key);
        if (committed !== undefined) {
          await this.complete(key, committed);
          return { kind: 'replay', eventSeq: committed };
        }
        await this.model.collection.updateOne({ _id: key as never }, { $set: { status: 'pending', at: new Date() } });
        return { kind: 'taken-over' };
      }
      if (Date.now() - started > MAX_WAIT_MS) {
        throw requestInProgress();
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async complete(key: string, eventSeq: number): Promise<void> {
    await this.model.collection.updateOne({ _id: key as never }, { $set: { status: 'done', eventSeq } });
  }

  /** An attempt that may have committed unseen: a retry asks the log at once, instead of waiting out the grace. */
  async unknown(key: string): Promise<void> {
    await this.model.collection.updateOne({ _id: key as never }, { $set: { status: 'unknown' } });
  }

  /** Frees a claim whose write was refused, so the client can correct and retry. */
  async release(key: string): Promise<void> {
    // Read, then delete, by `_id` alone: with the status in its filter the embedded store reads
    // every record (a second at 20,000, a week of a busy network's writes) for each refusal.
    // A retry that took the claim over and completed in between loses its record: its own
    // retries are then answered as new requests, never written twice (the log's request claim).
    const record = await this.model.collection.findOne({ _id: key as never }, this.queryOptions);
    if (record?.status === 'pending') await this.model.collection.deleteOne({ _id: key as never });
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    const result = await this.model.collection.deleteMany({ at: { $lt: cutoff } });
    return result.deletedCount;
  }
}
