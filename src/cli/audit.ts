import type { Command } from 'commander';
import { verifyChain } from '../events/log.ts';
import { withServices } from './runtime.ts';

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Check the event log.');
  audit
    .command('verify')
    .description('Walk the hash-chained event log and report the first broken link (exit status 1 if any).')
    .action(async () => {
      const result = await withServices((services) => verifyChain(services.log));
      if (result.broken) {
        process.stdout.write(
          `BROKEN at event ${result.broken.seq}: ${result.broken.problem} (${result.checked} events verified before it)\n`,
        );
        process.exitCode = 1;
      } else {
        process.stdout.write(`ok: ${result.checked} events, chain intact\n`);
      }
    });
}
