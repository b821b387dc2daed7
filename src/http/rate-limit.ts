// Requests per minute per caller on /graphql and /evidence: per verified principal (organisation
// and subject), whatever token or spelling of the header it came with; per address for requests
// without a valid token, whatever junk they carry. Per instance by default; shared by every
// gateway through Redis when REDIS_URL is set. What one request can carry more of is counted
// on the same limit (`consume`): each root field of a GraphQL operation beyond the first (each
// resolves on its own: a write, a read of the store), each subscription started over WebSocket
// (src/graphql/rate.ts).
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
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
  // The limiter's own counter, so that `consume` counts on the same one.
  const counter: CounterStore = redis
    ? new RedisStore({
        sendCommand: (...args: string[]) => redis.sendCommand(args),
        prefix: `erin:rl:${store.dbName}:`,
      })
    : new MemoryStore();
  const limit = config.rateLimitPerMinute;
  const limiter = rateLimit({
    windowMs: WINDOW_MS,
    limit,
    store: counter,
    // A Redis outage must not take the API down with it: limit per instance meanwhile.
    ...(redis ? { passOnStoreError: true } : {}),
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: async (req) => {
      const principal = await callerOf(req).catch(() => null);
      return principal ? callerKey(principal) : `ip:${ipKeyGenerator(req.ip ?? '')}`;
    },
    handler: (_req, res, _next, opts) => {
      res.status(429).json({ errors: [rateLimited(Math.ceil(opts.windowMs / 1000)).toJSON()] });
    },
  });
  const consume: ConsumeRate = async (principal, hits) => {
    const key = callerKey(principal);
    let reached: { totalHits: number; resetTime: Date | undefined } | undefined;
    try {
      // Past the limit one more hit changes nothing: stop there (a refused document may name hundreds).
      for (let i = 0; i < hits && !(reached && reached.totalHits > limit); i += 1) reached = await counter.increment(key);
    } catch (error) {
      // As the limiter does when Redis is away: let the request through rather than fail it.
      logger.warn({ err: error }, 'rate limit counter unavailable');
      return { allowed: true };
    }
    if (!reached || reached.totalHits <= limit) return { allowed: true };
    const resetIn = reached.resetTime ? reached.resetTime.getTime() - Date.now() : WINDOW_MS;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(resetIn / 1000)) };
  };
  return {
    limiter,
    consume,
    async close() {
      await redis?.quit().catch(() => undefined);
    },
  };
}
