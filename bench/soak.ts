// The soak: five minutes (by default) of mixed load on one gateway over the embedded store,
// reporting every answer by status and error code, latency per operation, and the gateway's
// memory (heap after a full GC, RSS) at the start, every minute and at the end. Not a test:
// nothing is asserted; the figures go to bench/README.md (between the soak markers).
//   npm run bench:soak -- [--duration 300] [--connections 8] [--cases 300]
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { mintDevToken } from '../src/auth/dev-issuer.ts';
import { createLogger } from '../src/logger.ts';
import { seedBulkCases } from '../src/seed/bulk.ts';
import { seedNetwork } from '../src/seed/demo.ts';
import { benchConfig, memory, startLocalGateway } from './setup.ts';
import type { SoakFigures, SoakSpec } from './soak-load.ts';

const run = promisify(execFile);

function parseArgs(): { duration: number; connections: number; cases: number } {
  const args = { duration: 300, connections: 8, cases: 300 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], Number(argv[i + 1])];
    if (flag === '--duration') args.duration = value;
    else if (flag === '--connections') args.connections = value;
    else if (flag === '--cases') args.cases = value;
    else throw new Error(`unknown flag ${flag} (flags: --duration 300 --connections 8 --cases 300)`);
  }
  return args;
}

type Memory = { at: string; heapMiB: number; rssMiB: number };
const sample = (at: string): Memory => ({ at, ...memory() });

async function main(): Promise<void> {
  const args = parseArgs();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'erin-soak-'));
  const config = benchConfig(dataDir);
  const logger = createLogger('warn');
  const local = await startLocalGateway({
    config,
    dataDir,
    dbName: `soak_${Date.now()}`,
    logger,
    seed: async (gateway) => {
      await seedNetwork(gateway.services);
      await seedBulkCases(gateway.services, args.cases, { batchSize: 500 });
    },
  });
  const { store } = local;
  const url = `${local.url}/graphql`;
  const token = (organisation: string, role: string) =>
    mintDevToken({ dataDir, audience: config.tokenAudience, organisation, roles: [role], ttlSeconds: 3600 });
  const caseIds = (
    await store.connection
      .db!.collection('cases')
      .find({ memberState: 'NL' }, { projection: { _id: 1 } })
      .limit(200)
      .toArray()
  ).map((c) => String(c._id));

  const loadBefore = loadavg().map((l) => Number(l.toFixed(2)));
  const header = `${args.duration} s, ${args.connections} connections, ${args.cases} bulk cases on the embedded store; node ${process.version}; ${cpus().length} CPUs, load average ${loadBefore.join(' / ')} at start`;
  console.log(`ERIN Exchange soak — ${header}`);
  const samples: Memory[] = [sample('start')];
  console.log(JSON.stringify(samples[0]));
  const minute = setInterval(() => {
    const taken = sample(`${Math.round((Date.now() - started) / 60_000)} min`);
    samples.push(taken);
    console.log(JSON.stringify(taken));
  }, 60_000);
  const started = Date.now();
  const spec: SoakSpec = {
    url,
    tokens: { partner: token('P-AF-HOPE', 'partner-officer'), memberState: token('NL', 'caseworker') },
    caseIds,
    connections: args.connections,
    duration: args.duration,
  };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.resolve('bench/soak-load.ts'), JSON.stringify(spec)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  clearInterval(minute);
  const figures = JSON.parse(stdout.trim().split('\n').at(-1)!) as SoakFigures;
  samples.push(sample('end'));
  const loadAfter = loadavg().map((l) => Number(l.toFixed(2)));
  console.log(JSON.stringify({ ...figures, memory: samples, loadAfter }, null, 2));

  writeReadme(figures, samples, `${header}, ${loadAfter.join(' / ')} at the end`);
  await local.stop();
}

function writeReadme(figures: SoakFigures, samples: Memory[], header: string): void {
  const file = path.resolve('bench/README.md');
  const readme = readFileSync(file, 'utf8');
  const begin = '<!-- soak:begin (written by npm run bench:soak) -->';
  const end = '<!-- soak:end -->';
  const errors = Object.entries(figures.outcomes).filter(([k]) => !k.endsWith(': OK'));
  // An error from an operation meant to succeed, or bad input accepted: the soak did not measure what it says.
  const unexpected = Object.entries(figures.outcomes).filter(([k]) => / bad input: /.test(k) === k.endsWith(': OK'));
  if (unexpected.length > 0) console.warn(`unexpected answers: ${unexpected.map(([k, n]) => `${k} ${n}`).join('; ')}`);
  const fiveHundreds = Object.entries(figures.outcomes)
    .filter(([k]) => /^(5\d\d|network) /.test(k))
    .reduce((sum, [, n]) => sum + n, 0);
  const lines = [
    begin,
    '',
    `Last run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — ${header}.`,
    '',
    `${figures.requests.toLocaleString('en')} requests; ${fiveHundreds} answered 5xx or failed on the network.`,
    '',
    '| answer (status, operation, first error code) | count |',
    '| --- | ---: |',
    ...Object.entries(figures.outcomes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `| ${k} | ${n.toLocaleString('en')} |`),
    '',
    `Errors by code: ${
      errors.length === 0 ? 'none' : errors.map(([k, n]) => `${k} ${n}`).join('; ')
    } (the bad-input requests are meant to be refused). Unexpected answers (an error where none was meant, or bad input accepted): ${
      unexpected.length === 0 ? 'none' : unexpected.map(([k, n]) => `${k} ${n}`).join('; ')
    }.`,
    '',
    '| operation | requests | p50 / p99 ms |',
    '| --- | ---: | --- |',
    ...Object.entries(figures.operations).map(
      ([name, o]) => `| ${name} | ${o.count.toLocaleString('en')} | ${o.p50} / ${o.p99} |`,
    ),
    '',
    `Gateway memory (heap after a full GC / RSS): ${samples.map((s) => `${s.at}: ${s.heapMiB} / ${s.rssMiB} MiB`).join('; ')}.`,
    '',
    end,
  ];
  const section = lines.join('\n');
  const at = readme.indexOf(begin);
  const next =
    at >= 0
      ? `${readme.slice(0, at)}${section}${readme.slice(readme.indexOf(end) + end.length)}`
      : `${readme.trimEnd()}\n\n## Soak: five minutes of mixed load (\`npm run bench:soak\`)\n\nOne gateway over the embedded store, a load generator in its own process (\`bench/soak-load.ts\`) with 8 connections sending a mix: a partner's dashboard page (30 %), a case by id (20 %), a \`changes\` page (10 %), \`me\` (10 %), \`createCase\` with an idempotency key (20 %) and bad input (10 %: a date that does not exist, a null for an \`ID!\`). Every answer is counted by HTTP status and first GraphQL error code; the gateway's memory is taken after a full GC at the start, every minute and at the end. Nothing is asserted.\n\n${section}\n`;
  writeFileSync(file, next);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
