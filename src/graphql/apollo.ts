// Apollo Server over the executable schema, and the /graphql route that builds each request's
// context (caller, logger, services, DataLoaders, the audit of special-category reads).
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import type { Request, RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Config } from '../config.ts';
import type { CallerOf } from '../http/authentication.ts';
import type { ConsumeRate } from '../http/rate-limit.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Services } from '../services.ts';
import { createContext, type Context } from './context.ts';
import { compiledGateway } from './executor.ts';
import {
  accessAuditPlugin,
  costLimitPlugin,
  type createErrorFormatter,
  depthLimitRule,
  httpStatusPlugin,
  observabilityPlugin,
} from './plugins.ts';
import { rootFieldRatePlugin } from './rate.ts';

export async function createApollo(deps: {
  schema: GraphQLSchema;
  /** The same schema without the per-field gate of cases (for the callers it never refuses). */
  ungatedSchema?: GraphQLSchema;
  config: Config;
  metrics: Metrics;
  logger: Logger;
  formatError: ReturnType<typeof createErrorFormatter>;
  /** Counts an operation's root fields beyond the first on the caller's rate limit (src/graphql/rate.ts). */
  consumeRate: ConsumeRate;
}): Promise<ApolloServer<Context>> {
  const { schema, ungatedSchema, config, metrics, logger, formatError, consumeRate } = deps;
  const apollo = new ApolloServer<Context>({
    // Compiled execution (graphql-jit) through Apollo's executor interface; see executor.ts.
    gateway: compiledGateway(schema, ungatedSchema, {
      onCompile: (variant) => metrics.graphqlCompiled.inc({ variant }),
    }),
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts drains HTTP first and stops Apollo after; Apollo must not stop itself on SIGTERM.
    stopOnTerminationSignals: false,
    formatError,
    // A document is refused by the parser at its token limit, before any validation runs.
    parseOptions: { maxTokens: config.maxQueryTokens },
    // graphql-js's own rules include MaxIntrospectionDepthRule (nested lists of __Type).
    validationRules: [depthLimitRule(config.maxQueryDepth)],
    plugins: [
      // No field sets cache hints: the plugin would only wrap every resolver for nothing.
      ApolloServerPluginCacheControlDisabled(),
      // No landing page: Apollo's (in development and in production) loads script from Apollo's
      // CDN, and /graphql shares its origin with the portal, whose tokens and service-worker
      // cache that script could reach. Systems and the portal POST; a browser gets a 400.
      ApolloServerPluginLandingPageDisabled(),
      costLimitPlugin(schema, config.maxQueryCost),
      // After the cost limit: a document refused for its cost counts once, as the request it is.
      rootFieldRatePlugin(consumeRate),
      observabilityPlugin(metrics),
      httpStatusPlugin(),
      accessAuditPlugin(logger),
    ],
  });
  await apollo.start();
  return apollo;
}

/** The Apollo middleware of /graphql (after the rate limit and the JSON body parser). */
export function graphqlHandler(apollo: ApolloServer<Context>, deps: { services: Services; callerOf: CallerOf }): RequestHandler {
  const { services, callerOf } = deps;
  return expressMiddleware(apollo, {
    context: async ({ req }) => {
      const requestLogger = (req as Request & { log: Logger }).log;
      const principal = await callerOf(req);
      const requestId = String((req as Request & { id: string | number }).id);
      return createContext({ principal, requestId, logger: requestLogger, services, source: `graphql:${requestId}` });
    },
  });
}
