// Opens the store the configuration names: the server at MONGODB_URI, or the embedded
// store under the data folder. A gateway that starts the embedded store records its
// address in the data folder, so the CLI talks to the same store instead of starting a
// second one on the same files.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { databaseName, type Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { EmbeddedStore } from './embedded.ts';
import { Store } from './store.ts';

export type OpenedStore = {
  store: Store;
  embedded: EmbeddedStore | undefined;
  close(): Promise<void>;
};

function runningFile(dataDir: string): string {
  return path.join(dataDir, 'embedded-store.json');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The address of an embedded store another process runs on this data folder, if any. */
export function runningEmbeddedStore(dataDir: string): string | undefined {
  const file = runningFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as { uri: string; ownerPid: number };
    return processAlive(info.ownerPid) ? info.uri : undefined;
  } catch {
    return undefined;
  }
}

export async function openStore(
  config: Config,
  logger: Logger,
  options: { share?: boolean; recordCommands?: boolean } = {},
): Promise<OpenedStore> {
  const dbName = databaseName(config);
  const connect = (uri: string) =>
    Store.connect({
      uri,
      dbName,
      timeoutMs: config.storeTimeoutMs,
      logger,
      recordCommands: options.recordCommands ?? false,
      settings: config.store,
    });

  if (config.mongodbUri) {
    const store = await connect(config.mongodbUri);
    return { store, embedded: undefined, close: () => store.close() };
  }
  const shared = options.share ? runningEmbeddedStore(config.dataDir) : undefined;
  if (shared) {
    logger.debug({ uri: shared }, 'using the embedded store of the running gateway');
    const store = await connect(shared);
    return { store, embedded: undefined, close: () => store.close() };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const embedded = await EmbeddedStore.start({
    dataDir: config.dataDir,
    handler: config.storeHandler,
    postgresqlUrl: config.storePostgresqlUrl,
    logger,
  });
  const file = runningFile(config.dataDir);
  writeFileSync(file, JSON.stringify({ uri: embedded.uri, ownerPid: process.pid }));
  const store = await connect(embedded.uri);
  return {
    store,
    embedded,
    async close() {
      await store.close().catch(() => undefined);
      await embedded.stop();
      rmSync(file, { force: true });
    },
  };
}
