// What the benchmarks share: a gateway configuration for measuring (development mode for the
// development issuer's tokens, no rate limit in the way), a whole local gateway, the memory
// figure, the load generator's driver and the partner's cases a read by id picks from.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Db } from 'mongodb';
import { createGateway, type Gateway } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { EmbeddedStore, type EmbeddedStoreOptions } from '../src/store/embedded.ts';
import { Store } from '../src/store/store.ts';
import type { LoadFigures, LoadSpec } from './load.ts';
import { PARTNER } from './operations.ts';

const run = promisify(execFile);

/** Drives a server from a load generator in its own process (bench/load.ts). */
export async function load(spec: LoadSpec): Promise<LoadFigures> {
  // Through a file: many request bodies are too long for one command-line argument.
  const specFile = path.join(mkdtempSync(path.join(tmpdir(), 'erin-load-')), 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.resolve('bench/load.ts'), `@${specFile}`], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as LoadFigures;
  } finally {
    rmSync(path.dirname(specFile), { recursive: true, force: true });
  }
}

/**
 * The ids of the partner's cases with a plan, in an order drawn at random from `seed` (the
 * same seed, the same order): what reads by id take in turn, so most reads are cold.
 */
export async function partnerCasesWithPlan(db: Db, seed: number): Promise<string[]> {
  const withPlan = await db
    .collection('cases')
    .find({ partner: PARTNER, sharedWithPartner: true, latestPlan: { $ne: null } } as never, { projection: { _id: 1 } })
    .toArray();
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return withPlan
    .map((c) => ({ id: String(c._id), order: random() }))
    .sort((a, b) => a.order - b.order)
    .map((c) => c.id);
}

/**
 * `n` files' metadata spread over every case in turn (no content: a case page lists files, it
 * does not open them), written straight into the store as files uploaded before cases had a
 * list of them (src/modules/cases/case.files.ts): the cases' lists and the backfill's marker are
 * removed, as in a store written before, and the gateway's backfill gives every case its list.
 */
export async function seedFiles(db: Db, n: number): Promise<void> {
  await db.collection('case_files').deleteMany({});
  await db.collection('case_file_lists').deleteMany({});
  await db.collection('migrations').deleteOne({ _id: 'case-file-lists' as never });
  const cases = await db
    .collection('cases')
    .find({}, { projection: { _id: 1, memberState: 1, partner: 1, sharedWithPartner: 1 }, sort: { _id: 1 } })
    .toArray();
  const at = new Date('2026-06-01T00:00:00Z');
  for (let from = 0; from < n; from += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - from) }, (_, i) => {
      const c = cases[(from + i) % cases.length]!;
      const uploadedAt = new Date(at.getTime() + (from + i) * 1000);
      return {
        _id: randomUUID(),
        caseId: c._id,
        memberState: c.memberState,
        partner: c.partner,
        sharedWithPartner: c.sharedWithPartner,
        kind: 'RECEIPT',
        filenameSealed: null,
        filename: `receipt-${from + i}.pdf`,
        contentType: 'application/pdf',
        size: 1000,
        sha256Sealed: null,
        sha256: '0'.repeat(64),
        chunkSize: 255 * 1024,
        chunkCount: 0,
        uploadedBy: { organisation: c.partner, subject: 'bench' },
        uploadedAt,
        version: 1,
        createdAt: uploadedAt,
        updatedAt: uploadedAt,
      };
    });
    await db.collection('evidence').insertMany(batch as never[], { ordered: false });
  }
}

export function benchConfig(dataDir: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    ERIN_DEV_MODE: 'true',
    ERIN_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ERIN_RATE_LIMIT: '100000000',
    ERIN_STORE_TIMEOUT: '10s',
  });
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** This process's heap after a full GC (with --expose-gc) and its RSS, in MiB. */
export function memory(): { rssMiB: number; heapMiB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed) };
}

/**
 * A gateway over its own embedded store, seeded, listening on a free loopback port; `stop`
 * closes the server's connections, the gateway, the store and the embedded store.
 */
export async function startLocalGateway(options: {
  config: Config;
  dataDir: string;
  dbName: string;
  logger: Logger;
  handler?: EmbeddedStoreOptions['handler'];
  recordCommands?: boolean;
  seed: (gateway: Gateway) => Promise<unknown>;
}) {
  const { config, dataDir, dbName, logger } = options;
  const embedded = await EmbeddedStore.start({ dataDir, logger, ...(options.handler ? { handler: options.handler } : {}) });
  const recording = options.recordCommands === undefined ? {} : { recordCommands: options.recordCommands };
  const store = await Store.connect({ uri: embedded.uri, dbName, timeoutMs: 10_000, logger, ...recording });
  const gateway = await createGateway({ config, store, logger });
  await store.ensureIndexes();
  await options.seed(gateway);
  const server = createServer(gateway.app);
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    gateway,
    url,
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await gateway.close();
      await store.close();
      await embedded.stop();
    },
  };
}
