// Requests per minute per caller on /graphql and /evidence: per verified principal (organisation
// and subject), whatever token or spelling of the header it came with; per address for requests
// without a valid token, whatever junk they carry. Per instance by default; shared by every
// gateway through Redis when REDIS_URL is set.
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { createClient } from 'redis';
import type { Config } from '../config.ts';
import { rateLimited } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Store } from '../store/store.ts';
import type { CallerOf } from './authentication.ts';

export type RateLimiter = {
  limiter: RequestHandler;
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
    // Hashed, so no subject sits in memory or in Redis as a key.
    keyGenerator: async (req) => {
      const principal = await callerOf(req).catch(() => null);
      if (!principal) return `ip:${ipKeyGenerator(req.ip ?? '')}`;
      const who = `${principal.organisation.code}\u0000${principal.subject}`;
      return `p:${createHash('sha256').update(who).digest('hex').slice(0, 32)}`;
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
