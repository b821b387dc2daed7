import type { Command } from 'commander';
import { parseDuration } from '../config.ts';
import { mintDevToken } from '../auth/dev-issuer.ts';
import { ROLES, ROLES_BY_KIND } from '../auth/principal.ts';
import { cliConfig } from './runtime.ts';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description(
      'Print a token signed by the local development issuer (its key is generated into the data folder on first use). ' +
        'Trusted by a gateway outside production that shares the data folder.',
    )
    .requiredOption('--org <code>', 'organisation code, e.g. NL or P-AF-HOPE')
    .requiredOption('--role <role...>', `role(s): ${ROLES.join(', ')}`)
    .option('--ttl <duration>', 'lifetime, e.g. 15m, 1h, 8h', '1h')
    .option('--sub <subject>', 'the user id to put in the token')
    .addHelpText(
      'after',
      `\nRoles by organisation kind:\n${Object.entries(ROLES_BY_KIND)
        .map(([kind, roles]) => `  ${kind}: ${roles.join(', ')}`)
        .join(
          '\n',
        )}\n\nExample:\n  TOKEN=$(npx erin token --org NL --role caseworker)\n  curl -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\\n    -d '{"query":"{ me { organisation { name } roles } }"}' http://localhost:4000/graphql`,
    )
    .action((options: { org: string; role: string[]; ttl: string; sub?: string }) => {
      const unknown = options.role.filter((r) => !(ROLES as readonly string[]).includes(r));
      if (unknown.length > 0) throw new Error(`unknown role(s): ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);
      const config = cliConfig();
      const ttlSeconds = Math.floor(parseDuration(options.ttl) / 1000);
      if (ttlSeconds * 1000 > config.tokenMaxAgeMs) {
        throw new Error(`--ttl ${options.ttl} is longer than the gateway's maximum token age (ERIN_TOKEN_MAX_AGE)`);
      }
      const token = mintDevToken({
        dataDir: config.dataDir,
        audience: config.tokenAudience,
        organisation: options.org,
        roles: options.role,
        ttlSeconds,
        ...(options.sub ? { subject: options.sub } : {}),
      });
      process.stdout.write(`${token}\n`);
    });
}
