// Execution only: the dashboard over an in-memory page, served three ways in the same process
// (shared by bench/run.ts and bench/profile.ts).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import Fastify from 'fastify';
import mercurius from 'mercurius';
import { createGateway, type Gateway } from '../src/app.ts';
import type { loadConfig } from '../src/config.ts';
import { createContext, type Context } from '../src/graphql/context.ts';
import { compiledGateway } from '../src/graphql/executor.ts';
import { loadResolvers } from '../src/graphql/resolvers.ts';
import { buildSchema } from '../src/graphql/schema.ts';
import type { createLogger } from '../src/logger.ts';
import type { CaseConnection } from '../src/modules/cases/case.list.ts';
import type { Store } from '../src/store/store.ts';
import { PARTNER } from './operations.ts';

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/**
 * Four servers answering the dashboard over the same in-memory page: a second gateway
 * whose services answer from memory (its own HTTP stack, token check, Apollo, execution
 * and loaders), a plain node:http server building the same JSON by hand, Mercurius with
 * graphql-jit over the gateway's schema and the same in-memory services, and Apollo alone
 * (express, the express integration and the gateway's compiled execution, without the
 * gateway's token check, rate limit, logs and metrics — what Mercurius is measured with).
 */
export async function inMemoryServers(
  main: Gateway,
  deps: {
    config: ReturnType<typeof loadConfig>;
    store: Store;
    logger: ReturnType<typeof createLogger>;
    dataDir: string;
    partner: string;
  },
) {
  const principal = (await main.principalFrom(`Bearer ${deps.partner}`, deps.logger))!;
  const page = await main.services.cases.list(principal, { first: 50, filter: { partner: PARTNER } });
  const organisations = new Map(
    (await main.services.organisations.getMany(['NL', 'BE', 'DE', 'FR', 'SE', 'IT', 'AT', PARTNER]))
      .filter((o) => o)
      .map((o) => [o!._id, o!]),
  );
  for (const edge of page.edges)
    for (const code of [edge.node.memberState, edge.node.partner])
      if (code && !organisations.has(code)) organisations.set(code, (await main.services.organisations.getMany([code]))[0]!);
  const programmes = new Map(
    (await main.services.organisations.getProgrammes([...new Set(page.edges.map((e) => e.node.programme))])).map((p) => [
      p!._id,
      p!,
    ]),
  );
  const planIds = page.edges.filter((e) => e.node.latestPlan).map((e) => `${e.node._id}:${e.node.latestPlan}`);
  const plans = new Map((await main.services.plans.byIds(principal, planIds)).filter((p) => p).map((p) => [p!._id, p!]));

  const gateway = await createGateway({ config: deps.config, store: deps.store, logger: deps.logger });
  const inMemory = (services: Gateway['services']) => {
    services.cases.list = async (): Promise<CaseConnection> => page;
    services.organisations.getMany = async (codes) => codes.map((c) => organisations.get(c) ?? null);
    services.organisations.lookup = async (code) => organisations.get(code) ?? null;
    services.organisations.getProgrammes = async (codes) => codes.map((c) => programmes.get(c) ?? null);
    services.plans.byIds = async (_p, ids) => ids.map((id) => plans.get(id) ?? null);
    // The plan of a listed case is read through atCaseVersions (the gateway's memory of case
    // versions, then the store): answered from memory too, or every request scans the plans.
    services.plans.atCaseVersions = async (_p, keys) => keys.map((k) => plans.get(k.ref) ?? null);
    // What the gateway's memories answer at once once warm (the directory, case versions).
    services.organisations.rememberedOrganisation = (code) => organisations.get(code);
    services.organisations.rememberedProgramme = (code) => programmes.get(code);
    services.plans.rememberedAt = (_p, key) => plans.get(key.ref);
  };
  inMemory(gateway.services);
  const gatewayServer = createServer(gateway.app);

  const dashboardAnswer = () => ({
    data: {
      cases: {
        edges: page.edges.map(({ node: c }) => {
          const plan = c.latestPlan ? plans.get(`${c._id}:${c.latestPlan}`) : undefined;
          return {
            node: {
              reference: c.reference,
              status: c.status,
              version: c.version,
              memberState: { name: organisations.get(c.memberState)?.name },
              partner: c.partner ? { name: organisations.get(c.partner)?.name } : null,
              programme: { name: programmes.get(c.programme)?.name },
              plan: plan
                ? {
                    planVersion: plan.planVersion,
                    status: plan.status,
                    totalEur: plan.totalEur === null ? null : { amount: plan.totalEur },
                  }
                : null,
            },
          };
        }),
      },
    },
  });
  const floorServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const json = JSON.stringify(dashboardAnswer());
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
  });
  // The same answer through express's body parser and res.json: what the chosen HTTP stack costs
  // before any GraphQL server runs.
  const expressFloorApp = express();
  expressFloorApp.set('etag', false);
  expressFloorApp.post('/graphql', express.json({ limit: '1mb' }), (_req, res) => {
    res.json(dashboardAnswer());
  });
  const expressFloorServer = createServer(expressFloorApp);

  const resolvers = await loadResolvers();
  const schema = buildSchema(resolvers);
  const context = () =>
    createContext({ principal, requestId: 'bench', logger: deps.logger, services: gateway.services, source: 'bench' });
  const apollo = new ApolloServer<Context>({
    gateway: compiledGateway(schema, buildSchema(resolvers, { caseFieldGate: false })),
    plugins: [ApolloServerPluginCacheControlDisabled()],
  });
  await apollo.start();
  const apolloApp = express();
  apolloApp.set('etag', false);
  apolloApp.use('/graphql', express.json({ limit: '1mb' }), expressMiddleware(apollo, { context: async () => context() }));
  const apolloServer = createServer(apolloApp);

  const fastify = Fastify();
  await fastify.register(mercurius, {
    schema,
    jit: 1,
    context,
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const address = fastify.server.address() as AddressInfo;

  return {
    /** The in-memory gateway's services and the partner's principal (for experiments). */
    services: gateway.services,
    principal,
    gateway: `${await listen(gatewayServer)}/graphql`,
    floor: `${await listen(floorServer)}/graphql`,
    expressFloor: `${await listen(expressFloorServer)}/graphql`,
    mercurius: `http://127.0.0.1:${address.port}/graphql`,
    apollo: `${await listen(apolloServer)}/graphql`,
    async close() {
      apolloServer.closeAllConnections();
      apolloServer.close();
      await apollo.stop();
      gatewayServer.closeAllConnections();
      gatewayServer.close();
      floorServer.closeAllConnections();
      floorServer.close();
      expressFloorServer.closeAllConnections();
      expressFloorServer.close();
      await fastify.close();
      await gateway.close();
    },
  };
}
