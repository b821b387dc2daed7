// Sealed values (AES-256-GCM): a value opens only whole, under its own context, with its full tag.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer, SealError } from '../src/crypto/sealed.ts';

const sealer = createSealer([randomBytes(32)]);

describe('sealed values', () => {
  it('open under their context, and not under another', () => {
    const sealed = sealer.seal('needs a wheelchair', 'case:1:needs');
    expect(sealer.openText(sealed, 'case:1:needs')).toBe('needs a wheelchair');
    expect(() => sealer.open(sealed, 'case:2:needs')).toThrow(SealError);
  });

  it('refuse a tag shorter than 16 bytes, even a true prefix of the real one (a short tag is forgeable)', () => {
    const sealed = sealer.seal('victim of trafficking', 'case:1:vulnerability');
    const parts = sealed.split(':');
    for (const length of [4, 8, 12, 15]) {
      const short = Buffer.from(parts[3]!, 'base64').subarray(0, length).toString('base64');
      const tampered = [...parts.slice(0, 3), short, parts[4]].join(':');
      expect(() => sealer.open(tampered, 'case:1:vulnerability'), `${length}-byte tag`).toThrow(SealError);
    }
  });
});
