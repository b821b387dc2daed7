// What the benchmarks share: a gateway configuration for measuring (development mode for the
// development issuer's tokens, no rate limit in the way), a whole local gateway and the memory figure.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGateway, type Gateway } from '../src/app.ts';
import { loadConfig, type Config } from '../src/config.ts';
import type { Logger } from '../src/logger.ts';
import { EmbeddedStore, type EmbeddedStoreOptions } from '../src/store/embedded.ts';
import { Store } from '../src/store/store.ts';

export function benchConfig(dataDir: string): Config {
  return loadConfig({
    NODE_ENV: 'test',
    ERIN_DEV_MODE: 'true',
    ERIN_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ERIN_RATE_LIMIT: '100000000',
    ERIN_STORE_TIMEOUT: '10s',
  });
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** This process's heap after a full GC (with --expose-gc) and its RSS, in MiB. */
export function memory(): { rssMiB: number; heapMiB: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed) };
}

/**
 * A gateway over its own embedded store, seeded, listening on a free loopback port; `stop`
 * closes the server's connections, the gateway, the store and the embedded store.
 */
export async function startLocalGateway(options: {
  config: Config;
  dataDir: string;
  dbName: string;
  logger: Logger;
  handler?: EmbeddedStoreOptions['handler'];
  recordCommands?: boolean;
  seed: (gateway: Gateway) => Promise<unknown>;
}) {
  const { config, dataDir, dbName, logger } = options;
  const embedded = await EmbeddedStore.start({ dataDir, logger, ...(options.handler ? { handler: options.handler } : {}) });
  const recording = options.recordCommands === undefined ? {} : { recordCommands: options.recordCommands };
  const store = await Store.connect({ uri: embedded.uri, dbName, timeoutMs: 10_000, logger, ...recording });
  const gateway = await createGateway({ config, store, logger });
  await store.ensureIndexes();
  await options.seed(gateway);
  const server = createServer(gateway.app);
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    gateway,
    url,
    async stop(): Promise<void> {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await gateway.close();
      await store.close();
      await embedded.stop();
    },
  };
}
