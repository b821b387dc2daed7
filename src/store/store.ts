// The store connection: one mongoose connection per gateway (tests build several in
// one process), the models registered on it, index creation, health and command
// monitoring. Every read and write of the app goes through the models here.
import mongoose, { type Connection, type Model, type Schema } from 'mongoose';
import type { Logger } from '../logger.ts';
import { CommandRecorder } from './command-recorder.ts';
import { buildMissingIndexes, type DeclaredIndex, type IndexReport } from './indexes.ts';
import { DEFAULT_STORE_SETTINGS } from '../config.ts';
import type { StoreSettings } from './settings.ts';

// Applies to every connection: filters are sanitised (no operator injection through
// input values) and a filter on an unknown path is an error, not a silent full scan.
mongoose.set('sanitizeFilter', true);
mongoose.set('strictQuery', 'throw');
mongoose.set('autoIndex', false);
mongoose.set('autoCreate', false);

export type StoreOptions = {
  uri: string;
  dbName: string;
  timeoutMs: number;
  logger?: Logger | undefined;
  /** Records every command's filter and sort (tests check index coverage and round trips). */
  recordCommands?: boolean;
  /** Concerns, read preference and time limits; DEFAULT_STORE_SETTINGS for what is not given. */
  settings?: Partial<StoreSettings> | undefined;
};

export type ModelDefinitions = Record<string, Schema>;

export class Store {
  readonly recorder = new CommandRecorder();
  private indexesBuilt = false;
  private lastPingOk = false;
  private indexPromise: Promise<void> | undefined;
  private readonly models = new Map<string, Model<unknown>>();
  /** Observers of every command the app sends (metrics). */
  onCommand: ((commandName: string) => void) | undefined;

  private constructor(
    readonly connection: Connection,
    private readonly options: StoreOptions,
    readonly settings: StoreSettings,
  ) {}

  static async connect(options: StoreOptions): Promise<Store> {
    const settings: StoreSettings = { ...DEFAULT_STORE_SETTINGS, ...options.settings };
    const connection = mongoose.createConnection(options.uri, {
      dbName: options.dbName,
      bufferCommands: false,
      serverSelectionTimeoutMS: options.timeoutMs,
      connectTimeoutMS: options.timeoutMs,
      heartbeatFrequencyMS: 1000,
      socketTimeoutMS: 60_000,
      maxPoolSize: 50,
      monitorCommands: true,
      // Every write acknowledged by the configured members and journaled; every read from
      // the primary. These win over the URI's own options (see StoreSettings).
      writeConcern: { w: settings.writeConcern, journal: settings.journal, wtimeoutMS: settings.writeTimeoutMs },
      readPreference: settings.readPreference,
      // A write interrupted by an election is retried once by the driver on the new primary,
      // which recognises a write it already applied. Correctness does not rest on it (the
      // log's unique claims make any retry safe): it spares clients a STORE_UNAVAILABLE at
      // most elections. A standalone server, like the embedded store, never retries.
      retryWrites: true,
      retryReads: true,
    });
    // maxTimeMS on every mongoose query and aggregation of this connection; raw collection
    // reads pass `store.queryOptions` themselves.
    connection.set('maxTimeMS', settings.maxTimeMs);
    // FerretDB 1.24 refuses maxTimeMS on distinct ("unknown field"): distinct goes without it.
    connection.plugin((schema) => {
      schema.pre('distinct', function () {
        (this as unknown as { options: { maxTimeMS?: number } }).options.maxTimeMS = undefined;
      });
    });
    const store = new Store(connection, options, settings);
    connection.on('error', (error: unknown) => options.logger?.warn({ err: error }, 'store connection error'));
    await connection.asPromise();
    const client = connection.getClient();
    client.on('commandStarted', (event) => {
      store.onCommand?.(event.commandName);
      if (options.recordCommands) store.recorder.record(event.commandName, event.command);
    });
    store.lastPingOk = true;
    return store;
  }

  /** Options every raw collection read passes (the time limit mongoose adds to its own queries). */
  get queryOptions(): { maxTimeMS: number } {
    return { maxTimeMS: this.settings.maxTimeMs };
  }

  /** Options of the reads that hand events out (feed, subscriptions, webhooks): only what no failover can roll back. */
  get feedReadOptions(): { maxTimeMS: number; readConcern: { level: 'majority' | 'local' } } {
    return { maxTimeMS: this.settings.maxTimeMs, readConcern: { level: this.settings.feedReadConcern } };
  }

  get logger(): Logger | undefined {
    return this.options.logger;
  }

  get dbName(): string {
    return this.options.dbName;
  }

  /** Registers (once) and returns the model for a schema on this connection. */
  model<T = unknown>(name: string, schema: Schema): Model<T> {
    const existing = this.models.get(name);
    if (existing) return existing as unknown as Model<T>;
    const model = this.connection.model(name, schema) as unknown as Model<T>;
    this.models.set(name, model as unknown as Model<unknown>);
    return model;
  }

  registeredModels(): Model<unknown>[] {
    return [...this.models.values()];
  }

  /**
   * Checks that the registered models' collections and declared indexes are in the store and
   * builds what is missing, all within ERIN_STORE_INDEX_TIMEOUT (else IndexBuildTimeout, naming
   * the index). Idempotent; with every index there already it only lists them.
   */
  async ensureIndexes(): Promise<void> {
    this.indexPromise ??= (async () => {
      const report = await buildMissingIndexes(this.registeredModels(), { timeoutMs: this.settings.indexBuildTimeoutMs });
      if (report.created.length > 0) {
        this.options.logger?.info({ indexes: report.created.map((i) => `${i.collection}.${i.name}`) }, 'indexes built');
      }
      this.indexesBuilt = true;
    })().finally(() => {
      this.indexPromise = undefined;
    });
    return this.indexPromise;
  }

  /** Builds every missing collection and index however long it takes (`npx erin store migrate`). */
  async migrateIndexes(onCreated?: (index: DeclaredIndex) => void): Promise<IndexReport> {
    const report = await buildMissingIndexes(this.registeredModels(), { onCreated });
    this.indexesBuilt = true;
    return report;
  }

  /** True when the store answers a ping within the timeout. */
  async ping(): Promise<boolean> {
    const db = this.connection.db;
    if (!db) return false;
    try {
      await withTimeout(db.command({ ping: 1 }), this.options.timeoutMs);
      if (!this.lastPingOk) {
        this.options.logger?.info('store reachable again');
        // A server that came back empty needs its indexes again; createIndexes is idempotent.
        this.indexesBuilt = false;
        await this.ensureIndexes().catch((error: unknown) =>
          this.options.logger?.warn({ err: error }, 'rebuilding indexes failed'),
        );
      }
      this.lastPingOk = true;
      return true;
    } catch {
      if (this.lastPingOk) this.options.logger?.warn('store unreachable');
      this.lastPingOk = false;
      return false;
    }
  }

  /** Ready: the store answers and the indexes are built. */
  async ready(): Promise<boolean> {
    const up = await this.ping();
    return up && this.indexesBuilt;
  }

  get up(): boolean {
    return this.lastPingOk;
  }

  async close(): Promise<void> {
    await this.connection.close(true);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timeout')), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * Documents per insert command. FerretDB inserts 100 at a time and, after a duplicate in an
 * ordered insert, still goes on with the next hundred, where MongoDB stops: with at most 100
 * per command an ordered insert stops at its first refusal on both.
 */
export const MAX_BATCH = 100;

/**
 * Inserts documents in order, MAX_BATCH per command, stopping at the first refused one.
 * Returns how many went in (always a prefix) and whether a duplicate stopped it; any other
 * error is thrown.
 */
export async function insertInOrder(
  collection: { insertMany(docs: never[], options: { ordered: true }): Promise<unknown> },
  docs: readonly object[],
): Promise<{ inserted: number; duplicate: boolean }> {
  let inserted = 0;
  while (inserted < docs.length) {
    const batch = docs.slice(inserted, inserted + MAX_BATCH);
    try {
      await collection.insertMany(batch as never[], { ordered: true });
      inserted += batch.length;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return { inserted: inserted + insertedBefore(error), duplicate: true };
    }
  }
  return { inserted, duplicate: false };
}

/** How many documents of an ordered insert went in before it was refused. */
function insertedBefore(error: unknown): number {
  type WriteError = { index?: number };
  const e = error as { insertedCount?: number; result?: { insertedCount?: number }; writeErrors?: WriteError[] | WriteError };
  const firstRefused = Array.isArray(e.writeErrors) ? e.writeErrors[0]?.index : e.writeErrors?.index;
  return firstRefused ?? e.insertedCount ?? e.result?.insertedCount ?? 0;
}

/** Binary data as a lean read returns it (a driver Binary, or a Buffer) as a Buffer. */
export function asBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  const binary = data as { buffer?: Uint8Array };
  if (binary.buffer instanceof Uint8Array) return Buffer.from(binary.buffer);
  throw new Error('stored data is not binary');
}

/** True for a duplicate-key error: the only reliable conflict signal on both stores. */
export function isDuplicateKey(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (code === 11000 || code === 11001) return true;
  const writeErrors = (error as { writeErrors?: { code?: number }[] }).writeErrors;
  return Array.isArray(writeErrors) && writeErrors.some((w) => w.code === 11000);
}
