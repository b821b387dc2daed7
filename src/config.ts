// The environment, validated once at start. Nothing else in src/ reads process.env.
import path from 'node:path';
import { z } from 'zod';
import { databaseOfUri, parsesAsStoreUri } from './store/uri.ts';
import type { StoreSettings } from './store/settings.ts';

/** What the gateway asks of the store unless configured (see StoreSettings for what each guarantees). */
export const DEFAULT_STORE_SETTINGS: StoreSettings = {
  writeConcern: 'majority',
  journal: true,
  writeTimeoutMs: 10_000,
  readPreference: 'primary',
  feedReadConcern: 'majority',
  maxTimeMs: 30_000,
  indexBuildTimeoutMs: 120_000,
  projectionGraceMs: 30_000,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const durationPattern = /^(\d+)(ms|s|m|h|d)$/;

/** Parses `90s`, `15m`, `1h`, `7d` into milliseconds. */
export function parseDuration(text: string): number {
  const match = durationPattern.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

const duration = z
  .string()
  .regex(durationPattern, 'a duration such as 90s, 15m, 1h or 7d')
  .transform((value) => parseDuration(value));

/** Years after closure a case's personal data is kept before the retention job erases it. */
export const DEFAULT_RETENTION_YEARS = 10;
/** How long a gateway keeps an unwrapped case key in memory: an erasure on another gateway reaches it within this. */
export const DEFAULT_CASE_KEY_CACHE_MS = 10_000;

/**
 * How many users' worth of requests and WebSocket connections one organisation gets together,
 * unless ERIN_RATE_LIMIT_ORGANISATION / ERIN_WS_MAX_CONNECTIONS_ORGANISATION say otherwise.
 */
const ORGANISATION_FACTOR = 20;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  ERIN_DEV_MODE: z.enum(['true', 'false']).default('false'),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('0.0.0.0'),
  MONGODB_URI: z
    .string()
    .refine(
      (uri) => /^mongodb(\+srv)?:\/\/\S+$/.test(uri) && parsesAsStoreUri(uri),
      'a MongoDB connection string (mongodb://host:port/database)',
    )
    .optional(),
  ERIN_DB_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'letters, digits, _ and -, at most 63')
    .default('erin'),
  ERIN_DATA_DIR: z.string().min(1).default('./data'),
  ERIN_PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^/?#]+(\/[^?#]*)?$/, 'the URL people reach the gateway at, e.g. https://erin.example.org')
    .optional(),
  ERIN_TRUST: z.string().min(1).optional(),
  ERIN_TOKEN_AUDIENCE: z.string().min(1).default('erin-exchange'),
  ERIN_TOKEN_MAX_AGE: duration.default(parseDuration('12h')),
  ERIN_ENCRYPTION_KEY: z
    .string()
    .refine((value) => Buffer.from(value, 'base64').length === 32, '32 bytes, base64-encoded')
    .optional(),
  ERIN_SEED_DEMO: z.enum(['auto', 'always', 'never']).default('auto'),
  ERIN_STORE_TIMEOUT: duration.default(parseDuration('3s')),
  ERIN_STORE_WRITE_CONCERN: z
    .string()
    .regex(/^(majority|[1-9])$/, 'majority, or a number of members from 1 to 9')
    .default(String(DEFAULT_STORE_SETTINGS.writeConcern)),
  ERIN_STORE_JOURNAL: z.enum(['true', 'false']).default(DEFAULT_STORE_SETTINGS.journal ? 'true' : 'false'),
  ERIN_STORE_WRITE_TIMEOUT: duration.default(DEFAULT_STORE_SETTINGS.writeTimeoutMs),
  ERIN_STORE_READ_PREFERENCE: z.enum(['primary', 'primaryPreferred']).default(DEFAULT_STORE_SETTINGS.readPreference),
  ERIN_STORE_FEED_READ_CONCERN: z.enum(['majority', 'local']).default(DEFAULT_STORE_SETTINGS.feedReadConcern),
  ERIN_STORE_MAX_TIME: duration.default(DEFAULT_STORE_SETTINGS.maxTimeMs),
  ERIN_STORE_INDEX_TIMEOUT: duration.default(DEFAULT_STORE_SETTINGS.indexBuildTimeoutMs),
  ERIN_STORE_PROJECTION_GRACE: duration.default(DEFAULT_STORE_SETTINGS.projectionGraceMs),
  ERIN_MAX_QUERY_COST: z.coerce.number().int().positive().default(150_000),
  ERIN_MAX_QUERY_TOKENS: z.coerce.number().int().min(100).default(2_000),
  ERIN_METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  ERIN_MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(12),
  ERIN_RATE_LIMIT: z.coerce.number().int().positive().default(600),
  ERIN_RATE_LIMIT_ORGANISATION: z.coerce.number().int().positive().optional(),
  ERIN_UPLOAD_LIMIT: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024),
  ERIN_STORE_HANDLER: z.enum(['sqlite', 'postgresql']).default('sqlite'),
  ERIN_STORE_POSTGRESQL_URL: z.string().optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  ERIN_FEED_POLL_INTERVAL: duration.default(parseDuration('250ms')),
  ERIN_FEED_BLOCK_SIZE: z.coerce.number().int().min(2).max(100_000).default(1000),
  ERIN_WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().positive().max(1000).default(10),
  ERIN_WS_MAX_CONNECTIONS: z.coerce.number().int().positive().max(10_000).default(10),
  ERIN_WS_MAX_CONNECTIONS_ORGANISATION: z.coerce.number().int().positive().max(1_000_000).optional(),
  ERIN_WS_RECHECK_INTERVAL: duration.default(parseDuration('3s')),
  ERIN_PORTAL_TIMEOUT: duration.default(parseDuration('30s')).refine((ms) => ms >= 1000 && ms <= 300_000, 'from 1s to 5m'),
  ERIN_PORTAL_IDLE: duration
    .default(parseDuration('15m'))
    .refine((ms) => ms >= 10_000 && ms <= 12 * 3_600_000, 'from 10s to 12h'),
  ERIN_WEBHOOK_INTERVAL: duration.default(parseDuration('1s')),
  ERIN_WEBHOOK_TIMEOUT: duration.default(parseDuration('10s')),
  ERIN_WEBHOOK_RETRY_BASE: duration.default(parseDuration('10s')),
  ERIN_WEBHOOK_RETRY_MAX: duration.default(parseDuration('1h')),
  ERIN_WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  ERIN_WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).default('false'),
  ERIN_STATS_MIN_CELL: z.coerce.number().int().min(3, 'at least 3').max(1000).default(5),
  ERIN_STATS_BUDGET: z.coerce.number().int().min(1).max(100_000).default(100),
  ERIN_STATS_BUDGET_PERIOD: duration.default(parseDuration('30d')),
  ERIN_EXTRACT_K: z.coerce.number().int().min(2, 'at least 2').max(1000).default(5),
  ERIN_EXTRACT_TTL: duration.default(parseDuration('7d')),
  ERIN_RETENTION_YEARS: z.coerce.number().int().min(1, 'at least 1').max(100).default(DEFAULT_RETENTION_YEARS),
  ERIN_CASE_KEY_CACHE: duration
    .default(DEFAULT_CASE_KEY_CACHE_MS)
    .refine((ms) => ms <= 300_000, 'at most 5m (an erasure elsewhere must reach this gateway soon)'),
});

export type Config = {
  env: 'development' | 'test' | 'production';
  /**
   * Development mode, only when asked for (ERIN_DEV_MODE=true, or `--dev` as `npm start` passes):
   * the development issuer and identity provider, anonymous introspection, loopback webhooks.
   */
  devMode: boolean;
  port: number;
  host: string;
  /** A MongoDB URI; undefined means: start the embedded store. */
  mongodbUri: string | undefined;
  dbName: string;
  dataDir: string;
  /** Where people reach the gateway (the portal, the development identity provider); default http://localhost:PORT. */
  publicUrl: string | undefined;
  trustFile: string | undefined;
  tokenAudience: string;
  tokenMaxAgeMs: number;
  /** 32-byte key for special-category data; undefined outside production means a development key. */
  encryptionKey: Buffer | undefined;
  seedDemo: 'auto' | 'always' | 'never';
  storeTimeoutMs: number;
  /** Write and read concerns, read preference and time limits asked of the store. */
  store: StoreSettings;
  /** Estimated cost above which an operation is refused (lists count by their page size or declared bound). */
  maxQueryCost: number;
  /** Lexical tokens a document may have; the parser stops at the next one, before validation. */
  maxQueryTokens: number;
  /** When set, /metrics answers only to `Authorization: Bearer <this>`; unset in production, /metrics is off (404). */
  metricsToken: string | undefined;
  maxQueryDepth: number;
  rateLimitPerMinute: number;
  /**
   * Requests per minute of all of one organisation's callers together: an organisation runs its
   * own issuer, so a subject of its choosing per request would otherwise make the limit per caller none.
   */
  rateLimitPerOrganisationPerMinute: number;
  uploadLimitBytes: number;
  storeHandler: 'sqlite' | 'postgresql';
  storePostgresqlUrl: string | undefined;
  redisUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  /** How often each gateway polls the event log for its subscribers. */
  feedPollIntervalMs: number;
  /** Events per sealed block of the log (feed segments); every gateway on a store should agree. */
  feedBlockSize: number;
  /** Subscriptions one WebSocket connection may hold at once. */
  wsMaxSubscriptions: number;
  /** Open WebSocket connections one user (organisation and subject) may hold at once. */
  wsMaxConnections: number;
  /** Open WebSocket connections all users of one organisation may hold at once (subjects are the organisation's to choose). */
  wsMaxConnectionsPerOrganisation: number;
  /** How often open WebSocket connections have their token and organisation checked again. */
  wsRecheckMs: number;
  /**
   * How long the portal waits for an answer before telling the person and offering to try again:
   * each step of a sign-in at the identity provider (discovery, the sign-in page, the code exchange)
   * and each read from the gateway. A stalled link otherwise leaves the page waiting for minutes.
   */
  portalTimeoutMs: number;
  /**
   * How long the portal stays signed in without any input from the person (in any of its tabs of
   * the browser) before it ends the session, with a warning shortly before: partner staff work on
   * shared computers, where a tab left open would otherwise show returnees' cases to the next person.
   */
  portalIdleMs: number;
  webhooks: WebhookSettings;
  /** Statistics cells whose protected count is under this are not listed. */
  statsMinCell: number;
  /** Statistics tables one analyst may draw per period. */
  statsBudget: { limit: number; periodMs: number };
  /** Evaluation extracts: k of k-anonymity, and how long a built extract can be downloaded. */
  extracts: { k: number; ttlMs: number };
  /** Erasure: years after closure before the retention job erases a case, and the case-key cache's lifetime. */
  erasure: ErasureSettings;
};

export type ErasureSettings = {
  /** A case closed more than this many years ago is erased by the retention job (its data key destroyed). */
  retentionYears: number;
  /**
   * How long an unwrapped case key stays in a gateway's memory. An erasure takes effect at once on
   * the gateway that made it; every other gateway stops opening the case's values within this time.
   */
  caseKeyCacheMs: number;
};

export type WebhookSettings = {
  /** How often deliveries are created from the log and due ones are sent. */
  intervalMs: number;
  /** How long a receiver has to answer one delivery. */
  timeoutMs: number;
  /** First retry delay; doubled per failure (with jitter) up to retryMaxMs. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Failed attempts after which a delivery is parked until someone redelivers it. */
  maxAttempts: number;
  /** Allow receivers on private (RFC 1918, unique-local) addresses, e.g. behind a VPN. */
  allowPrivateNetworks: boolean;
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Switches given on the command line (`--dev`), over the environment. */
export type ConfigFlags = { dev?: boolean };

/** The command line's switches: `--dev` asks for development mode. */
export function flagsOf(argv: readonly string[]): ConfigFlags {
  return argv.includes('--dev') ? { dev: true } : {};
}

/** Validates the environment, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, flags: ConfigFlags = {}): Config {
  // An empty variable means unset (compose files pass `${VAR:-}` through as "").
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const parsed = envSchema.safeParse(given);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const devMode = flags.dev === true || e.ERIN_DEV_MODE === 'true';
  if (e.NODE_ENV === 'production' && devMode) {
    problems.push('ERIN_DEV_MODE: development mode (or --dev) never runs with NODE_ENV=production');
  }
  if (e.NODE_ENV === 'production' && !e.ERIN_ENCRYPTION_KEY) {
    problems.push('ERIN_ENCRYPTION_KEY: required in production (32 bytes, base64-encoded)');
  }
  if (e.NODE_ENV === 'production' && !e.ERIN_TRUST) {
    problems.push('ERIN_TRUST: required in production (file of trusted token issuers)');
  }
  if (e.ERIN_STORE_HANDLER === 'postgresql' && !e.ERIN_STORE_POSTGRESQL_URL) {
    problems.push('ERIN_STORE_POSTGRESQL_URL: required when ERIN_STORE_HANDLER=postgresql');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    env: e.NODE_ENV,
    devMode,
    port: e.PORT,
    host: e.HOST,
    mongodbUri: e.MONGODB_URI,
    dbName: e.ERIN_DB_NAME,
    dataDir: path.resolve(e.ERIN_DATA_DIR),
    publicUrl: e.ERIN_PUBLIC_URL?.replace(/\/+$/, ''),
    trustFile: e.ERIN_TRUST ? path.resolve(e.ERIN_TRUST) : undefined,
    tokenAudience: e.ERIN_TOKEN_AUDIENCE,
    tokenMaxAgeMs: e.ERIN_TOKEN_MAX_AGE,
    encryptionKey: e.ERIN_ENCRYPTION_KEY ? Buffer.from(e.ERIN_ENCRYPTION_KEY, 'base64') : undefined,
    seedDemo: e.ERIN_SEED_DEMO,
    storeTimeoutMs: e.ERIN_STORE_TIMEOUT,
    store: {
      writeConcern: e.ERIN_STORE_WRITE_CONCERN === 'majority' ? 'majority' : Number(e.ERIN_STORE_WRITE_CONCERN),
      journal: e.ERIN_STORE_JOURNAL === 'true',
      writeTimeoutMs: e.ERIN_STORE_WRITE_TIMEOUT,
      readPreference: e.ERIN_STORE_READ_PREFERENCE,
      feedReadConcern: e.ERIN_STORE_FEED_READ_CONCERN,
      maxTimeMs: e.ERIN_STORE_MAX_TIME,
      indexBuildTimeoutMs: e.ERIN_STORE_INDEX_TIMEOUT,
      projectionGraceMs: e.ERIN_STORE_PROJECTION_GRACE,
    },
    maxQueryCost: e.ERIN_MAX_QUERY_COST,
    maxQueryTokens: e.ERIN_MAX_QUERY_TOKENS,
    metricsToken: e.ERIN_METRICS_TOKEN,
    maxQueryDepth: e.ERIN_MAX_QUERY_DEPTH,
    rateLimitPerMinute: e.ERIN_RATE_LIMIT,
    rateLimitPerOrganisationPerMinute: e.ERIN_RATE_LIMIT_ORGANISATION ?? ORGANISATION_FACTOR * e.ERIN_RATE_LIMIT,
    uploadLimitBytes: e.ERIN_UPLOAD_LIMIT,
    storeHandler: e.ERIN_STORE_HANDLER,
    storePostgresqlUrl: e.ERIN_STORE_POSTGRESQL_URL,
    redisUrl: e.REDIS_URL,
    logLevel: e.LOG_LEVEL,
    feedPollIntervalMs: e.ERIN_FEED_POLL_INTERVAL,
    feedBlockSize: e.ERIN_FEED_BLOCK_SIZE,
    wsMaxSubscriptions: e.ERIN_WS_MAX_SUBSCRIPTIONS,
    wsMaxConnections: e.ERIN_WS_MAX_CONNECTIONS,
    wsMaxConnectionsPerOrganisation: e.ERIN_WS_MAX_CONNECTIONS_ORGANISATION ?? ORGANISATION_FACTOR * e.ERIN_WS_MAX_CONNECTIONS,
    wsRecheckMs: e.ERIN_WS_RECHECK_INTERVAL,
    portalTimeoutMs: e.ERIN_PORTAL_TIMEOUT,
    portalIdleMs: e.ERIN_PORTAL_IDLE,
    webhooks: {
      intervalMs: e.ERIN_WEBHOOK_INTERVAL,
      timeoutMs: e.ERIN_WEBHOOK_TIMEOUT,
      retryBaseMs: e.ERIN_WEBHOOK_RETRY_BASE,
      retryMaxMs: e.ERIN_WEBHOOK_RETRY_MAX,
      maxAttempts: e.ERIN_WEBHOOK_MAX_ATTEMPTS,
      allowPrivateNetworks: e.ERIN_WEBHOOK_ALLOW_PRIVATE === 'true',
    },
    statsMinCell: e.ERIN_STATS_MIN_CELL,
    statsBudget: { limit: e.ERIN_STATS_BUDGET, periodMs: e.ERIN_STATS_BUDGET_PERIOD },
    extracts: { k: e.ERIN_EXTRACT_K, ttlMs: e.ERIN_EXTRACT_TTL },
    erasure: { retentionYears: e.ERIN_RETENTION_YEARS, caseKeyCacheMs: e.ERIN_CASE_KEY_CACHE },
  };
}

/** A gateway on a real store (MONGODB_URI) or in production: what it refuses to run without. */
export function guardsProduction(config: Pick<Config, 'env' | 'mongodbUri'>): boolean {
  return config.env === 'production' || config.mongodbUri !== undefined;
}

/**
 * Why this configuration may not serve, if it may not: a gateway against MONGODB_URI or in
 * production needs its own encryption key and trusted issuers, and never trusts the
 * development issuer (development mode) — those are for the embedded store on a laptop.
 */
export function servingProblems(
  config: Pick<Config, 'env' | 'mongodbUri' | 'encryptionKey' | 'devMode' | 'trustFile'>,
): string[] {
  if (!guardsProduction(config)) return [];
  const where = config.env === 'production' ? 'in production' : 'with MONGODB_URI';
  const problems: string[] = [];
  if (!config.encryptionKey) {
    problems.push(
      `ERIN_ENCRYPTION_KEY: required ${where} (32 bytes, base64-encoded); the development key is for the embedded store only`,
    );
  }
  if (config.devMode) {
    problems.push(
      `ERIN_DEV_MODE: development mode (the development issuer, anonymous introspection, loopback webhooks) is refused ${where}`,
    );
  }
  if (!config.trustFile && config.env !== 'production') {
    problems.push(`ERIN_TRUST: required ${where} (file of trusted token issuers)`);
  }
  return problems;
}

/** Throws a ConfigError listing every reason this configuration may not serve. */
export function assertServable(config: Parameters<typeof servingProblems>[0]): void {
  const problems = servingProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The store's database name from a URI path, or the configured default. */
export function databaseName(config: Pick<Config, 'mongodbUri' | 'dbName'>): string {
  return (config.mongodbUri && databaseOfUri(config.mongodbUri)) || config.dbName;
}
