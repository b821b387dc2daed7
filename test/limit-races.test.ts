// Limits a caller must not exceed, asked at once through two gateways on one store: the
// statistics budget (each table claims a numbered slot by insert) and the rate limit shared
// through Redis. Whatever the interleaving, no more is served than the limit allows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, uniqueDbName, type TestGateway } from './helpers/gateway.ts';
import { hasRedis, REDIS_URL } from './helpers/redis.ts';

describe('one analyst asking for tables through two gateways at once', () => {
  let a: TestGateway;
  let b: TestGateway;
  const clock = clockAt('2026-11-28T10:00:00Z');
  beforeAll(async () => {
    const env = { ERIN_STATS_BUDGET: '4', ERIN_STATS_BUDGET_PERIOD: '30d' };
    a = await startGateway({ clock, env });
    b = await startGateway({ clock, env, dbName: a.dbName, dataDir: a.dataDir, seed: false });
  });
  afterAll(async () => {
    await b?.close({ keepData: true });
    await a?.close();
  });

  it('gets exactly the budget, each slot once, the rest BUDGET_EXCEEDED', async () => {
    const TABLE = '{ statistics(groupBy: [ORIGIN_COUNTRY]) { budget { used limit } } }';
    const responses = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (i % 2 ? b : a).as('EMN-REG', 'reg-analyst', 'racing-analyst').gql<{ statistics: { budget: { used: number } } }>(TABLE),
      ),
    );
    const served = responses.filter((r) => !r.errors);
    expect(served.map((r) => r.data!.statistics.budget.used).sort()).toEqual([1, 2, 3, 4]);
    expect(responses.filter((r) => codes(r)[0] === 'BUDGET_EXCEEDED')).toHaveLength(12);
    const claims = await (
      await a.raw()
    )
      .collection('statistics_budget_claims')
      .find({ analyst: 'EMN-REG:racing-analyst' })
      .toArray();
    expect(claims.map((c) => c.slot).sort()).toEqual([1, 2, 3, 4]);
  });
});

const redis = await hasRedis();

describe.skipIf(!redis)('one account bursting through two gateways sharing a Redis (skipped without one)', () => {
  it('is served exactly the limit, whichever tokens of it the requests carry', async () => {
    const dbName = uniqueDbName('rlrace');
    const env = { REDIS_URL, ERIN_RATE_LIMIT: '10' };
    const a = await startGateway({ env, dbName });
    const b = await startGateway({ env, dbName, seed: false, dataDir: a.dataDir });
    try {
      // One account (organisation and subject), three tokens minted for it, 30 requests at once.
      const tokens = [0, 1, 2].map((i) =>
        a.token('NL', 'caseworker', { subject: 'bursting', issuedAt: Math.floor(Date.now() / 1000) - i }),
      );
      const statuses = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).gql('{ ping }', {}, { token: tokens[i % 3] }).then((r) => r.status)),
      );
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
