// What CLI commands share: configuration, a quiet logger, the store (the running
// gateway's embedded store when there is one) and the services.
import { userInfo } from 'node:os';
import type { Principal } from '../auth/principal.ts';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { createServices, settingsFrom, type Services } from '../services.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { systemClock } from '../clock.ts';
import { createSealer, resolveEncryptionKey } from '../crypto/sealed.ts';

export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/**
 * Runs an action with the services on the configured store, then closes everything. The store's
 * indexes are checked (and missing ones built within ERIN_STORE_INDEX_TIMEOUT) first, unless the
 * action builds them itself (`ensureIndexes: false`).
 */
export async function withServices<T>(
  action: (services: Services, config: Config, store: Store) => Promise<T>,
  options: { ensureIndexes?: boolean } = {},
): Promise<T> {
  const config = cliConfig();
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const opened = await openStore(config, logger, { share: true });
  try {
    const sealer = createSealer([resolveEncryptionKey(config.encryptionKey, config.dataDir)]);
    const services = createServices({ store: opened.store, clock: systemClock, logger, sealer, settings: settingsFrom(config) });
    if (options.ensureIndexes !== false) await opened.store.ensureIndexes();
    return await action(services, config, opened.store);
  } finally {
    await opened.close();
  }
}

/** Whoever runs the CLI with access to the store, recorded (exports) by their login name. */
export function cliPrincipal(): Principal {
  return {
    subject: `cli:${userInfo().username}`,
    issuer: 'erin-cli',
    organisation: { code: 'SYSTEM', kind: 'NETWORK', name: 'ERIN Exchange (command line)' },
    roles: ['network-admin'],
  };
}
