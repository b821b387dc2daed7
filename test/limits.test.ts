// Protection against expensive or abusive use: query cost, page size and request rate.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { ERIN_MAX_QUERY_COST: '300', ERIN_RATE_LIMIT: '40' } });
});
afterAll(async () => {
  await gw?.close();
});

describe('limits', () => {
  it('a query that would cost more than the limit is refused before it runs, with its cost', async () => {
    const heavy = `{ cases(first: 100) { edges { node { reference plans { components { id kind cost { amount } } } memberState { contracts { id } } } } } }`;
    const r = await gw.as('NL', 'caseworker').gql(heavy);
    expect(codes(r)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(r.errors?.[0]?.extensions).toMatchObject({ limit: 300 });
    expect(r.errors?.[0]?.extensions.cost).toBeGreaterThan(300);
    const light = await gw.as('NL', 'caseworker').gql(`{ cases(first: 10) { edges { node { reference } } } }`);
    expect(light.errors).toBeUndefined();
  });

  it('a page larger than 100 is refused', async () => {
    const r = await gw.as('NL', 'caseworker').gql(`{ cases(first: 101) { edges { node { reference } } } }`);
    expect(codes(r)[0]).toMatch(/BAD_USER_INPUT|QUERY_TOO_COMPLEX/);
  });

  it('too many requests from one token get 429 RATE_LIMITED, and another caller is not affected', async () => {
    const noisy = gw.as('P-AF-HOPE', 'partner-officer', 'noisy-user');
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 45; i += 1) {
      const r = await noisy.gql('{ ping }');
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(limited?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited?.headers.get('ratelimit')).toBeTruthy();
    const other = await gw.as('P-AF-HOPE', 'partner-officer', 'calm-user').gql('{ ping }');
    expect(other.status).toBe(200);
  });
});

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

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
const hasRedis = await redisReachable();
if (!hasRedis && process.env.CI) throw new Error(`CI runs the shared rate-limit test: no Redis at ${REDIS_URL}`);

describe.skipIf(!hasRedis)('shared rate limits (needs a Redis at REDIS_URL; skipped without one)', () => {
  it('two gateways configured with the same Redis share one limit per token', async () => {
    const dbName = `t_rl_${Date.now()}`;
    const env = { REDIS_URL, ERIN_RATE_LIMIT: '10' };
    const a = await startGateway({ env, dbName });
    const b = await startGateway({ env, dbName, seed: false, dataDir: a.dataDir });
    try {
      // One token (one subject), requests spread over both instances.
      const token = a.token('NL', 'caseworker', { subject: 'shared-limit' });
      const statuses: number[] = [];
      for (let i = 0; i < 14; i += 1) statuses.push((await (i % 2 ? a : b).gql('{ ping }', {}, { token })).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
