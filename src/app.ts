// The gateway as an express app, without listening: main.ts listens, tests build it
// in-process. This file is the table of contents; each piece lives in its own file.
import type { Server } from 'node:http';
import compression from 'compression';
import express from 'express';
import { systemClock, type Clock } from './clock.ts';
import { assertServable, type Config } from './config.ts';
import { createSealer, resolveEncryptionKey } from './crypto/sealed.ts';
import { createApollo, graphqlHandler } from './graphql/apollo.ts';
import { createErrorFormatter } from './graphql/plugins.ts';
import { loadResolvers } from './graphql/resolvers.ts';
import { buildSchema } from './graphql/schema.ts';
import { attachSubscriptions } from './graphql/ws.ts';
import { callerOfRequest, createAuthenticator, createTrust } from './http/authentication.ts';
import { httpErrorHandler } from './http/errors.ts';
import { healthRoutes } from './http/health.ts';
import { requestLogging, requestMetrics } from './http/observability.ts';
import { portalRoute } from './http/portal.ts';
import { createDevIdentityProvider, type DevIdentityProvider } from './idp/dev-provider.ts';
import { createRateLimiter } from './http/rate-limit.ts';
import type { Logger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { evidenceRouter } from './modules/evidence/evidence.routes.ts';
import { extractRouter } from './modules/extracts/extract.routes.ts';
import { createServices, settingsFrom } from './services.ts';
import { startStorePinger } from './store/pinger.ts';
import type { Store } from './store/store.ts';

/**
 * GraphQL answers carry personal data: no cache (a browser's, a proxy's) keeps them, and no
 * browser reads them as anything but what they say they are.
 */
const noStore: express.RequestHandler = (_req, res, next) => {
  res.setHeader('cache-control', 'no-store');
  res.setHeader('x-content-type-options', 'nosniff');
  next();
};

/**
 * Behind an https public address, browsers are told to use nothing but https for the gateway's
 * host and its subdomains for two years (a downgraded first request is the only one left open).
 * Never on plain http: a development gateway on localhost would pin the browser to https there.
 */
const HSTS = 'max-age=63072000; includeSubDomains';
const strictTransportSecurity: express.RequestHandler = (_req, res, next) => {
  res.setHeader('strict-transport-security', HSTS);
  next();
};

/** The sign-in pages are never shown inside another site's frame (a password typed into a framed page). */
const notFramed: express.RequestHandler = (_req, res, next) => {
  res.setHeader('content-security-policy', "frame-ancestors 'none'");
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('x-content-type-options', 'nosniff');
  next();
};

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
  assertServable(config);
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

  // Authentication and rate limiting.
  const trust = createTrust(config, logger, options.trustWatchIntervalMs);
  const principalFrom = createAuthenticator({ config, trust, clock, services });
  const callerOf = callerOfRequest(principalFrom);
  const rateLimit = await createRateLimiter({ config, store, logger, callerOf });

  // GraphQL.
  const resolvers = await loadResolvers();
  const schema = buildSchema(resolvers);
  const formatError = createErrorFormatter(logger);
  const apollo = await createApollo({
    schema,
    ungatedSchema: buildSchema(resolvers, { caseFieldGate: false }),
    config,
    metrics,
    logger,
    formatError,
    consumeRate: rateLimit.consume,
  });

  // HTTP routes.
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  // No weak ETag hashed from every response body: GraphQL answers are POSTed (never revalidated),
  // and the portal and evidence routes set their own validators.
  app.set('etag', false);
  if (config.publicUrl?.startsWith('https:')) app.use(strictTransportSecurity);
  app.use(requestLogging(logger));
  app.use(requestMetrics(metrics));
  // Partners often work on slow links: compress what compresses (JSON, the portal), never
  // the evidence files (already compressed images and PDFs, streamed as they are decrypted).
  // A client that accepts no encoding (most member-state systems) skips the middleware outright.
  const compress = compression({ filter: (req, res) => !req.path.startsWith('/evidence') && compression.filter(req, res) });
  app.use((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()));
  // In production /metrics needs its token: its counts (erasures, consent withdrawals) are the network's.
  const metricsOff = config.env === 'production' && !config.metricsToken;
  if (metricsOff) logger.warn('ERIN_METRICS_TOKEN is not set: /metrics is off in production (it answers 404) until it is');
  app.use(healthRoutes({ store, metrics, metricsToken: config.metricsToken, metricsOff }));
  app.use('/graphql', noStore, rateLimit.limiter, express.json({ limit: '1mb' }), graphqlHandler(apollo, { services, callerOf }));
  // Evidence files: a raw-body upload endpoint (not GraphQL multipart), see schema/evidence.graphql.
  app.use('/evidence', evidenceRouter({ evidence: services.evidence, callerOf, limiter: rateLimit.limiter }));
  // Evaluation extracts: the CSV of a built extract (schema/extracts.graphql).
  app.use('/extracts', extractRouter({ extracts: services.extracts, callerOf, limiter: rateLimit.limiter }));
  const portal = await portalRoute({
    trust,
    allowTokenPaste: config.devMode,
    timeoutMs: config.portalTimeoutMs,
    idleMs: config.portalIdleMs,
  });
  if (portal) app.use('/portal', portal);
  // The development identity provider, once the gateway knows where it is reached (development mode only).
  let devIdp: DevIdentityProvider | undefined;
  app.use('/idp', notFramed, (req, res, next) => (devIdp ? devIdp.router(req, res, next) : next()));
  app.use(httpErrorHandler());

  const pinger = startStorePinger({ store, metrics, onReconnect: () => services.log.reconcileRecent() });

  let subscriptions: { close(): Promise<void> } | undefined;

  return {
    app,
    apollo,
    services,
    metrics,
    trust,
    principalFrom,
    /**
     * Starts the development identity provider at `<publicUrl>/idp` with the demo users, and
     * trusts its tokens. Development mode only: elsewhere people sign in at their organisation's provider.
     */
    startDevIdentityProvider(publicUrl: string, options: { accessTokenTtl?: number } = {}): DevIdentityProvider {
      if (!config.devMode) {
        throw new Error('the development identity provider never runs in production, only in development mode');
      }
      devIdp = createDevIdentityProvider({
        publicUrl,
        dataDir: config.dataDir,
        audience: config.tokenAudience,
        logger,
        ...options,
      });
      trust.addLocalIssuer(devIdp.trusted);
      return devIdp;
    },
    /** Attach the transports that need the HTTP server (WebSocket subscriptions on /graphql). */
    attach(server: Server): void {
      subscriptions ??= attachSubscriptions(server, {
        schema,
        services,
        logger,
        maxSubscriptions: config.wsMaxSubscriptions,
        maxConnectionsPerUser: config.wsMaxConnections,
        maxConnectionsPerOrganisation: config.wsMaxConnectionsPerOrganisation,
        recheckIntervalMs: config.wsRecheckMs,
        maxDepth: config.maxQueryDepth,
        maxCost: config.maxQueryCost,
        maxTokens: config.maxQueryTokens,
        principalFrom,
        formatError,
        consumeRate: rateLimit.consume,
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
      pinger.stop();
      trust.close();
      await subscriptions?.close();
      subscriptions = undefined;
      services.hub.stop();
      await services.jobs.stop();
      await apollo.stop();
      await rateLimit.close();
    },
  };
}

export type Gateway = Awaited<ReturnType<typeof createGateway>>;
