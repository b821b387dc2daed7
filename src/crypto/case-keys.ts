// Per-case data keys. Every personal value of a case (special categories, narratives,
// survey answers, evidence) is sealed under the case's own AES-256 key; that key is kept
// in `case_keys` wrapped (sealed) by the gateway's key. Erasing a case destroys its key:
// every copy of every value sealed under it (the case, its records, the event log's
// post-images, the feed's segments, evidence chunks, backups) stops opening at once, while
// the log's hash chain is untouched. Any module can seal a field of a case here; the field
// names its value in the context the ciphertext is bound to.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import DataLoader from 'dataloader';
import { Schema, type Model } from 'mongoose';
import type { Clock } from '../clock.ts';
import { isDuplicateKey, type Store } from '../store/store.ts';
import { SealError, type Sealer } from './sealed.ts';

/** A value sealed under a case key: `k1:<iv>:<tag>:<body>` (base64). `v1:` values are the gateway key's (before case keys). */
const VERSION = 'k1';
/** Evidence chunks under a case key start with these bytes (gateway-sealed chunks start with a 4-byte key id). */
const BYTES_MAGIC = Buffer.from('ck1\0', 'latin1');

export type CaseKeyDoc = {
  /** The case id. */
  _id: string;
  /** The data key sealed by the gateway key (Sealer.seal), null once destroyed. */
  wrapped: string | null;
  createdAt: Date;
  erasedAt: Date | null;
};

const caseKeySchema = new Schema<CaseKeyDoc>(
  {
    _id: { type: String, required: true },
    wrapped: { type: String, default: null },
    createdAt: { type: Date, required: true },
    erasedAt: { type: Date, default: null },
  },
  { collection: 'case_keys', versionKey: false },
);

/** Sealing a new value on a case whose key was destroyed: the case was erased. */
export class CaseErasedError extends Error {
  override name = 'CaseErasedError';
  constructor(readonly caseId: string) {
    super(`case ${caseId} was erased: its data key is destroyed`);
  }
}

/** One case's key: seals and opens that case's values. Opening an erased case's value gives null. */
export type CaseKey = {
  readonly caseId: string;
  readonly erased: boolean;
  seal(context: string, plaintext: Buffer | string): string;
  open(context: string, sealed: string): Buffer | null;
  openText(context: string, sealed: string): string | null;
  sealBytes(context: string, plaintext: Buffer): Buffer;
  openBytes(context: string, sealed: Buffer): Buffer | null;
};

const wrapContext = (caseId: string) => `case-key:${caseId}`;
/** The additional data a value is bound to: its case and where it belongs. */
const aad = (caseId: string, context: string) => Buffer.from(`${caseId}|${context}`, 'utf8');

function keyOf(caseId: string, dataKey: Buffer | null, gateway: Sealer): CaseKey {
  function encrypt(context: string, plaintext: Buffer) {
    if (!dataKey) throw new CaseErasedError(caseId);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
    cipher.setAAD(aad(caseId, context));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv, tag: cipher.getAuthTag(), body };
  }
  function decrypt(context: string, iv: Buffer, tag: Buffer, body: Buffer): Buffer | null {
    if (!dataKey) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', dataKey, iv);
      decipher.setAAD(aad(caseId, context));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new SealError('sealed value does not open (tampered, or not from this case)');
    }
  }
  return {
    caseId,
    erased: dataKey === null,
    seal(context, plaintext) {
      const { iv, tag, body } = encrypt(context, Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'));
      return [VERSION, iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join(':');
    },
    open(context, sealed) {
      // Sealed before case keys existed: the gateway key opens it (and erasure cannot reach it).
      if (sealed.startsWith('v1:')) return gateway.open(sealed, context);
      const parts = sealed.split(':');
      if (parts.length !== 4 || parts[0] !== VERSION) throw new SealError('not a sealed value');
      return decrypt(
        context,
        Buffer.from(parts[1]!, 'base64'),
        Buffer.from(parts[2]!, 'base64'),
        Buffer.from(parts[3]!, 'base64'),
      );
    },
    openText(context, sealed) {
      return this.open(context, sealed)?.toString('utf8') ?? null;
    },
    sealBytes(context, plaintext) {
      const { iv, tag, body } = encrypt(context, plaintext);
      return Buffer.concat([BYTES_MAGIC, iv, tag, body]);
    },
    openBytes(context, sealed) {
      if (!sealed.subarray(0, 4).equals(BYTES_MAGIC)) return gateway.openBytes(sealed, context);
      if (sealed.length < 32) throw new SealError('sealed bytes too short');
      return decrypt(context, sealed.subarray(4, 16), sealed.subarray(16, 32), sealed.subarray(32));
    },
  };
}

const CACHE_MAX = 10_000;

export type CaseKeys = ReturnType<typeof createCaseKeys>;

/**
 * `cacheMs`: how long an unwrapped key is kept in memory (ERIN_CASE_KEY_CACHE). An erasure
 * drops the key from this gateway's cache at once; another gateway evicts it when its log
 * follower reads the CaseErased event (services.ts), and holds it at most this long if that
 * follower lags; a write there is refused anyway once the case's erasure is committed.
 */
export function createCaseKeys(deps: { store: Store; sealer: Sealer; clock: Clock; cacheMs: number }) {
  const { store, sealer, clock, cacheMs } = deps;
  const Keys: Model<CaseKeyDoc> = store.model('CaseKey', caseKeySchema);
  const cache = new Map<string, { key: CaseKey; until: number }>();

  function remember(key: CaseKey): CaseKey {
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key.caseId, { key, until: Date.now() + cacheMs });
    return key;
  }

  function unwrap(doc: CaseKeyDoc | undefined, caseId: string): CaseKey | undefined {
    if (!doc) return undefined;
    return keyOf(caseId, doc.wrapped ? sealer.open(doc.wrapped, wrapContext(caseId)) : null, sealer);
  }

  // Keys asked for in the same tick (a page of cases) are read in one query.
  const loader = new DataLoader<string, CaseKey | undefined>(
    async (ids) => {
      const docs =
        ids.length === 1
          ? [await Keys.collection.findOne({ _id: ids[0] as never }, store.queryOptions)].filter((d) => d !== null)
          : await Keys.collection.find({ _id: { $in: [...ids] } as never }, store.queryOptions).toArray();
      const byId = new Map(docs.map((d) => [String(d._id), d as unknown as CaseKeyDoc]));
      return ids.map((id) => unwrap(byId.get(id), id));
    },
    { cache: false, maxBatchSize: 500 },
  );

  async function existing(caseId: string): Promise<CaseKey | undefined> {
    const hit = cache.get(caseId);
    if (hit && hit.until > Date.now()) return hit.key;
    const key = await loader.load(caseId);
    return key ? remember(key) : undefined;
  }

  async function newKeys(caseIds: readonly string[]): Promise<CaseKeyDoc[]> {
    const now = clock.now();
    return caseIds.map((id) => ({
      _id: id,
      wrapped: sealer.seal(randomBytes(32), wrapContext(id)),
      createdAt: now,
      erasedAt: null,
    }));
  }

  return {
    model: Keys,

    /**
     * The case's key for writing: made on first use (an insert, so two writers agree on one
     * key). `fresh`: the case is being registered under an id just made, so no key is looked
     * for first (if one did exist, the insert finds it). Throws CaseErasedError when the case
     * was erased.
     */
    async forWriting(caseId: string, options: { fresh?: boolean } = {}): Promise<CaseKey> {
      let key = options.fresh ? undefined : await existing(caseId);
      if (!key) {
        const [doc] = await newKeys([caseId]);
        try {
          await Keys.collection.insertOne(doc as never);
          key = remember(unwrap(doc, caseId)!);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          cache.delete(caseId);
          key = await existing(caseId);
        }
      }
      if (!key || key.erased) throw new CaseErasedError(caseId);
      return key;
    },

    /** Keys for many new cases at once (bulk imports), made with one insert. */
    async createMany(caseIds: readonly string[]): Promise<Map<string, CaseKey>> {
      if (caseIds.length === 0) return new Map();
      const docs = await newKeys(caseIds);
      try {
        await Keys.collection.insertMany(docs as never[], { ordered: false });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Some were made by an earlier, interrupted run: take each case's key as it is.
        const keys = new Map<string, CaseKey>();
        for (const id of caseIds) keys.set(id, await this.forWriting(id));
        return keys;
      }
      return new Map(docs.map((d) => [d._id, remember(unwrap(d, d._id)!)]));
    },

    /**
     * The case's key for reading. A case without a key yet has only values sealed before
     * case keys (the gateway key opens them); an erased case's key opens nothing.
     */
    async forReading(caseId: string): Promise<CaseKey> {
      return (await existing(caseId)) ?? keyOf(caseId, randomBytes(32), sealer);
    },

    /** Destroys the case's key for good (erasure). Idempotent. */
    async destroy(caseId: string): Promise<void> {
      const now = clock.now();
      try {
        await Keys.collection.insertOne({ _id: caseId as never, wrapped: null, createdAt: now, erasedAt: now });
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        await Keys.collection.updateOne({ _id: caseId as never }, { $set: { wrapped: null, erasedAt: now } });
      }
      cache.delete(caseId);
    },

    /**
     * Whether the case's key was destroyed, asked of the store by primary key (never of this
     * gateway's memory, which may hold the key for `cacheMs` after another gateway destroyed
     * it). Destroying the key is the first step of an erasure, so every write on the case asks
     * this: a write decided after it is refused, and the erasure is not outrun by writers
     * (a write through a gateway that still held the key would be accepted, its content
     * sealed under a key that no longer exists). Forgets the key here when it was destroyed.
     */
    async destroyed(caseId: string): Promise<boolean> {
      const doc = await Keys.collection.findOne({ _id: caseId as never }, { ...store.queryOptions, projection: { wrapped: 1 } });
      const destroyed = doc !== null && doc.wrapped === null;
      if (destroyed) cache.delete(caseId);
      return destroyed;
    },

    /** Forgets a case's key (another gateway erased the case: this one hears of it from the log). */
    evict(caseId: string): void {
      cache.delete(caseId);
    },

    /** Whether the case's key was destroyed. */
    async erased(caseId: string): Promise<boolean> {
      cache.delete(caseId);
      return (await existing(caseId))?.erased ?? false;
    },
  };
}
