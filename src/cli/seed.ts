import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import { seedBulkCases } from '../seed/bulk.ts';
import { seedDemo, seedNetwork, seedProgrammes } from '../seed/demo.ts';
import { withServices } from './runtime.ts';

const MAX_CASES = 1_000_000;

function caseCount(value: string): number {
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isInteger(n) || n < 1 || n > MAX_CASES)
    throw new InvalidArgumentError(`a whole number from 1 to ${MAX_CASES.toLocaleString('en')}`);
  return n;
}

export function registerSeedCommand(program: Command): void {
  program
    .command('seed')
    .description('Load demo or bulk data. Idempotent: running it again adds nothing twice.')
    .option(
      '--demo',
      'programmes, seven member states, partners, contracts, the REG, the network, rates, and cases in every status',
    )
    .option('--programmes', 'only the programmes of config/programmes.yaml (no demo data): rewrites those whose rules changed')
    .option(
      '--cases <n>',
      `generate n realistic cases with plans (up to ${MAX_CASES.toLocaleString('en')}); loads the network first if needed`,
      caseCount,
    )
    .option('--batch <n>', 'cases written per batch', (v) => caseCount(v), 500)
    .addHelpText(
      'after',
      '\nUses MONGODB_URI, or the embedded store under ERIN_DATA_DIR (the running gateway’s, if there is one).\n\nExamples:\n  npx erin seed --demo\n  npx erin seed --programmes\n  npx erin seed --cases 10000',
    )
    .action(async (options: { demo?: boolean; programmes?: boolean; cases?: number; batch: number }) => {
      if (!options.demo && !options.programmes && !options.cases)
        throw new Error('say what to seed: --demo, --programmes and/or --cases <n>');
      await withServices(async (services) => {
        const line = (bucket: Record<string, number>) =>
          Object.entries(bucket)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ') || 'nothing';
        if (options.programmes && !options.demo) {
          const report = await seedProgrammes(services);
          process.stdout.write(`created: ${line(report.created)}\nalready there: ${line(report.existing)}\n`);
        }
        if (options.demo) {
          const report = await seedDemo(services);
          process.stdout.write(`created: ${line(report.created)}\nalready there: ${line(report.existing)}\n`);
        }
        if (options.cases) {
          await seedNetwork(services);
          const bar = new cliProgress.SingleBar(
            {
              format: 'cases {bar} {percentage}% | {value}/{total} | {duration_formatted}',
              stream: process.stderr,
              noTTYOutput: false,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(options.cases, 0);
          const started = Date.now();
          const report = await seedBulkCases(services, options.cases, {
            batchSize: options.batch,
            onProgress: (done) => bar.update(done),
          });
          bar.stop();
          const seconds = (Date.now() - started) / 1000;
          process.stdout.write(
            `bulk cases: ${report.created} created, ${report.existing} already there (${options.cases} asked) in ${seconds.toFixed(1)} s\n`,
          );
        }
      });
    });
}
