// config → store → gateway → listen; SIGTERM drains in-flight requests, then closes the store.
import { createServer } from 'node:http';
import { assertServable, ConfigError, flagsOf, loadConfig } from './config.ts';

const DRAIN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(undefined, flagsOf(process.argv.slice(2)));
    assertServable(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // The rest is loaded once the configuration may serve: a refusal answers at once.
  const [{ createGateway }, { createLogger }, { seedDemo }, { openStore }, { backgroundJobs, prepareStore }] = await Promise.all([
    import('./app.ts'),
    import('./logger.ts'),
    import('./seed/demo.ts'),
    import('./store/open.ts'),
    import('./services.ts'),
  ]);
  const logger = createLogger(config.logLevel);
  const opened = await openStore(config, logger);
  const gateway = await createGateway({ config, store: opened.store, logger });
  await opened.store.ensureIndexes();
  await prepareStore(gateway.services, logger);

  const empty =
    (await gateway.services.organisations.lookup('ERIN-NET')) === null && (await gateway.services.log.lastSeq()) === 0;
  if (config.seedDemo === 'always' || (config.seedDemo === 'auto' && opened.embedded && empty)) {
    const report = await seedDemo(gateway.services);
    logger.info({ report }, 'demo data seeded');
  }

  gateway.services.jobs.start(backgroundJobs(gateway.services));

  const server = createServer(gateway.app);
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (config.devMode) {
    const idp = gateway.startDevIdentityProvider(config.publicUrl ?? `http://localhost:${port}`);
    logger.info({ issuer: idp.issuer }, `development sign-in at ${idp.issuer} (demo users listed on its login page)`);
  }
  logger.info(
    { port, store: opened.embedded ? 'embedded' : 'external' },
    `ERIN Exchange listening on http://localhost:${port}/graphql`,
  );
  // Lists are chosen from the list index, which reads every case's entry once (a second or two
  // at 10,000 cases on the embedded store): read them now, not at the first partner's page.
  const warming = Date.now();
  gateway.services.caseStore.listIndex.warm().then(
    (entries) => logger.info({ entries, ms: Date.now() - warming }, 'list index loaded'),
    (error: unknown) => logger.warn({ err: error }, 'the list index could not be loaded yet; the first list loads it'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    const timer = setTimeout(() => {
      logger.warn('drain timed out; closing connections');
      server.closeAllConnections();
    }, DRAIN_TIMEOUT_MS);
    timer.unref();
    server.closeIdleConnections();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await gateway.closeSubscriptions();
    await closed;
    await gateway.services.jobs.stop();
    await gateway.close();
    await opened.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGHUP', () => {
    gateway.trust.reload();
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`ERIN Exchange failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
