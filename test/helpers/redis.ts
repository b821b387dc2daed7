// The Redis the shared rate-limit tests use: two gateways configured with it share one limit.
import { connect } from 'node:net';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a Redis answers at REDIS_URL: a machine with only Node and Go has none (CI starts one). */
async function redisReachable(): Promise<boolean> {
  const { hostname, port } = new URL(REDIS_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379), timeout: 500 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket
      .once('connect', () => done(true))
      .once('error', () => done(false))
      .once('timeout', () => done(false));
  });
}

/** Whether the tests that need a Redis can run here; under CI they must (the run fails without one). */
export async function hasRedis(): Promise<boolean> {
  const reachable = await redisReachable();
  if (!reachable && process.env.CI) throw new Error(`CI runs the shared rate-limit tests: no Redis at ${REDIS_URL}`);
  return reachable;
}
