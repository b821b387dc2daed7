// Requests per minute per caller on /graphql and /evidence. Per instance by default; shared by
// every gateway through Redis when REDIS_URL is set.
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Config } from '../config.ts';
import { rateLimited } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';

export type RateLimiter = {
  limiter: RequestHandler;
  /** Disconnects from Redis, if the limit is shared through it. */
  close(): Promise<void>;
};

export async function createRateLimiter(deps: { config: Config; store: Store; logger: Logger }): Promise<RateLimiter> {
  const { config, store, logger } = deps;
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
  return {
    limiter,
    async close() {
      await redis?.quit().catch(() => undefined);
    },
  };
}
