// Starts one embedded store for the whole run (or uses MONGODB_URI). Each test file
// then works in its own database on it, over the wire protocol.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import mongoose from 'mongoose';
import { EmbeddedStore } from '../../src/store/embedded.ts';
import { chromiumExecutable } from '../helpers/browser.ts';
import { runDbPattern } from '../helpers/db-names.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUri: string;
    dataDir: string;
    /** Names this run's databases (helpers/db-names.ts). */
    runId: string;
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
  const runId = randomBytes(3).toString('hex');
  const storeUri = uri;
  project.provide('mongoUri', storeUri);
  project.provide('dataDir', dataDir);
  project.provide('runId', runId);
  return async () => {
    if (!embedded) await dropRunDatabases(storeUri, runId);
    await embedded?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/** Drops what is left of this run's databases on a MONGODB_URI server. */
async function dropRunDatabases(uri: string, runId: string): Promise<void> {
  const connection = await mongoose.createConnection(uri).asPromise();
  try {
    const pattern = runDbPattern(runId);
    const { databases } = await connection.db!.admin().listDatabases({ nameOnly: true });
    for (const { name } of databases) {
      if (pattern.test(name)) await connection.useDb(name).dropDatabase();
    }
  } finally {
    await connection.close();
  }
}
