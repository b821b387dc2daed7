// GraphQL subscriptions over WebSocket (the graphql-ws protocol) on /graphql. The token
// travels in `connection_init` ({ authorization: 'Bearer …' }) and is verified by the same
// function as HTTP; the connection closes when the token expires, and when a periodic check
// of every open connection (the same verification again) refuses it: the organisation was
// deactivated, the issuer is no longer trusted. Only subscriptions are
// served here (queries and mutations go over HTTP, with its rate limits), each one checked
// for depth and cost, and a connection holds a limited number of them. Each subscription
// started counts as a request on its caller's rate limit, which HTTP shares: starting and
// stopping subscriptions in a loop (each start reads the store) is no way around it.
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  getOperationAST,
  GraphQLError,
  OperationTypeNode,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode, type Context as ConnectionContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import jwt from 'jsonwebtoken';
import { WebSocketServer } from 'ws';
import { bearerToken } from '../auth/verify.ts';
import { mayActNow, type Principal } from '../auth/principal.ts';
import { AppError, storeUnavailable } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { createContext, type Context } from './context.ts';
import { assertCostWithin, depthLimitRule, operationCost } from './plugins.ts';
import type { ConsumeRate } from '../http/rate-limit.ts';
import { consumeOrRefuse } from './rate.ts';

export type SubscriptionTransportOptions = {
  schema: GraphQLSchema;
  services: Services;
  logger: Logger;
  maxSubscriptions: number;
  /** Open connections one user (organisation and subject) may hold; more are refused. */
  maxConnectionsPerUser: number;
  /** Open connections all users of one organisation may hold (it names its own subjects); more are refused. */
  maxConnectionsPerOrganisation: number;
  /** How often every open connection's token and organisation are checked again. */
  recheckIntervalMs: number;
  maxDepth: number;
  maxCost: number;
  maxTokens: number;
  principalFrom: (authorization: string | undefined, logger: Logger) => Promise<Principal | null>;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Counts each subscription started on its caller's rate limit (src/graphql/rate.ts). */
  consumeRate: ConsumeRate;
  /** Milliseconds since the epoch (the gateway's clock). */
  now: () => number;
};

type Socket = { close(code: number, reason: string): void };
type Connection = {
  id: string;
  principal: Principal | null;
  expiry: NodeJS.Timeout | undefined;
  user: string | undefined;
  organisation: string | undefined;
  authorization: string | undefined;
  socket: Socket;
};

const clientError = (message: string, code = 'BAD_USER_INPUT') => new GraphQLError(message, { extensions: { code } });

export function attachSubscriptions(server: Server, options: SubscriptionTransportOptions): { close(): Promise<void> } {
  const { schema, services, logger, formatError } = options;
  const wss = new WebSocketServer({ server, path: '/graphql', maxPayload: 256 * 1024 });
  const connections = new WeakMap<object, Connection>();
  // Open connections per user: one token must not hold the gateway's sockets hostage.
  const perUser = new Map<string, number>();
  const perOrganisation = new Map<string, number>();
  const release = (counts: Map<string, number>, key: string | undefined) => {
    if (key === undefined) return;
    const open = (counts.get(key) ?? 1) - 1;
    if (open > 0) counts.set(key, open);
    else counts.delete(key);
  };
  // Every open connection with a caller, for the periodic check.
  const live = new Set<Connection>();

  const format = (result: ExecutionResult) => ({
    ...result,
    ...(result.errors ? { errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : {}),
  });

  const disposable = useServer(
    {
      connectionInitWaitTimeout: 10_000,
      onConnect: async (ctx: ConnectionContext) => {
        const raw = ctx.connectionParams?.authorization;
        const authorization = typeof raw === 'string' ? raw : undefined;
        const id = randomUUID();
        let principal: Principal | null;
        try {
          principal = await options.principalFrom(authorization, logger.child({ ws: id }));
        } catch (error) {
          if (error instanceof AppError && error.code === 'UNAUTHENTICATED') return false;
          throw new Error(error instanceof AppError ? error.message : 'The gateway cannot take connections now; retry shortly.');
        }
        const token = bearerToken(authorization);
        const exp = token ? (jwt.decode(token) as { exp?: unknown } | null)?.exp : undefined;
        // Within the clock tolerance a token past its expiry still verifies; a session would end at once.
        if (typeof exp === 'number' && exp * 1000 <= options.now()) return false;
        const user = principal ? `${principal.organisation.code}:${principal.subject}` : undefined;
        const organisation = principal?.organisation.code;
        if (user && organisation) {
          const open = perUser.get(user) ?? 0;
          const ofOrganisation = perOrganisation.get(organisation) ?? 0;
          if (open >= options.maxConnectionsPerUser || ofOrganisation >= options.maxConnectionsPerOrganisation) {
            logger.warn(
              { ws: id, organisation, open, ofOrganisation },
              `websocket refused: too many connections for one ${open >= options.maxConnectionsPerUser ? 'user' : 'organisation'}`,
            );
            return false;
          }
          perUser.set(user, open + 1);
          perOrganisation.set(organisation, ofOrganisation + 1);
        }
        let expiry: NodeJS.Timeout | undefined;
        const socket = (ctx.extra as { socket: Socket }).socket;
        if (typeof exp === 'number') {
          expiry = setTimeout(
            () => socket.close(CloseCode.Unauthorized, 'Token expired'),
            Math.max(0, exp * 1000 - options.now()),
          );
          expiry.unref();
        }
        const connection: Connection = { id, principal, expiry, user, organisation, authorization, socket };
        connections.set(ctx, connection);
        if (principal) live.add(connection);
        return true;
      },
      onSubscribe: async (ctx, id, payload) => {
        const connection = connections.get(ctx);
        if (!connection) return [clientError('Not connected.', 'UNAUTHENTICATED')];
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: options.maxTokens });
        } catch (error) {
          return [clientError(error instanceof Error ? error.message : 'The query does not parse.')];
        }
        const invalid = validate(schema, document, [...specifiedRules, depthLimitRule(options.maxDepth)]);
        if (invalid.length > 0) return invalid.map((e) => clientError(e.message));
        if (getOperationAST(document, payload.operationName)?.operation !== OperationTypeNode.SUBSCRIPTION) {
          return [clientError('Only subscriptions are served over WebSocket; send queries and mutations over HTTP.')];
        }
        // The subscription being started counts too.
        if (Object.keys(ctx.subscriptions).length > options.maxSubscriptions) {
          return [
            clientError(`At most ${options.maxSubscriptions} subscriptions per connection; complete one first.`, 'RATE_LIMITED'),
          ];
        }
        const variables = payload.variables ?? {};
        try {
          assertCostWithin(operationCost(schema, document, payload.operationName, variables), options.maxCost);
        } catch (error) {
          return [error as GraphQLError];
        }
        const { principal } = connection;
        if (principal) {
          try {
            await consumeOrRefuse(options.consumeRate, principal, 1);
          } catch (error) {
            return [error as GraphQLError];
          }
        }
        const contextValue = createContext({
          principal,
          requestId: `ws:${connection.id}:${id}`,
          logger: logger.child({ ws: connection.id, operation: id }),
          services,
          source: `subscription:${connection.id}:${id}`,
        });
        return { schema, document, variableValues: variables, operationName: payload.operationName, contextValue };
      },
      onNext: async (_ctx, _id, _payload, args, result) => {
        // Special-category reads are recorded before the event is sent, or it is not sent.
        try {
          await (args.contextValue as Context).access.flush();
        } catch (error) {
          logger.error({ err: error }, 'special-category reads could not be recorded; the event is withheld');
          const refusal = storeUnavailable();
          return { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] };
        }
        return format(result);
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
      onClose: (ctx) => {
        const connection = connections.get(ctx);
        if (connection) live.delete(connection);
        if (connection?.expiry) clearTimeout(connection.expiry);
        release(perUser, connection?.user);
        release(perOrganisation, connection?.organisation);
        connections.delete(ctx);
      },
    },
    wss,
  );

  // Sessions end when access ends: each connection's token is verified again, as for a new
  // connection (organisation active, issuer trusted, roles allowed). One check per token.
  let checking = false;
  const recheck = async () => {
    if (checking || live.size === 0) return;
    checking = true;
    try {
      const verdicts = new Map<string, Promise<boolean | undefined>>();
      const verdictOf = (authorization: string) => {
        let verdict = verdicts.get(authorization);
        if (!verdict) {
          verdict = options.principalFrom(authorization, logger).then(
            () => true,
            // Refused: access ended. Anything else (the store is away): decide next time.
            (error: unknown) => (error instanceof AppError && error.code === 'UNAUTHENTICATED' ? false : undefined),
          );
          verdicts.set(authorization, verdict);
        }
        return verdict;
      };
      for (const connection of [...live]) {
        if (connection.authorization === undefined || (await verdictOf(connection.authorization)) !== false) continue;
        live.delete(connection);
        const organisation = connection.principal!.organisation.code;
        const now = await services.organisations.lookup(organisation).catch(() => undefined);
        const lookup = (code: string) => services.organisations.lookup(code);
        const deactivated = now && !(await mayActNow(now, lookup).catch(() => true));
        const reason = deactivated ? 'Organisation deactivated' : 'Access token no longer accepted';
        logger.info({ ws: connection.id, organisation, reason }, 'websocket closed: access ended');
        connection.socket.close(CloseCode.Forbidden, reason);
      }
    } finally {
      checking = false;
    }
  };
  const rechecks = setInterval(() => void recheck(), options.recheckIntervalMs);
  rechecks.unref();

  return {
    /** Closes every connection (1001, going away) and stops accepting new ones. */
    async close() {
      clearInterval(rechecks);
      await disposable.dispose();
    },
  };
}
