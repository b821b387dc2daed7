// Keeps readiness and the store gauge current between requests, and finishes writes an
// outage interrupted as soon as the store is back.
import type { Metrics } from '../metrics.ts';
import type { Store } from './store.ts';

export function startStorePinger(deps: {
  store: Store;
  metrics: Metrics;
  /** Run once each time the store comes back after being unreachable. */
  onReconnect: () => Promise<unknown>;
  intervalMs?: number;
}): { stop(): void } {
  const { store, metrics, onReconnect } = deps;
  let wasUp = true;
  const pinger = setInterval(() => {
    void store.ping().then(async (up) => {
      metrics.storeUp.set(up ? 1 : 0);
      if (up && !wasUp) await onReconnect().catch(() => undefined);
      wasUp = up;
    });
  }, deps.intervalMs ?? 2000);
  pinger.unref();
  return { stop: () => clearInterval(pinger) };
}
