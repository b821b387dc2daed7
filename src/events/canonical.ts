// Canonical JSON: the same value always serialises to the same text, whatever the key
// order or whether it came from memory or back from the store. The hash chain relies on it.
import { createHash } from 'node:crypto';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value));
}

function normalise(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value === 'object') {
    const bsontype = (value as { _bsontype?: string })._bsontype;
    if (bsontype === 'ObjectId' || bsontype === 'ObjectID') return (value as { toHexString(): string }).toHexString();
    if (bsontype === 'Binary') return Buffer.from((value as { buffer: Uint8Array }).buffer).toString('base64');
    if (Buffer.isBuffer(value)) return value.toString('base64');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalise(v);
    }
    return out;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('non-finite number in event');
  return value;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
