// `npx erin store migrate`: builds the collections and indexes this version declares, however long
// they take, so that a rolling upgrade's gateways find them built and start at once.
import type { Command } from 'commander';
import { withServices } from './runtime.ts';

export function registerStoreCommand(program: Command): void {
  const store = program.command('store').description('Prepare the store for this version.');
  store
    .command('migrate')
    .description('Build the collections and indexes this version declares that the store lacks, and report them.')
    .addHelpText(
      'after',
      '\nUses MONGODB_URI, or the embedded store under ERIN_DATA_DIR. Run it with the new version before a rolling\n' +
        'upgrade: on a populated replica set an index build waits for every voting member and can take long, and a\n' +
        'gateway that has to build one at start gives up after ERIN_STORE_INDEX_TIMEOUT. Running it again builds nothing.',
    )
    .action(async () => {
      const report = await withServices(
        (_services, _config, opened) =>
          opened.migrateIndexes((index) => process.stdout.write(`created ${index.collection}.${index.name}\n`)),
        { ensureIndexes: false },
      );
      const collections = report.collections.length > 0 ? `, ${report.collections.length} new collections` : '';
      process.stdout.write(
        report.created.length === 0
          ? `up to date: all ${report.present} declared indexes present${collections}\n`
          : `built ${report.created.length} indexes (${report.present} present already)${collections}\n`,
      );
    });
}
