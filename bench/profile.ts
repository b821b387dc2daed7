// Where one operation's time goes: starts a gateway on a fresh embedded store (or a kept data
// directory) with bulk cases, warms the operation, then sends it `--requests` times from the
// load generator in its own process while this process is CPU-profiled. Prints the gateway's
// and the store process's CPU per request (less sensitive to a shared machine than latency),
// the profile's heaviest functions and files, and writes the .cpuprofile (open it in Chrome's
// DevTools or speedscope). Run:
//   node --expose-gc --import tsx bench/profile.ts --cases 1000 --op dashboard --requests 200
// Operations: dashboard, case, files, changes, create, exec (the dashboard over in-memory data
// through the gateway's stack, as in the benchmark), mercurius, apollo (Apollo alone), floor, express
// (the floor's JSON through express); `--query typename` sends `{ __typename }` (no resolver) instead.
// `--op case --ids N`: N of the partner's cases at random, each asked in turn (cold reads).
// `--files N`: N files spread over the cases, stored as before cases listed their files (the
// gateway's backfill lists them, and its time is printed); `--op files`: a case's own page with its files.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:http';
import { createGateway } from '../src/app.ts';
import { mintDevToken } from '../src/auth/dev-issuer.ts';
import { createLogger } from '../src/logger.ts';
import { seedBulkCases } from '../src/seed/bulk.ts';
import { seedNetwork } from '../src/seed/demo.ts';
import { EmbeddedStore } from '../src/store/embedded.ts';
import { Store } from '../src/store/store.ts';
import { inMemoryServers, listen } from './in-memory.ts';
import { CASE_BY_ID, CASE_FILES, caseInput, CHANGES, CREATE, DASHBOARD, PARTNER, WORK_LIST } from './operations.ts';
import type { LoadSpec } from './load.ts';
import { benchConfig, load, partnerCasesWithPlan, seedFiles } from './setup.ts';

function flags() {
  const f = {
    cases: 1000,
    op: 'dashboard',
    requests: 200,
    connections: 4,
    out: '',
    dataDir: '',
    top: 30,
    interval: 200,
    alloc: 0,
    ids: 1,
    files: 0,
    query: '',
  };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i]!.replace(/^--/, ''), argv[i + 1] ?? ''];
    if (['cases', 'requests', 'connections', 'top', 'interval', 'alloc', 'ids', 'files'].includes(flag))
      f[flag as 'cases'] = Number(value);
    else if (flag === 'op' || flag === 'out' || flag === 'query') f[flag] = value;
    else if (flag === 'data-dir') f.dataDir = value;
    else throw new Error(`unknown flag --${flag}`);
  }
  return f;
}

/** CPU seconds (user + system) of a process, from /proc. */
function cpuSecondsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
};
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };

/** Self time per function and per file or package, inclusive time per function of ours. */
function summarise(profile: Profile, requests: number, top: number): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const where = (url: string) => {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (m) return m[1]!;
    const ours = /\/(src|bench)\/(.*)$/.exec(url);
    if (ours) return `${ours[1]}/${ours[2]}`;
    return url ? url.replace(/^node:/, 'node:') : '(native)';
  };
  const name = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const fnSelf = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  for (const [id, ms] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    busy += ms;
    add(fnSelf, name(n), ms);
    add(fileSelf, n.callFrame.url ? where(n.callFrame.url) : n.callFrame.functionName, ms);
    // Inclusive time of each distinct function of ours on the stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)!;
      if (!/\/(src|bench)\//.test(frame.callFrame.url)) continue;
      const key = name(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(inclusive, key, ms);
    }
  }
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(v / requests).toFixed(3).padStart(9)} ms/req ${((v / busy) * 100).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  console.log(`\nprofiled busy time: ${(busy / requests).toFixed(2)} ms per request`);
  show('self time by file or package', fileSelf);
  show('self time by function', fnSelf);
  show('inclusive time, functions of src/ and bench/', inclusive);
}

type AllocationNode = {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: AllocationNode[];
};
type AllocationProfile = { head: AllocationNode };

/** Bytes allocated per request by function (self) and by file or package, from a sampling heap profile. */
function summariseAllocations(profile: AllocationProfile, requests: number, top: number): void {
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  let total = 0;
  const walk = (node: AllocationNode, stack: string[]) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? /\/((?:src|bench)\/.*)$/.exec(url)?.[1] ?? (url || '(native)');
    const here = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    if (node.selfSize > 0) {
      total += node.selfSize;
      // A native allocation is named after the nearest JavaScript caller.
      add(byFunction, url ? here : `${here} < ${stack.at(-1) ?? ''}`, node.selfSize);
      add(byFile, url ? file : (/ ([^ :]+):\d+$/.exec(stack.at(-1) ?? '')?.[1] ?? '(native)'), node.selfSize);
    }
    for (const child of node.children) walk(child, url ? [...stack, here] : stack);
  };
  walk(profile.head, []);
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(v / requests / 1024).toFixed(1).padStart(8)} KiB/req ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
    }
  };
  console.log(`\nallocated: ${(total / requests / 1024).toFixed(1)} KiB per request (sampled)`);
  show('allocations by file or package', byFile);
  show('allocations by function', byFunction);
}

async function main(): Promise<void> {
  const f = flags();
  const dataDir = f.dataDir || mkdtempSync(path.join(tmpdir(), 'erin-profile-'));
  const config = benchConfig(dataDir);
  const logger = createLogger('warn');
  const embedded = await EmbeddedStore.start({ dataDir, handler: 'sqlite', logger });
  const store = await Store.connect({ uri: embedded.uri, dbName: 'profile', timeoutMs: 10_000, logger, recordCommands: false });
  const gateway = await createGateway({ config, store, logger });
  await store.ensureIndexes();
  await seedNetwork(gateway.services);
  const t = Date.now();
  await seedBulkCases(gateway.services, f.cases, { batchSize: 1000 });
  await gateway.services.hub.catchUp();
  await gateway.services.hub.idle();
  console.log(`${f.cases} cases ready in ${((Date.now() - t) / 1000).toFixed(1)} s (data directory ${dataDir})`);
  if (f.files > 0) {
    await seedFiles(store.connection.db!, f.files);
    const backfill = Date.now();
    const listed = await gateway.services.caseStore.backfillFileLists();
    console.log(`${f.files} files stored; ${listed} cases given their list in ${((Date.now() - backfill) / 1000).toFixed(1)} s`);
  }
  const server = createServer(gateway.app);
  const url = `${await listen(server)}/graphql`;
  const token = (org: string, role: string) =>
    mintDevToken({ dataDir, audience: config.tokenAudience, organisation: org, roles: [role], ttlSeconds: 3600 });
  const partner = token(PARTNER, 'partner-officer');
  const nl = token('NL', 'caseworker');
  const sample = await store.connection
    .db!.collection('cases')
    .findOne({ partner: PARTNER, sharedWithPartner: true, latestPlan: { $ne: null } } as never);

  let target = url;
  let caller = partner;
  let body = JSON.stringify({ query: DASHBOARD });
  let bodies: string[] | undefined;
  let inMemory: Awaited<ReturnType<typeof inMemoryServers>> | undefined;
  if (f.op === 'case' && f.ids > 1) {
    // `--ids N`: N of the partner's cases with a plan, at random, each asked once in turn (cold reads).
    const ids = await partnerCasesWithPlan(store.connection.db!, f.cases);
    bodies = ids.slice(0, f.ids).map((id) => JSON.stringify({ query: CASE_BY_ID, variables: { id } }));
    console.log(`case by id: ${bodies.length} of the partner's ${ids.length} cases with a plan, in turn`);
    body = bodies[0]!;
  } else if (f.op === 'case') body = JSON.stringify({ query: CASE_BY_ID, variables: { id: String(sample?._id) } });
  else if (f.op === 'files') body = JSON.stringify({ query: CASE_FILES, variables: { id: String(sample?._id) } });
  else if (f.op === 'changes') [caller, body] = [nl, JSON.stringify({ query: CHANGES })];
  else if (f.op === 'create') [caller, body] = [nl, JSON.stringify({ query: CREATE, variables: { input: caseInput } })];
  else if (f.op === 'home') body = JSON.stringify({ query: WORK_LIST });
  else if (['exec', 'mercurius', 'apollo', 'floor', 'express'].includes(f.op)) {
    inMemory = await inMemoryServers(gateway, { config, store, logger, dataDir, partner });
    target =
      { exec: inMemory.gateway, mercurius: inMemory.mercurius, apollo: inMemory.apollo, express: inMemory.expressFloor }[f.op] ??
      inMemory.floor;
    // `--query typename`: `{ __typename }` instead of the dashboard, what a server costs before execution.
    if (f.query === 'typename') body = JSON.stringify({ query: '{ __typename }' });
  } else if (f.op !== 'dashboard') throw new Error(`unknown operation ${f.op}`);

  const send = () =>
    fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${caller}` },
      body,
    }).then((r) => r.text());
  const first = await send();
  if (first.includes('"errors"')) console.log(`warning: the operation answers errors: ${first.slice(0, 300)}`);
  for (let i = 0; i < 5; i += 1) await send();
  await gateway.services.hub.idle();

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // Sampling interval in microseconds; 0: no profile, only the CPU figures.
  if (f.interval > 0) await session.post('Profiler.setSamplingInterval', { interval: f.interval });
  const commands = new Map<string, number>();
  const count = (event: { commandName: string; command: Record<string, unknown> }) => {
    const target = event.command[event.commandName];
    const name = `${event.commandName}${typeof target === 'string' ? ` ${target}` : ''}`;
    commands.set(name, (commands.get(name) ?? 0) + 1);
  };
  store.connection.getClient().on('commandStarted', count);
  const cpu = process.cpuUsage();
  const storeCpu = cpuSecondsOf(embedded.pid);
  if (f.interval > 0) await session.post('Profiler.start');
  // --alloc 1: where the bytes are allocated (sampled every 32 KiB), collected or not.
  if (f.alloc > 0) {
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 32768,
      includeObjectsCollectedByMajorGC: true,
      // --alloc 2: only what survived the young generation (what makes scavenges expensive).
      includeObjectsCollectedByMinorGC: f.alloc < 2,
    });
  }
  const spec: LoadSpec = {
    url: target,
    token: caller,
    bodies: bodies ? bodies.slice(1) : [body],
    connections: f.connections,
    amount: f.requests,
  };
  const figures = await load(spec);
  const used = process.cpuUsage(cpu);
  const storeUsed = cpuSecondsOf(embedded.pid) - storeCpu;
  store.connection.getClient().off('commandStarted', count);
  const allocations =
    f.alloc > 0 ? ((await session.post('HeapProfiler.stopSampling')) as { profile: AllocationProfile }).profile : undefined;
  const profile = f.interval > 0 ? ((await session.post('Profiler.stop')) as { profile: Profile }).profile : undefined;
  console.log(
    `${f.op}: ${figures.requests} requests, ${figures.rps} req/s, p50 ${figures.p50} ms, p95 ${figures.p95} ms, ${figures.errors} errors`,
  );
  console.log(
    `CPU per request: gateway process ${((used.user + used.system) / 1000 / figures.requests).toFixed(2)} ms, store process ${((storeUsed * 1000) / figures.requests).toFixed(2)} ms`,
  );
  console.log(
    `store commands per request: ${
      [...commands]
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${(n / figures.requests).toFixed(2)}`)
        .join(', ') || 'none'
    }`,
  );
  if (allocations) summariseAllocations(allocations, figures.requests, f.top);
  if (profile) {
    summarise(profile, figures.requests, f.top);
    const out = f.out || path.join(tmpdir(), `erin-${f.op}-${Date.now()}.cpuprofile`);
    writeFileSync(out, JSON.stringify(profile));
    console.log(`\nprofile: ${out}`);
  }

  await inMemory?.close();
  server.closeAllConnections();
  server.close();
  await gateway.close();
  await store.close();
  await embedded.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
