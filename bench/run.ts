// Benchmarks for the targets in DESIGN.md §5, printing figures and ratios (never asserting
// times: that is not what tests are for). Run: `npm run bench -- --sizes 1000,10000`.
//
// For each data size it seeds bulk cases, then measures:
//   - round trips: store commands for a partner dashboard page of 5, 50 and 100 cases;
//   - throughput and latency of three headline operations through the gateway (HTTP +
//     GraphQL, driven by autocannon) and through a hand-written raw-driver client doing
//     the same reads and writes on the same store, with the same concurrency;
//   - the process's memory.
// Results go to bench/results/<timestamp>.json and are printed as a table.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createGateway } from '../src/app.ts';
import { mintDevToken } from '../src/auth/dev-issuer.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { seedBulkCases } from '../src/seed/bulk.ts';
import { seedNetwork } from '../src/seed/demo.ts';
import { EmbeddedStore } from '../src/store/embedded.ts';
import { Store } from '../src/store/store.ts';
import { canonicalJson, sha256Hex } from '../src/events/canonical.ts';

const run = promisify(execFile);

type Args = { sizes: number[]; duration: number; connections: number; handler: 'sqlite' | 'postgresql'; postgresUrl?: string };

function parseArgs(): Args {
  const args: Args = { sizes: [1000, 10_000], duration: 10, connections: 8, handler: 'sqlite' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--sizes') args.sizes = value.split(',').map((s) => Number(s.replace(/_/g, '')));
    else if (flag === '--duration') args.duration = Number(value);
    else if (flag === '--connections') args.connections = Number(value);
    else if (flag === '--store') args.handler = value === 'postgresql' ? 'postgresql' : 'sqlite';
    else if (flag === '--postgresql-url') args.postgresUrl = value;
    else
      throw new Error(
        `unknown flag ${flag} (flags: --sizes 1000,10000 --duration 10 --connections 8 --store sqlite|postgresql --postgresql-url URL)`,
      );
  }
  return args;
}

const DASHBOARD = `query Dashboard { cases(first: 50, filter: { partner: "P-AF-HOPE" }) { edges { node {
  reference status version memberState { name } partner { name } programme { name }
  plan { planVersion status totalEur { amount } } } } } }`;
const CASE_BY_ID = `query Case($id: ID!) { case(id: $id) { reference status version household { age } plan { status totalEur { amount } } } }`;
const CREATE = `mutation Create($input: CreateCaseInput!, $key: String) { createCase(input: $input, idempotencyKey: $key) { id version } }`;
const caseInput = {
  programme: 'EURP-VOL',
  originCountry: 'AF',
  returnType: 'VOLUNTARY',
  partner: 'P-AF-HOPE',
  household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
  consent: { purpose: 'benchmark', givenOn: '2026-01-01', expiresOn: '2027-12-31' },
};

type Figures = { rps: number; p50: number; p99: number; errors: number };

/**
 * Drives the gateway with autocannon in its own process (so the load generator does not
 * share the gateway's event loop).
 */
async function viaGateway(url: string, token: string, body: string, seconds: number, connections: number): Promise<Figures> {
  const bin = path.resolve('node_modules/.bin/autocannon');
  const args = [
    '-j',
    '-c',
    String(connections),
    '-d',
    String(seconds),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-H',
    `authorization=Bearer ${token}`,
    '-b',
    body,
  ];
  const { stdout } = await run(bin, [...args, `${url}/graphql`], { maxBuffer: 64 * 1024 * 1024 });
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    errors: number;
    non2xx: number;
  };
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** Runs `op` from `connections` concurrent workers for `seconds`; the raw client's figures. */
async function viaDriver(op: () => Promise<unknown>, seconds: number, connections: number): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (Date.now() < end) {
        const t = process.hrtime.bigint();
        try {
          await op();
        } catch {
          errors += 1;
        }
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
  return { rps: Math.round(latencies.length / seconds), p50: at(0.5), p99: at(0.99), errors };
}

/** Waits until the store has worked off what the previous run left queued. */
async function settle(db: import('mongodb').Db): Promise<void> {
  for (;;) {
    const t = Date.now();
    await db.command({ ping: 1 });
    await db.collection('organisations').findOne({ _id: 'NL' as never });
    if (Date.now() - t < 20) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function main(): Promise<void> {
  const args = parseArgs();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'erin-bench-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    ERIN_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ERIN_RATE_LIMIT: '100000000',
    ERIN_STORE_TIMEOUT: '10s',
  });
  const logger = createLogger('warn');
  const uri = process.env.MONGODB_URI;
  const embedded = uri
    ? undefined
    : await EmbeddedStore.start({ dataDir, handler: args.handler, postgresqlUrl: args.postgresUrl, logger });
  const dbName = `bench_${Date.now()}`;
  const store = await Store.connect({ uri: uri ?? embedded!.uri, dbName, timeoutMs: 10_000, logger, recordCommands: false });
  const gateway = await createGateway({ config, store, logger });
  await store.ensureIndexes();
  await seedNetwork(gateway.services);
  const server = createServer(gateway.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const token = (org: string, role: string) =>
    mintDevToken({ dataDir, audience: config.tokenAudience, organisation: org, roles: [role], ttlSeconds: 3600 });
  const partner = token('P-AF-HOPE', 'partner-officer');
  const nl = token('NL', 'caseworker');
  const db = store.connection.db!;
  const rows: Record<string, unknown>[] = [];
  const store_ = uri ? 'MONGODB_URI' : `embedded FerretDB (${args.handler})`;
  console.log(
    `ERIN Exchange benchmark — store: ${store_}; ${args.connections} connections, ${args.duration} s per run; node ${process.version}`,
  );

  for (const size of args.sizes) {
    const t = Date.now();
    await seedBulkCases(gateway.services, size, { batchSize: 1000 });
    console.log(`\n== ${size.toLocaleString('en')} cases (seeded in ${((Date.now() - t) / 1000).toFixed(1)} s)`);

    // Round trips per dashboard page.
    const recorder = new (await import('../src/store/command-recorder.ts')).CommandRecorder();
    store.connection.getClient().on('commandStarted', (e) => recorder.record(e.commandName, e.command));
    const trips: Record<number, number> = {};
    const names: Record<number, string[]> = {};
    for (const first of [5, 50, 100]) {
      const q = DASHBOARD.replace('first: 50', `first: ${first}`);
      await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${partner}` },
        body: JSON.stringify({ query: q }),
      });
      const before = recorder.count;
      await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${partner}` },
        body: JSON.stringify({ query: q }),
      });
      trips[first] = recorder.count - before;
      names[first] = recorder.recent.slice(-(recorder.count - before));
    }
    store.connection.getClient().removeAllListeners('commandStarted');
    store.connection.getClient().on('commandStarted', (e) => gateway.metrics.storeCommands.inc({ command: e.commandName }));
    console.log(
      `round trips per dashboard page: 5 → ${trips[5]}, 50 → ${trips[50]}, 100 → ${trips[100]} (${names[100]?.join(', ')})`,
    );

    const sample = await db.collection('cases').findOne({ partner: 'P-AF-HOPE', sharedWithPartner: true });
    const caseId = String(sample?._id);

    // The raw client: the same reads and writes, by hand, with the driver.
    const rawDashboard = async () => {
      const cases = await db
        .collection('cases')
        .find({ partner: 'P-AF-HOPE', sharedWithPartner: true })
        .sort({ updatedAt: -1, _id: -1 })
        .limit(51)
        .toArray();
      const orgs = [...new Set(cases.flatMap((c) => [c.memberState as string, c.partner as string]))];
      const programmes = [...new Set(cases.map((c) => c.programme as string))];
      const planIds = cases.filter((c) => c.latestPlan).map((c) => `${String(c._id)}:${c.latestPlan}`);
      await Promise.all([
        db
          .collection('organisations')
          .find({ _id: { $in: orgs as never[] } })
          .toArray(),
        db
          .collection('programmes')
          .find({ _id: { $in: programmes as never[] } })
          .toArray(),
        db
          .collection('plans')
          .find({ _id: { $in: planIds as never[] } })
          .toArray(),
      ]);
    };
    const rawCase = async () => {
      const c = await db.collection('cases').findOne({ _id: caseId as never, partner: 'P-AF-HOPE' });
      if (c?.latestPlan) await db.collection('plans').findOne({ _id: `${caseId}:${c.latestPlan}` as never });
    };
    let rawSeq = 0;
    const rawCreate = async () => {
      // Reference claim, event insert (with a hash) and the case document: what createCase writes.
      const id = randomUUID();
      const ref = `BENCH-${id}`;
      await db.collection('case_references').insertOne({ _id: ref as never, caseId: id, at: new Date() });
      const doc = {
        _id: id,
        reference: ref,
        memberState: 'NL',
        ...caseInput,
        status: 'DRAFT',
        version: 1,
        createdAt: new Date(),
        updatedAt: new Date(),
      };
      rawSeq += 1;
      await db
        .collection('raw_bench_events')
        .insertOne({ _id: `${id}:1` as never, seq: rawSeq, hash: sha256Hex(canonicalJson(doc)), changes: [doc] });
      await db.collection('raw_bench_cases').insertOne(doc as never);
    };

    const ops: [string, () => Promise<Figures>, () => Promise<Figures>][] = [
      [
        'case by id',
        () =>
          viaGateway(
            url,
            partner,
            JSON.stringify({ query: CASE_BY_ID, variables: { id: caseId } }),
            args.duration,
            args.connections,
          ),
        () => viaDriver(rawCase, args.duration, args.connections),
      ],
      [
        'createCase (write)',
        () =>
          viaGateway(
            url,
            nl,
            // Without an idempotency key, like the raw client's writes (autocannon's id
            // replacement breaks its own Content-Length, so keys cannot vary per request).
            JSON.stringify({ query: CREATE, variables: { input: caseInput } }),
            args.duration,
            args.connections,
          ),
        () => viaDriver(rawCreate, args.duration, args.connections),
      ],
      // Last: on the embedded store its scans outlast the run and would slow whatever came next.
      [
        'partner dashboard (50 cases)',
        () => viaGateway(url, partner, JSON.stringify({ query: DASHBOARD }), args.duration, args.connections),
        () => viaDriver(rawDashboard, args.duration, args.connections),
      ],
    ];
    for (const [name, gatewayRun, rawRun] of ops) {
      await settle(db);
      const g = await gatewayRun();
      await settle(db);
      const r = await rawRun();
      const ratio = r.rps > 0 ? g.rps / r.rps : 0;
      const row = {
        size,
        operation: name,
        gatewayRps: Math.round(g.rps),
        rawRps: r.rps,
        ratio: Number(ratio.toFixed(2)),
        gatewayP50: g.p50,
        gatewayP99: g.p99,
        rawP50: r.p50,
        rawP99: r.p99,
        errors: g.errors + r.errors,
        roundTrips: trips,
      };
      rows.push(row);
      console.log(
        `${name.padEnd(30)} gateway ${String(row.gatewayRps).padStart(6)} req/s (p50 ${g.p50} ms, p99 ${g.p99} ms) | raw driver ${String(r.rps).padStart(6)} ops/s (p50 ${r.p50} ms, p99 ${r.p99} ms) | ratio ${row.ratio}${row.errors ? ` | ${row.errors} errors` : ''}`,
      );
    }
    const rss = process.memoryUsage().rss / 1024 / 1024;
    console.log(`memory: rss ${rss.toFixed(0)} MiB, heap ${(process.memoryUsage().heapUsed / 1024 / 1024).toFixed(0)} MiB`);
    rows.push({ size, operation: 'memory', rssMiB: Math.round(rss) });
  }

  // Latency as the data grows: the dashboard's p50 at each size relative to the smallest.
  const dash = rows.filter((r) => r.operation === 'partner dashboard (50 cases)') as { size: number; gatewayP50: number }[];
  if (dash.length > 1) {
    console.log(
      `\nlatency growth (dashboard p50): ${dash.map((d) => `${d.size.toLocaleString('en')}: ${d.gatewayP50} ms (×${(d.gatewayP50 / Math.max(1, dash[0]!.gatewayP50)).toFixed(2)})`).join(', ')}`,
    );
    if (!uri)
      console.log(
        'note: the embedded store scans whole collections (indexes are not used for queries), so latency grows with data there; run with MONGODB_URI for index behaviour.',
      );
  }
  mkdirSync(path.resolve('bench/results'), { recursive: true });
  const file = path.resolve('bench/results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ store: store_, args, node: process.version, rows }, null, 2));
  console.log(`\nresults: ${path.relative(process.cwd(), file)}`);

  server.closeAllConnections();
  server.close();
  await gateway.close();
  await store.connection.dropDatabase().catch(() => undefined);
  await store.close();
  await embedded?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
