// The operator's endpoints: liveness, readiness (store reachable, indexes built) and metrics
// (behind a bearer token when one is configured: its labels name operations and outcomes, its
// counts the network's erasures and consent withdrawals; in production without a token, off).
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import { bearerToken } from '../auth/verify.ts';
import { unauthenticated } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

const digest = (text: string) => createHash('sha256').update(text).digest();

export function healthRoutes(deps: {
  store: Store;
  metrics: Metrics;
  metricsToken?: string | undefined;
  /** No /metrics at all (404): production without a token. */
  metricsOff?: boolean;
}): Router {
  const { store, metrics, metricsToken, metricsOff = false } = deps;
  const expected = metricsToken ? digest(metricsToken) : undefined;
  // Compared as digests, so neither the length nor a prefix of the token shows in the timing.
  const mayScrape = (authorization: string | undefined) => {
    const given = bearerToken(authorization);
    return !expected || (given !== undefined && timingSafeEqual(digest(given), expected));
  };
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const ready = await store.ready();
    metrics.storeUp.set(store.up ? 1 : 0);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', store: store.up ? 'up' : 'down' });
  });

  router.get('/metrics', async (req, res, next) => {
    if (metricsOff) return next();
    if (!mayScrape(req.headers.authorization)) {
      res
        .status(401)
        .set('www-authenticate', 'Bearer')
        .json({ errors: [unauthenticated().toJSON()] });
      return;
    }
    metrics.storeUp.set(store.up ? 1 : 0);
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  return router;
}
