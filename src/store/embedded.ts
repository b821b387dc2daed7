// Starts and supervises the embedded store process (FerretDB on SQLite or PostgreSQL).
// If the process dies while the gateway runs, it is started again on the same port so
// the driver's own reconnect finds it; the gateway never needs a restart.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../logger.ts';
import { ensureStoreBinary, STORE_BINARY } from './build.ts';

export type EmbeddedStoreOptions = {
  dataDir: string;
  handler?: 'sqlite' | 'postgresql';
  postgresqlUrl?: string | undefined;
  /** Host:port to listen on; defaults to a free port on loopback. */
  listen?: string;
  logger?: Logger | undefined;
  /** Restart the process when it exits unexpectedly (default true). */
  supervise?: boolean;
  /** Wait before a restart (default 500 ms). */
  restartDelayMs?: number;
};

const START_TIMEOUT_MS = 30_000;
const RESTART_DELAY_MS = 500;

export class EmbeddedStore {
  private child: ChildProcess | undefined;
  private stopping = false;
  private address: string | undefined;
  /** Bumped on every start, so a stale exit handler can tell it is stale. */
  private generation = 0;
  restarts = 0;

  private constructor(private readonly options: EmbeddedStoreOptions) {}

  static async start(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    await ensureStoreBinary({ log: (line) => options.logger?.info(line) });
    const store = new EmbeddedStore(options);
    await store.launch(options.listen ?? '127.0.0.1:0');
    return store;
  }

  /** `mongodb://host:port/` without a database name. */
  get uri(): string {
    if (!this.address) throw new Error('embedded store is not running');
    return `mongodb://${this.address}/`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private launch(listen: string): Promise<void> {
    const { dataDir, handler = 'sqlite', postgresqlUrl, logger } = this.options;
    const sqliteDir = path.join(dataDir, 'store');
    mkdirSync(sqliteDir, { recursive: true });
    const args = ['-listen', listen, '-handler', handler, '-sqlite-dir', sqliteDir];
    if (handler === 'postgresql' && postgresqlUrl) args.push('-postgresql-url', postgresqlUrl);
    const child = spawn(STORE_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const generation = ++this.generation;
    this.child = child;

    const stderr = createInterface({ input: child.stderr });
    stderr.on('line', (line) => logger?.debug({ module: 'embedded-store' }, line));

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`embedded store did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const stdout = createInterface({ input: child.stdout });
      stdout.on('line', (line) => {
        const match = /^LISTENING mongodb:\/\/([^/]+)\//.exec(line);
        if (match?.[1]) {
          clearTimeout(timer);
          this.address = match[1];
          logger?.info({ module: 'embedded-store', address: this.address, pid: child.pid }, 'embedded store listening');
          resolve();
        }
      });
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (generation !== this.generation) return;
        this.child = undefined;
        if (this.stopping) return;
        if (!this.address) {
          reject(new Error(`embedded store exited during start (code ${code}, signal ${signal})`));
          return;
        }
        logger?.warn({ module: 'embedded-store', code, signal }, 'embedded store exited; restarting it');
        if (this.options.supervise !== false) this.scheduleRestart();
      });
    });
  }

  private scheduleRestart(): void {
    setTimeout(() => {
      if (this.stopping || this.child) return;
      this.restarts += 1;
      // The same address, so existing driver connections find it again.
      this.launch(this.address!).catch((error: unknown) => {
        this.options.logger?.error({ module: 'embedded-store', err: error }, 'embedded store restart failed; retrying');
        this.scheduleRestart();
      });
    }, this.options.restartDelayMs ?? RESTART_DELAY_MS).unref();
  }

  /** Kills the process without stopping supervision (tests use it to simulate a crash). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
