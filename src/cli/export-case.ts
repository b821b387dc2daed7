// `erin export-case REF`: subject access (GDPR art. 15). Everything held on one case, opened,
// as JSON for the member state answering the returnee; recorded in the case's audit trail.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../errors.ts';
import { cliPrincipal, withServices } from './runtime.ts';

export function registerExportCaseCommand(program: Command): void {
  program
    .command('export-case')
    .description('Subject access: everything held on one case (opened) as JSON; the export is audited.')
    .argument('<reference>', 'the case reference, e.g. NL-2026-000123')
    .option('--out <file>', 'write the JSON to this file (mode 0600) instead of standard output')
    .addHelpText(
      'after',
      '\nUses MONGODB_URI, or the embedded store under ERIN_DATA_DIR, and the gateway’s encryption key. The export\n' +
        'is a CaseExported entry in the case’s audit trail (who ran it, by login name). The output holds personal and\n' +
        'special-category data: hand it to the member state over a protected channel, keep no copy. An erased case\n' +
        'exports what is left of it (its personal values are null).',
    )
    .action(async (reference: string, options: { out?: string }) => {
      const exported = await withServices(async (services) => {
        try {
          return await services.subjectAccess.exportCase(cliPrincipal(), reference.trim());
        } catch (error) {
          if (error instanceof AppError && error.code === 'NOT_FOUND') return null;
          throw error;
        }
      });
      if (!exported) {
        process.stderr.write(`erin: no case with reference ${JSON.stringify(reference)}\n`);
        process.exitCode = 1;
        return;
      }
      const json = `${JSON.stringify(exported, null, 2)}\n`;
      if (options.out) writeFileSync(options.out, json, { mode: 0o600 });
      else process.stdout.write(json);
    });
}
