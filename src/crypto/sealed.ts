// Encryption at rest for special-category data and evidence: AES-256-GCM through
// Node's crypto. A sealed value names its key (so keys can rotate) and is bound to
// where it belongs (the AAD: e.g. a case id and field), so a ciphertext copied onto
// another case does not open.
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const VERSION = 'v1';

export class SealError extends Error {
  override name = 'SealError';
}

export type Sealer = {
  keyId: string;
  seal(plaintext: Buffer | string, context: string): string;
  open(sealed: string, context: string): Buffer;
  openText(sealed: string, context: string): string;
  /** For binary streams (evidence chunks): raw bytes in, raw bytes out, same format inside. */
  sealBytes(plaintext: Buffer, context: string): Buffer;
  openBytes(sealed: Buffer, context: string): Buffer;
  /**
   * A keyed digest (`<keyId>:<hex>`) for comparing inputs without keeping them: a plain hash
   * of a request holding special-category fields could be confirmed by guessing from a copy
   * of the store; this one cannot without the key.
   */
  fingerprint(data: string): string;
  /**
   * A keyed hash of `data` under a key derived for `scope` (e.g. a member state) from the
   * current encryption key: the same data gives the same value in that scope only.
   */
  scopedDigest(scope: string, data: string): string;
  /** Whether `data` has this fingerprint, under whichever key made it. */
  fingerprintMatches(fingerprint: string, data: string): boolean;
};

function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/**
 * `keys[0]` encrypts; every key decrypts what it sealed (rotation: put the new key first).
 */
const TAG_BYTES = 16;

export function createSealer(keys: Buffer[]): Sealer {
  if (keys.length === 0 || keys.some((k) => k.length !== 32)) throw new SealError('encryption keys must be 32 bytes');
  const byId = new Map(keys.map((k) => [keyIdOf(k), k]));
  const current = keys[0]!;
  const currentId = keyIdOf(current);

  // A separate key for fingerprints, derived from each encryption key (never the AES key itself).
  const fingerprintKeys = new Map(
    [...byId].map(([id, key]) => [id, createHmac('sha256', key).update('erin fingerprint v1').digest()]),
  );
  const digest = (keyId: string, data: string): Buffer | undefined => {
    const key = fingerprintKeys.get(keyId);
    return key ? createHmac('sha256', key).update(data, 'utf8').digest() : undefined;
  };

  function encrypt(plaintext: Buffer, context: string): { iv: Buffer; tag: Buffer; body: Buffer } {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', current, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv, tag: cipher.getAuthTag(), body };
  }

  function decrypt(keyId: string, iv: Buffer, tag: Buffer, body: Buffer, context: string): Buffer {
    const key = byId.get(keyId);
    if (!key) throw new SealError(`no key ${keyId} to open this value`);
    // GCM accepts tags down to 4 bytes, and a short tag can be forged: ours are always 16.
    if (tag.length !== TAG_BYTES) throw new SealError('sealed value does not open (tampered, or not from here)');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      throw new SealError('sealed value does not open (tampered, or not from here)');
    }
  }

  return {
    keyId: currentId,
    seal(plaintext, context) {
      const { iv, tag, body } = encrypt(Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'), context);
      return [VERSION, currentId, iv.toString('base64'), tag.toString('base64'), body.toString('base64')].join(':');
    },
    open(sealed, context) {
      const parts = sealed.split(':');
      if (parts.length !== 5 || parts[0] !== VERSION) throw new SealError('not a sealed value');
      return decrypt(
        parts[1]!,
        Buffer.from(parts[2]!, 'base64'),
        Buffer.from(parts[3]!, 'base64'),
        Buffer.from(parts[4]!, 'base64'),
        context,
      );
    },
    openText(sealed, context) {
      return this.open(sealed, context).toString('utf8');
    },
    sealBytes(plaintext, context) {
      const { iv, tag, body } = encrypt(plaintext, context);
      const id = Buffer.from(currentId, 'hex');
      return Buffer.concat([id, iv, tag, body]);
    },
    fingerprint(data) {
      return `${currentId}:${digest(currentId, data)!.toString('hex')}`;
    },
    scopedDigest(scope, data) {
      const scoped = createHmac('sha256', current).update(`erin scoped digest v1:${scope}`).digest();
      return createHmac('sha256', scoped).update(data).digest('hex');
    },
    fingerprintMatches(fingerprint, data) {
      const [keyId, hex] = fingerprint.split(':');
      const expected = keyId && hex ? digest(keyId, data) : undefined;
      const given = Buffer.from(hex ?? '', 'hex');
      return expected !== undefined && given.length === expected.length && timingSafeEqual(given, expected);
    },
    openBytes(sealed, context) {
      if (sealed.length < 32) throw new SealError('sealed bytes too short');
      return decrypt(
        sealed.subarray(0, 4).toString('hex'),
        sealed.subarray(4, 16),
        sealed.subarray(16, 32),
        sealed.subarray(32),
        context,
      );
    },
  };
}

/**
 * The configured key, or outside production a development key generated into the data
 * folder (`keys/DEVELOPMENT-ONLY-encryption.key`): good for a laptop, never for real data.
 */
export function resolveEncryptionKey(configured: Buffer | undefined, dataDir: string): Buffer {
  if (configured) return configured;
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, 'DEVELOPMENT-ONLY-encryption.key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it first
    }
  }
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
}
