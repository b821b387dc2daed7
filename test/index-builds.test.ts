// Index builds at start are bounded: a gateway that cannot build its indexes within
// ERIN_STORE_INDEX_TIMEOUT stops with an error naming the index, instead of never becoming
// ready; `npx erin store migrate` builds them ahead, and a start then only checks them.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import mongoose from 'mongoose';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { eventSchema } from '../src/events/event.model.ts';
import { caseSchema } from '../src/modules/cases/case.model.ts';
import { declaredIndexes, IndexBuildTimeout } from '../src/store/indexes.ts';
import { Store } from '../src/store/store.ts';
import { uniqueDbName } from './helpers/gateway.ts';
import { killAll, productionLike, runGateway } from './helpers/process.ts';

const databases: string[] = [];
afterAll(async () => {
  killAll();
  for (const dbName of databases) {
    const connection = await mongoose.createConnection(inject('mongoUri'), { dbName }).asPromise();
    await connection.dropDatabase().catch(() => undefined);
    await connection.close();
  }
});

async function indexNames(store: Store, collection: string): Promise<string[]> {
  const indexes = await store.connection.db!.collection(collection).listIndexes().toArray();
  return indexes.map((i) => String(i.name));
}

describe('index builds at start', () => {
  it('out of time, the build stops with the index named; once built, a start only checks them', async () => {
    const dbName = uniqueDbName('idx');
    databases.push(dbName);
    const store = await Store.connect({ uri: inject('mongoUri'), dbName, timeoutMs: 5000, settings: { indexBuildTimeoutMs: 1 } });
    try {
      store.model('Case', caseSchema);
      store.model('Event', eventSchema);
      const declared = declaredIndexes(store.registeredModels()).map((i) => `${i.collection}.${i.name}`);
      const error: unknown = await store.ensureIndexes().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(IndexBuildTimeout);
      const timeout = error as IndexBuildTimeout;
      expect(declared).toContain(`${timeout.collection}.${timeout.index}`);
      expect(timeout.message).toContain(
        `index ${timeout.collection}.${timeout.index} was not built within ERIN_STORE_INDEX_TIMEOUT (1 ms)`,
      );
      expect(timeout.message).toContain('npx erin store migrate');
      expect(await store.ready()).toBe(false);

      const report = await store.migrateIndexes();
      expect(report.created.length).toBeGreaterThan(0);
      expect(report.created.length + report.present).toBe(declared.length);
      expect(await indexNames(store, 'cases')).toEqual(
        expect.arrayContaining(
          declaredIndexes(store.registeredModels())
            .filter((i) => i.collection === 'cases')
            .map((i) => i.name),
        ),
      );
      // Everything there: the start checks, builds nothing, and no time limit is too short for that.
      await store.ensureIndexes();
      expect(await store.ready()).toBe(true);
      expect((await store.migrateIndexes()).created).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a gateway stops with a clear message when an index is not built in time, and starts after `erin store migrate`', async () => {
    const dbName = uniqueDbName('idx');
    databases.push(dbName);
    const prod = productionLike(dbName);
    // 0s: build nothing at start, only check that everything is there.
    const env = { ...prod.env, ERIN_STORE_INDEX_TIMEOUT: '0s' };
    const refused = await runGateway(env);
    expect(refused.kind).toBe('exited');
    if (refused.kind !== 'exited') return;
    expect(refused.code).toBe(1);
    expect(refused.logs.join('\n')).toMatch(
      /ERIN Exchange failed to start: index \w+\.\S+ was not built within ERIN_STORE_INDEX_TIMEOUT \(0 ms\).*npx erin store migrate/,
    );

    const { stdout } = await promisify(execFile)(process.execPath, [path.resolve('bin/erin.js'), 'store', 'migrate'], {
      env: { ...process.env, LOG_LEVEL: 'silent', ...env },
      timeout: 120_000,
    });
    expect(stdout).toMatch(/^created events\.requestKey_1$/m);
    expect(stdout).toMatch(/^built \d+ indexes/m);

    const started = await runGateway(env);
    expect(started.kind).toBe('listening');
    if (started.kind !== 'listening') return;
    const health = await fetch(`${started.gateway.url}/readyz`);
    expect(health.status).toBe(200);
    started.gateway.child.kill('SIGTERM');
    expect(await started.gateway.exited).toBe(0);
  }, 240_000);
});
