// The operator's endpoints: liveness, readiness (store reachable, indexes built) and metrics.
import { Router } from 'express';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';

export function healthRoutes(deps: { store: Store; metrics: Metrics }): Router {
  const { store, metrics } = deps;
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const ready = await store.ready();
    metrics.storeUp.set(store.up ? 1 : 0);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', store: store.up ? 'up' : 'down' });
  });

  router.get('/metrics', async (_req, res) => {
    metrics.storeUp.set(store.up ? 1 : 0);
    res.setHeader('content-type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  return router;
}
