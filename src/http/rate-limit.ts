// Requests per minute per caller on /graphql and /evidence: per verified principal (organisation
// and subject), whatever token or spelling of the header it came with; per address for requests
// without a valid token, whatever junk they carry. And per organisation, all its callers together:
// an organisation names the subjects of its own issuer's tokens, one per request if it likes. Per instance by default; shared by every
// gateway through Redis when REDIS_URL is set. What one request can carry more of is counted
// on the same limit (`consume`): each root field of a GraphQL operation beyond the first (each
// resolves on its own: a write, a read of the store), each subscription started over WebSocket
// (src/graphql/rate.ts).
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, MemoryStore, rateLimit, type Store as CounterStore } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Config } from '../config.ts';
import { rateLimited } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Principal } from '../auth/principal.ts';
import type { Store } from '../store/store.ts';
import type { CallerOf } from './authentication.ts';

/**
 * Counts `hits` more on a verified caller's limit; answers whether they fit within it, and if
 * not, when to retry. Hits that do not fit stay counted, as a refused request's does.
 */
export type ConsumeRate = (
  principal: Principal,
  hits: number,
) => Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }>;

const WINDOW_MS = 60_000;

/** The counter's key of a verified caller: hashed, so no subject sits in memory or in Redis as a key. */
function callerKey(principal: Principal): string {
  const who = `${principal.organisation.code}\u0000${principal.subject}`;
  return `p:${createHash('sha256').update(who).digest('hex').slice(0, 32)}`;
}

/** The counter's key of all of an organisation's callers. */
const organisationKey = (principal: Principal): string => `o:${principal.organisation.code}`;

export type RateLimiter = {
  limiter: RequestHandler;
  consume: ConsumeRate;
  /** Disconnects from Redis, if the limit is shared through it. */
  close(): Promise<void>;
};

export async function createRateLimiter(deps: {
  config: Config;
  store: Store;
  logger: Logger;
  callerOf: CallerOf;
}): Promise<RateLimiter> {
  const { config, store, logger, callerOf } = deps;
  const redis = config.redisUrl
    ? await createClient({ url: config.redisUrl })
        .on('error', (error: unknown) => logger.warn({ err: error }, 'redis error'))
        .connect()
    : undefined;
  // Each limit's own counter, so that `consume` counts on the same ones.
  const counterOf = (name: string): CounterStore =>
    redis
      ? new RedisStore({ sendCommand: (...args: string[]) => redis.sendCommand(args), prefix: `erin:${name}:${store.dbName}:` })
      : new MemoryStore();
  const limits = {
    caller: { counter: counterOf('rl'), limit: config.rateLimitPerMinute, keyOf: callerKey },
    // An organisation runs its own issuer and names its subjects: all of them together have a limit too.
    organisation: { counter: counterOf('rlo'), limit: config.rateLimitPerOrganisationPerMinute, keyOf: organisationKey },
  };
  const limiterOf = (
    counter: CounterStore,
    limit: number,
    keyOf: (req: Request) => Promise<string | null>,
    headers: 'draft-7' | false,
  ) =>
    rateLimit({
      windowMs: WINDOW_MS,
      limit,
      store: counter,
      // A Redis outage must not take the API down with it: limit per instance meanwhile.
      ...(redis ? { passOnStoreError: true } : {}),
      standardHeaders: headers,
      legacyHeaders: false,
      skip: async (req) => (await keyOf(req)) === null,
      keyGenerator: async (req) => (await keyOf(req))!,
      handler: (_req, res, _next, opts) => {
        res.status(429).json({ errors: [rateLimited(Math.ceil(opts.windowMs / 1000)).toJSON()] });
      },
    });
  const principalOf = (req: Request) => callerOf(req).catch(() => null);
  const perCaller = limiterOf(
    limits.caller.counter,
    limits.caller.limit,
    async (req) => {
      const principal = await principalOf(req);
      return principal ? callerKey(principal) : `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    'draft-7',
  );
  const perOrganisation = limiterOf(
    limits.organisation.counter,
    limits.organisation.limit,
    async (req) => {
      const principal = await principalOf(req);
      return principal ? organisationKey(principal) : null;
    },
    // The RateLimit headers tell a caller of its own limit; the organisation's is rarely the nearer.
    false,
  );
  const limiter: RequestHandler = async (req, res, next) => {
    let passed = false;
    await perCaller(req, res, (error?: unknown) => (error ? next(error) : (passed = true)));
    if (passed) await perOrganisation(req, res, next);
  };

  /** Counts `hits` on one limit; answers the hits reached then (undefined: the counter is away). */
  async function count(
    { counter, limit, keyOf }: (typeof limits)[keyof typeof limits],
    principal: Principal,
    hits: number,
  ): Promise<{ totalHits: number; resetTime: Date | undefined } | undefined> {
    const key = keyOf(principal);
    let reached: { totalHits: number; resetTime: Date | undefined } | undefined;
    try {
      // Past the limit one more hit changes nothing: stop there (a refused document may name hundreds).
      for (let i = 0; i < hits && !(reached && reached.totalHits > limit); i += 1) reached = await counter.increment(key);
    } catch (error) {
      // As the limiter does when Redis is away: let the request through rather than fail it.
      logger.warn({ err: error }, 'rate limit counter unavailable');
      return undefined;
    }
    return reached;
  }

  const consume: ConsumeRate = async (principal, hits) => {
    for (const which of [limits.caller, limits.organisation]) {
      const reached = await count(which, principal, hits);
      if (!reached || reached.totalHits <= which.limit) continue;
      const resetIn = reached.resetTime ? reached.resetTime.getTime() - Date.now() : WINDOW_MS;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(resetIn / 1000)) };
    }
    return { allowed: true };
  };
  return {
    limiter,
    consume,
    async close() {
      await redis?.quit().catch(() => undefined);
    },
  };
}
