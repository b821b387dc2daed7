// Builds a whole gateway in-process on its own database of the shared test store, with
// an HTTP server on a free port, and sends it real GraphQL over HTTP.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import type { Db } from 'mongodb';
import { expect, inject } from 'vitest';
import { createGateway, type Gateway } from '../../src/app.ts';
import { mintDevToken } from '../../src/auth/dev-issuer.ts';
import type { Role } from '../../src/auth/principal.ts';
import { ManualClock, systemClock, type Clock } from '../../src/clock.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { seedNetwork } from '../../src/seed/demo.ts';
import type { IndexKeys } from '../../src/store/query-plan.ts';
import { Store } from '../../src/store/store.ts';
import { TEST_DB_PREFIX } from './db-names.ts';

export type GqlResponse<T = Record<string, unknown>> = {
  status: number;
  data: T | null | undefined;
  errors: { message: string; path?: (string | number)[]; extensions: { code: string } & Record<string, unknown> }[] | undefined;
  headers: Headers;
};

export type TestGatewayOptions = {
  /** Extra environment for loadConfig. */
  env?: Record<string, string>;
  clock?: Clock;
  /** Load the programmes and the demo network (default true). */
  seed?: boolean;
  /** Use this store URI instead of the shared test store. */
  mongoUri?: string;
  dbName?: string;
  trustWatchIntervalMs?: number;
  /** Share a data folder (and so the development issuer's key) with another gateway. */
  dataDir?: string;
  /** Receives every log line (tests that check what is never logged). */
  logLines?: string[];
  /**
   * Run the development identity provider at /idp (the portal's sign-in); `publicUrl` when the
   * browser reaches the gateway elsewhere (through test/helpers/link.ts).
   */
  devIdp?: { accessTokenTtl?: number; publicUrl?: string };
};

export type TestGateway = Awaited<ReturnType<typeof startGateway>>;

/** A database of its own on the test store (see helpers/db-names.ts). */
export function uniqueDbName(purpose = 't'): string {
  return `${TEST_DB_PREFIX}${inject('runId')}_${purpose}_${randomBytes(6).toString('hex')}`;
}

export async function startGateway(options: TestGatewayOptions = {}) {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(inject('dataDir'), 'gw-'));
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    // Tests sign their tokens with the development issuer: development mode, asked for
    // explicitly (a test of production's refusals sets NODE_ENV=production or ERIN_DEV_MODE=false).
    ERIN_DEV_MODE: options.env?.NODE_ENV === 'production' ? 'false' : 'true',
    ERIN_DATA_DIR: dataDir,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ERIN_STORE_TIMEOUT: '2s',
    ERIN_RATE_LIMIT: '100000',
    ...options.env,
  });
  const lines = options.logLines;
  const logger = createLogger(config.logLevel, lines ? { write: (line: string) => void lines.push(line) } : undefined);
  const dbName = options.dbName ?? uniqueDbName();
  const store = await Store.connect({
    uri: options.mongoUri ?? inject('mongoUri'),
    dbName,
    timeoutMs: config.storeTimeoutMs,
    logger,
    recordCommands: true,
    settings: config.store,
  });
  const clock = options.clock ?? systemClock;
  const gateway: Gateway = await createGateway({
    config,
    store,
    logger,
    clock,
    ...(options.trustWatchIntervalMs ? { trustWatchIntervalMs: options.trustWatchIntervalMs } : {}),
  });
  await store.ensureIndexes();
  if (options.seed !== false) await seedNetwork(gateway.services);
  const server: Server = createServer(gateway.app);
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { publicUrl, ...idpOptions } = options.devIdp ?? {};
  const idp = options.devIdp ? gateway.startDevIdentityProvider(publicUrl ?? url, idpOptions) : undefined;
  // Tests that inspect the raw store use their own connection, so their reads are not
  // counted as the app's queries (round trips, index coverage).
  let rawConnection: Connection | undefined;

  function token(
    organisation: string,
    roles: Role | Role[],
    extra: { subject?: string; ttlSeconds?: number; issuedAt?: number } = {},
  ) {
    return mintDevToken({
      dataDir,
      audience: config.tokenAudience,
      organisation,
      roles: Array.isArray(roles) ? roles : [roles],
      // Issued on the gateway's clock, so a gateway placed on another day accepts it.
      issuedAt: Math.floor(clock.now().getTime() / 1000),
      ...extra,
    });
  }

  async function gql<T = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown> = {},
    opts: { token?: string | undefined; headers?: Record<string, string> } = {},
  ): Promise<GqlResponse<T>> {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: T | null; errors?: GqlResponse['errors'] };
    return { status: response.status, data: body.data, errors: body.errors, headers: response.headers };
  }

  /** A client acting as one organisation and role. */
  function as(organisation: string, roles: Role | Role[], subject?: string) {
    const t = token(organisation, roles, subject ? { subject } : {});
    return {
      token: t,
      gql: <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}) =>
        gql<T>(query, variables, { token: t }),
      /** Runs a query and fails the test with the errors if there are any. */
      ok: async <T = Record<string, unknown>>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
        const r = await gql<T>(query, variables, { token: t });
        if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors, null, 2)}`);
        return r.data as T;
      },
    };
  }

  return {
    url,
    idp,
    config,
    dataDir,
    dbName,
    store,
    clock,
    gateway,
    services: gateway.services,
    token,
    gql,
    as,
    /** The raw store, as an attacker with a copy of the database files would see it. */
    async raw(): Promise<Db> {
      rawConnection ??= await mongoose.createConnection(options.mongoUri ?? inject('mongoUri'), { dbName }).asPromise();
      return rawConnection.db!;
    },
    /** Stops the gateway; its database is dropped unless another gateway goes on with it (`keepData`). */
    async close(closeOptions: { keepData?: boolean } = {}) {
      writeQueryShapes(dbName, store);
      await rawConnection?.close();
      rawConnection = undefined;
      await gateway.closeSubscriptions();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await gateway.close();
      // A database shared with another gateway (options.dbName, or keepData) is left to its owner.
      if (!closeOptions.keepData && !options.dbName) await store.connection.dropDatabase().catch(() => undefined);
      await store.close();
    },
  };
}

export const QUERY_SHAPES_DIR = path.resolve('test-results/query-shapes');

/** Leaves the queries this gateway sent, with the indexes its models declare, for scripts/check-index-coverage.ts. */
function writeQueryShapes(dbName: string, store: Store): void {
  const indexes: Record<string, IndexKeys[]> = {};
  for (const model of store.registeredModels()) {
    indexes[model.collection.collectionName] = model.schema
      .indexes()
      .map(([keys]) => Object.entries(keys).map(([field, direction]) => [field, Number(direction)] as [string, number]));
  }
  mkdirSync(QUERY_SHAPES_DIR, { recursive: true });
  // Several gateways may share a database (two instances on one store): one file each.
  const file = `${dbName}-${randomBytes(3).toString('hex')}.json`;
  // The test file that sent them, so a query the check refuses can be traced to its test.
  const testFile = path.relative(process.cwd(), expect.getState().testPath ?? '');
  writeFileSync(path.join(QUERY_SHAPES_DIR, file), JSON.stringify({ testFile, indexes, queries: store.recorder.queries }));
}

/** A clock for tests that place the gateway on a given day. */
export function clockAt(iso: string): ManualClock {
  return new ManualClock(new Date(iso));
}

/** The error codes of a response, in order. */
export function codes(response: GqlResponse): string[] {
  return (response.errors ?? []).map((e) => e.extensions.code);
}
