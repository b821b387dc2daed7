// `npx erin …`: token, seed, stats, audit, export-case, store. Each command prints --help.
import { Command } from 'commander';
import { registerAuditCommand } from './audit.ts';
import { registerExportCaseCommand } from './export-case.ts';
import { registerSeedCommand } from './seed.ts';
import { registerStatsCommand } from './stats.ts';
import { registerStoreCommand } from './store.ts';
import { registerTokenCommand } from './token.ts';

export function buildProgram(): Command {
  const program = new Command('erin')
    .description(
      'ERIN Exchange command line: tokens for development, demo and bulk data, statistics, audit, subject access, store migrations.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: true });
  registerTokenCommand(program);
  registerSeedCommand(program);
  registerAuditCommand(program);
  registerStatsCommand(program);
  registerExportCaseCommand(program);
  registerStoreCommand(program);
  return program;
}

const isMain = process.argv[1] && /erin(\.js)?$|cli[/\\]main\.ts$/.test(process.argv[1]);
if (isMain) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      process.stderr.write(`erin: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
