// Starts one embedded store for the whole run (or uses MONGODB_URI). Each test file
// then works in its own database on it, over the wire protocol.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { EmbeddedStore } from '../../src/store/embedded.ts';
import { chromiumExecutable } from '../helpers/browser.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    dataDir: string;
  }
}

export default async function setup(project: TestProject) {
  // Each gateway leaves the shapes of its queries here; scripts/check-index-coverage.ts reads them.
  rmSync(path.resolve('test-results/query-shapes'), { recursive: true, force: true });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'erin-test-'));
  let embedded: EmbeddedStore | undefined;
  let uri = process.env.MONGODB_URI;
  if (!uri) {
    embedded = await EmbeddedStore.start({ dataDir });
    uri = embedded.uri;
  }
  // Unpack the packaged browser once, before test files race to do it in parallel.
  await chromiumExecutable();
  project.provide('mongoUri', uri);
  project.provide('dataDir', dataDir);
  return async () => {
    await embedded?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
