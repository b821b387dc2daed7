import type { Command } from 'commander';
import { seedDemo } from '../seed/demo.ts';
import { withServices } from './runtime.ts';

export function registerSeedCommand(program: Command): void {
  program
    .command('seed')
    .description('Load demo data (idempotent: running it again adds nothing).')
    .option('--demo', 'programmes, seven member states, partners, contracts, the REG and the network, and demo cases')
    .addHelpText(
      'after',
      '\nUses MONGODB_URI, or the embedded store under ERIN_DATA_DIR (the running gateway’s, if there is one).',
    )
    .action(async (options: { demo?: boolean }) => {
      if (!options.demo) throw new Error('say what to seed: --demo');
      await withServices(async (services) => {
        const report = await seedDemo(services);
        const line = (bucket: Record<string, number>) =>
          Object.entries(bucket)
            .map(([k, n]) => `${n} ${k}`)
            .join(', ') || 'nothing';
        process.stdout.write(`created: ${line(report.created)}\nalready there: ${line(report.existing)}\n`);
      });
    });
}
