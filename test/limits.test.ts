// Protection against expensive or abusive use: query cost, page size and request rate.
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

describe('shared rate limits', () => {
  it('two gateways configured with the same Redis share one limit per token', async () => {
    const dbName = `t_rl_${Date.now()}`;
    const env = { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', ERIN_RATE_LIMIT: '10' };
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
