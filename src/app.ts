// The gateway as an express app, without listening: main.ts listens, tests build it
// in-process. Wires HTTP endpoints, Apollo Server, authentication and the services.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import compression from 'compression';
import express, { type NextFunction, type Request, type Response } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import depthLimit from 'graphql-depth-limit';
import { pinoHttp } from 'pino-http';
import { authenticate, bearerToken } from './auth/verify.ts';
import { TrustStore } from './auth/trust.ts';
import type { Principal } from './auth/principal.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { AppError, rateLimited, storeUnavailable, unauthenticated } from './errors.ts';
import type { Context } from './graphql/context.ts';
import { createLoaders } from './graphql/loaders.ts';
import {
  accessAuditPlugin,
  costLimitPlugin,
  createErrorFormatter,
  httpStatusPlugin,
  observabilityPlugin,
} from './graphql/plugins.ts';
import { buildSchema } from './graphql/schema.ts';
import { scalarResolvers } from './graphql/scalars.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { identityResolvers } from './modules/identity.resolvers.ts';
import { organisationResolvers } from './modules/organisations/organisation.resolvers.ts';
import { createServices, settingsFrom } from './services.ts';
import { createSealer, resolveEncryptionKey } from './crypto/sealed.ts';
import { caseResolvers } from './modules/cases/case.resolvers.ts';
import { rateResolvers } from './modules/rates/rate.resolvers.ts';
import { AccessRecorder } from './modules/audit/access.ts';
import { auditResolvers } from './modules/audit/audit.resolvers.ts';
import { feedResolvers } from './modules/feed/feed.resolvers.ts';
import { statisticsResolvers } from './modules/statistics/statistics.resolvers.ts';
import { webhookResolvers } from './modules/webhooks/webhook.resolvers.ts';
import { attachSubscriptions } from './graphql/ws.ts';
import { deadlineResolvers } from './modules/deadlines/deadline.resolvers.ts';
import { evidenceResolvers } from './modules/evidence/evidence.resolvers.ts';
import { evidenceRouter } from './modules/evidence/evidence.routes.ts';
import { finalReportResolvers } from './modules/final-report/final-report.resolvers.ts';
import { monitoringResolvers } from './modules/monitoring/monitoring.resolvers.ts';
import { progressResolvers } from './modules/progress/progress.resolvers.ts';
import { shipmentResolvers } from './modules/shipments/shipment.resolvers.ts';
import { isStoreUnavailable, type Store } from './store/store.ts';

const KNOWN_ROUTES = new Set(['/graphql', '/healthz', '/readyz', '/metrics', '/portal', '/evidence']);

export const PORTAL_DIR = fileURLToPath(new URL('../portal/', import.meta.url));

export type GatewayOptions = {
  config: Config;
  store: Store;
  logger: Logger;
  clock?: Clock;
  /** Poll interval for trust-file changes (tests shorten it). */
  trustWatchIntervalMs?: number;
};

export async function createGateway(options: GatewayOptions) {
  const { config, store, logger } = options;
  const clock = options.clock ?? systemClock;
  const metrics = createMetrics();
  const sealer = createSealer([resolveEncryptionKey(config.encryptionKey, config.dataDir)]);
  const services = createServices({
    store,
    clock,
    logger,
    sealer,
    settings: settingsFrom(config),
    uploadLimitBytes: config.uploadLimitBytes,
  });
  store.onCommand = (name) => metrics.storeCommands.inc({ command: name });

  const trust = new TrustStore({
    file: config.trustFile,
    includeDevIssuer: config.env !== 'production',
    dataDir: config.dataDir,
    logger,
    ...(options.trustWatchIntervalMs ? { watchIntervalMs: options.trustWatchIntervalMs } : {}),
  });
  const trustLoaded = trust.reload();
  if (config.trustFile && !trustLoaded) throw new Error(`the trust file ${config.trustFile} could not be loaded (see the log)`);

  const schema = buildSchema([
    scalarResolvers,
    identityResolvers,
    organisationResolvers,
    rateResolvers,
    caseResolvers,
    feedResolvers,
    auditResolvers,
    webhookResolvers,
    statisticsResolvers,
    evidenceResolvers,
    progressResolvers,
    shipmentResolvers,
    monitoringResolvers,
    deadlineResolvers,
    finalReportResolvers,
  ]);
  const formatError = createErrorFormatter(logger);

  /** Establishes the caller from an Authorization header value; shared with the WebSocket transport. */
  async function principalFrom(authorization: string | undefined, requestLogger: Logger): Promise<Principal | null> {
    const token = bearerToken(authorization);
    if (token === undefined) {
      if (config.env === 'production') throw unauthenticated();
      return null;
    }
    try {
      return await authenticate(
        token,
        trust.current,
        { audience: config.tokenAudience, maxTokenAgeMs: config.tokenMaxAgeMs, now: Math.floor(clock.now().getTime() / 1000) },
        (code) => services.organisations.lookup(code),
        requestLogger,
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (isStoreUnavailable(error)) throw storeUnavailable();
      throw error;
    }
  }

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts drains HTTP first and stops Apollo after; Apollo must not stop itself on SIGTERM.
    stopOnTerminationSignals: false,
    formatError,
    validationRules: [depthLimit(config.maxQueryDepth)],
    plugins: [
      costLimitPlugin(schema, config.maxQueryCost),
      observabilityPlugin(metrics),
      httpStatusPlugin(),
      accessAuditPlugin(logger),
    ],
  });
  await apollo.start();

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      // Health probes and metrics scrapes would drown the log.
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
      serializers: {
        // The path only: a GET query string can carry variables, which can carry personal data.
        req: (req: { id: string; method: string; url: string }) => ({
          id: req.id,
          method: req.method,
          path: req.url.split('?')[0],
        }),
      },
    }),
  );

  app.use((req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const first = `/${(req.originalUrl.split('?')[0] ?? '').split('/')[1] ?? ''}`;
      const route = KNOWN_ROUTES.has(first) ? first : 'other';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  });

  // Partners often work on slow links: compress what compresses (JSON, the portal), never
  // the evidence files (already compressed images and PDFs, streamed as they are decrypted).
  app.use(compression({ filter: (req, res) => !req.path.startsWith('/evidence') && compression.filter(req, res) }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const ready = await store.ready();
    metrics.storeUp.set(store.up ? 1 : 0);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', store: store.up ? 'up' : 'down' });
  });

  app.get('/metrics', async (_req, res) => {
    metrics.storeUp.set(store.up ? 1 : 0);
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  // Per instance by default; shared by every gateway through Redis when REDIS_URL is set.
  const redis = config.redisUrl
    ? await createClient({ url: config.redisUrl })
        .on('error', (error: unknown) => logger.warn({ err: error }, 'redis error'))
        .connect()
    : undefined;
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: config.rateLimitPerMinute,
    ...(redis
      ? {
          store: new RedisStore({
            sendCommand: (...args: string[]) => redis.sendCommand(args),
            prefix: `erin:rl:${store.dbName}:`,
          }),
          // A Redis outage must not take the API down with it: limit per instance meanwhile.
          passOnStoreError: true,
        }
      : {}),
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Per token when there is one (hashed: tokens never sit in memory as keys), else per address.
    keyGenerator: (req) => {
      const auth = req.headers.authorization;
      return auth ? `t:${createHash('sha256').update(auth).digest('hex').slice(0, 32)}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    handler: (_req, res, _next, opts) => {
      res.status(429).json({ errors: [rateLimited(Math.ceil(opts.windowMs / 1000)).toJSON()] });
    },
  });

  app.use(
    '/graphql',
    limiter,
    express.json({ limit: '1mb' }),
    expressMiddleware(apollo, {
      context: async ({ req }) => {
        const requestLogger = (req as Request & { log: Logger }).log;
        const principal = await principalFrom(req.headers.authorization, requestLogger);
        const requestId = String((req as Request & { id: string | number }).id);
        return {
          principal,
          requestId,
          logger: requestLogger,
          services,
          loaders: createLoaders(services, principal),
          access: new AccessRecorder(services.executor, principal, `graphql:${requestId}`),
        };
      },
    }),
  );

  // Evidence files: a raw-body upload endpoint (not GraphQL multipart), see schema/evidence.graphql.
  app.use('/evidence', evidenceRouter({ evidence: services.evidence, principalFrom, limiter }));

  if (existsSync(PORTAL_DIR)) {
    app.use('/portal', express.static(PORTAL_DIR, { index: 'index.html', maxAge: '1h' }));
  }

  // Body-parser and other request errors: a GraphQL-shaped answer, never a stack.
  app.use((error: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    const status = error.status ?? 500;
    if (status >= 500) (req as Request & { log?: Logger }).log?.error({ err: error }, 'request failed');
    const message =
      error.type === 'entity.too.large'
        ? 'The request body is too large.'
        : error.type === 'entity.parse.failed'
          ? 'The request body is not valid JSON.'
          : status >= 500
            ? 'Internal server error; it has been logged.'
            : error.message;
    res
      .status(status)
      .json({ errors: [{ message, extensions: { code: status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_USER_INPUT' } }] });
  });

  // Keep readiness and the store gauge current, and finish interrupted writes after an outage.
  let wasUp = true;
  const pinger = setInterval(() => {
    void store.ping().then(async (up) => {
      metrics.storeUp.set(up ? 1 : 0);
      if (up && !wasUp) await services.log.reconcileRecent().catch(() => undefined);
      wasUp = up;
    });
  }, 2000);
  pinger.unref();

  let subscriptions: { close(): Promise<void> } | undefined;

  return {
    app,
    apollo,
    services,
    metrics,
    trust,
    principalFrom,
    /** Attach the transports that need the HTTP server (WebSocket subscriptions on /graphql). */
    attach(server: Server): void {
      subscriptions ??= attachSubscriptions(server, {
        schema,
        services,
        logger,
        maxSubscriptions: config.wsMaxSubscriptions,
        maxConnectionsPerUser: config.wsMaxConnections,
        maxDepth: config.maxQueryDepth,
        maxCost: config.maxQueryCost,
        principalFrom,
        formatError,
        now: () => clock.now().getTime(),
      });
    },
    /**
     * Closes every WebSocket (1001, going away; clients resume from their cursor elsewhere).
     * Before `server.close()`: it waits for upgraded sockets, which nothing else closes.
     */
    async closeSubscriptions(): Promise<void> {
      await subscriptions?.close();
      subscriptions = undefined;
    },
    async close(): Promise<void> {
      clearInterval(pinger);
      trust.close();
      await subscriptions?.close();
      subscriptions = undefined;
      services.hub.stop();
      await services.jobs.stop();
      await apollo.stop();
      await redis?.quit().catch(() => undefined);
    },
  };
}

export type Gateway = Awaited<ReturnType<typeof createGateway>>;
