// Building the embedded store: without Go the error names the fix.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ensureStoreBinary, StoreBuildError, storeBinaryIsCurrent } from '../src/store/build.ts';
import { againstMongodbUri } from './helpers/embedded.ts';

describe('embedded store build', () => {
  // Against MONGODB_URI the run does not start (nor build) it.
  it.skipIf(againstMongodbUri)('is current after the test run started it', () => {
    expect(storeBinaryIsCurrent()).toBe(true);
  });

  it('without Go on the machine, refuses with a message that says how to fix it', async () => {
    const empty = mkdtempSync(path.join(inject('dataDir'), 'no-go-'));
    const attempt = ensureStoreBinary({ force: true, searchPath: empty, output: path.join(empty, 'embedded-store') });
    await expect(attempt).rejects.toBeInstanceOf(StoreBuildError);
    await expect(attempt).rejects.toThrow(/Install Go 1\.24 or newer .* or set MONGODB_URI/);
  });
});
