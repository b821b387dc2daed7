// `npm run store:build`: builds the embedded store binary (always, with --force).
import { ensureStoreBinary, STORE_BINARY } from './build.ts';

const force = process.argv.includes('--force');
ensureStoreBinary({ force, log: (line) => process.stderr.write(`${line}\n`) })
  .then((built) => {
    process.stdout.write(`${built ? 'built' : 'up to date'}: ${STORE_BINARY}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
