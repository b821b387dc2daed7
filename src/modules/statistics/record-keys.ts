// Each case's secret record key for the cell key method (perturbation.ts). Kept in a
// collection of their own, read by the statistics service only: not on the case (whose
// post-images travel through the event log, the feed and exports) and never in an event,
// so no API, feed or audit trail can hand one out. A key is not personal data and outlives
// the case's erasure, so the statistics keep counting an erased case with the same noise.
//
// A case gets its key the first time a table counts it (cases stored before the method
// existed included): claimed by inserting `{ _id: caseId }`, so when two tables race for
// the same case the first insert wins and the other reads the winner's key.
//
// Beside them, one secret of the deployment, under which cell keys are hashed before the
// noise is read (perturbation.ts, scrambleKey): drawn by the first table the same way, in a
// collection of its own, and never changed (a new one would redraw every noise).
import { randomBytes } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey, type Store } from '../../store/store.ts';
import { op } from '../../store/tenant.ts';
import { KEY_RANGE } from './perturbation.ts';

export type RecordKeyDoc = { _id: string; key: number; at: Date };

export const recordKeySchema = new Schema<RecordKeyDoc>(
  {
    _id: { type: String, required: true },
    key: { type: Number, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'statistics_record_keys', versionKey: false },
);

export type SecretDoc = { _id: string; secret: string; at: Date };

export const secretSchema = new Schema<SecretDoc>(
  {
    _id: { type: String, required: true },
    /** 32 random bytes, base64. */
    secret: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'statistics_secrets', versionKey: false },
);

const CELL_KEY_SECRET = 'cell-key';

export type RecordKeys = ReturnType<typeof createRecordKeys>;

export function createRecordKeys(store: Store, now: () => Date) {
  const Keys: Model<RecordKeyDoc> = store.model('StatisticsRecordKey', recordKeySchema);
  const Secrets: Model<SecretDoc> = store.model('StatisticsSecret', secretSchema);

  const fresh = (): number => randomBytes(4).readUInt32BE(0) % KEY_RANGE;

  /** The stored secret, or the one this call draws when there is none (the first insert wins). */
  async function readOrDrawSecret(): Promise<Buffer> {
    const stored = await Secrets.findById(CELL_KEY_SECRET).lean<SecretDoc>();
    if (stored) return Buffer.from(stored.secret, 'base64');
    const drawn = randomBytes(32);
    try {
      await Secrets.collection.insertOne({ _id: CELL_KEY_SECRET as never, secret: drawn.toString('base64'), at: now() });
      return drawn;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const winner = await Secrets.findById(CELL_KEY_SECRET).lean<SecretDoc>();
    return Buffer.from(winner!.secret, 'base64');
  }
  let secret: Promise<Buffer> | undefined;

  return {
    /** The deployment's cell-key secret, read once per gateway (it never changes). */
    secret(): Promise<Buffer> {
      secret ??= readOrDrawSecret().catch((error: unknown) => {
        secret = undefined;
        throw error;
      });
      return secret;
    },

    /** Every key in case id order (for a merge join with the cases). */
    cursor() {
      return Keys.find({}).select('key').sort({ _id: 1 }).lean<RecordKeyDoc[]>().cursor({ batchSize: 1000 });
    },

    /** Keys for cases that have none yet: drawn here, or the one another request claimed first. */
    async claim(caseIds: string[]): Promise<Map<string, number>> {
      const at = now();
      const drawn = caseIds.map((id) => ({ _id: id, key: fresh(), at }));
      const keys = new Map(drawn.map((d) => [d._id, d.key]));
      try {
        await Keys.collection.insertMany(drawn as never[], { ordered: false });
        return keys;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      // Some were claimed by a concurrent table: the stored key is the case's key.
      const stored = await Keys.find({ _id: op({ $in: caseIds }) })
        .select('key')
        .lean<RecordKeyDoc[]>();
      for (const doc of stored) keys.set(doc._id, doc.key);
      return keys;
    },
  };
}
