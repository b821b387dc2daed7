import { type Command, InvalidArgumentError } from 'commander';
import { verifyChain } from '../events/log.ts';
import { withServices } from './runtime.ts';

type Anchor = { seq: number; hash: string };

function anchor(value: string): Anchor {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('<sequence>:<sha-256 hex>, as printed by an earlier verify');
  return { seq: Number(match[1]), hash: match[2]! };
}

export function registerAuditCommand(program: Command): void {
  const audit = program.command('audit').description('Check the event log.');
  audit
    .command('verify')
    .description('Walk the hash-chained event log and report the first broken link (exit status 1 if any).')
    .option(
      '--anchor <seq:hash>',
      'a head printed by an earlier run (kept outside the store): also proves the log up to it was not rewritten as a whole',
      anchor,
    )
    .addHelpText(
      'after',
      '\nUses MONGODB_URI, or the embedded store under ERIN_DATA_DIR. Record the printed head somewhere the store’s\n' +
        'administrators cannot write, and pass it back with --anchor: a chain re-hashed from some event to the end is\n' +
        'consistent in itself, and only an anchor from outside shows it.',
    )
    .action(async (options: { anchor?: Anchor }) => {
      const result = await withServices(async (services) => {
        const verified = await verifyChain(services.log);
        const anchored = options.anchor && !verified.broken ? await services.log.get(options.anchor.seq) : undefined;
        return { ...verified, anchored };
      });
      if (result.broken) {
        process.stdout.write(
          `BROKEN at event ${result.broken.seq}: ${result.broken.problem} (${result.checked} events verified before it)\n`,
        );
        process.exitCode = 1;
        return;
      }
      if (options.anchor && result.anchored?.hash !== options.anchor.hash) {
        process.stdout.write(
          `BROKEN at event ${options.anchor.seq}: ${result.anchored ? 'its hash differs from the anchor' : 'it is missing'} (the log was rewritten from there on or before)\n`,
        );
        process.exitCode = 1;
        return;
      }
      process.stdout.write(
        `ok: ${result.checked} events, chain intact${options.anchor ? `, anchor ${options.anchor.seq} matches` : ''}\nhead: ${result.head.seq}:${result.head.hash}\n`,
      );
    });
}
