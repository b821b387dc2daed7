// Statistics for the Return Experts Group: figures, never files. Every figure is protected
// by the cell key method (docs/statistics.md): a small noise, the same whenever the same
// cases are counted, and only cells whose protected count reaches the threshold listed.
// test/statistics-attacks.test.ts attacks the tables; this file checks the contract.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withDatabase } from '../src/store/uri.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, trainingComponent, workflow } from './helpers/factories.ts';
import { nextRelease } from './helpers/releases.ts';

const run = promisify(execFile);

let gw: TestGateway;
const clock = clockAt('2026-11-28T10:00:00Z');
const created: { id: string; reference: string }[] = [];

// Cases registered after return, by country and quarter of arrival. The cases of a row share
// every attribute, so each row is one finest cell (one noise).
const PLAN: [country: string, partner: string, arrivedOn: string, count: number][] = [
  ['AF', 'P-AF-HOPE', '2026-08-14', 6],
  ['AF', 'P-AF-HOPE', '2026-11-03', 2],
  ['IQ', 'P-IQ-TIGRIS', '2026-08-20', 5],
  ['IQ', 'P-IQ-TIGRIS', '2026-10-12', 7],
];
const quarterOf = (day: string) => `${day.slice(0, 4)}-Q${Math.floor((Number(day.slice(5, 7)) - 1) / 3) + 1}`;

beforeAll(async () => {
  gw = await startGateway({ clock });
  const nl = gw.as('NL', 'caseworker');
  for (const [country, partner, arrivedOn, count] of PLAN) {
    for (let i = 0; i < count; i += 1) {
      const household = [
        { yearOfBirth: 1985, gender: 'FEMALE', relation: 'PRINCIPAL' },
        ...(i % 2 === 0 ? [{ yearOfBirth: 2015, gender: 'MALE', relation: 'CHILD' }] : []),
      ];
      const { createCase } = await nl.ok<{ createCase: { id: string; reference: string } }>(CREATE_CASE, {
        input: caseInput({ originCountry: country, partner, arrivedOn, household }),
      });
      created.push(createCase);
    }
  }
});
afterAll(async () => {
  await gw?.close();
});

const TABLE = `query ($groupBy: [StatisticsDimension!]!, $filter: StatisticsFilter) {
  statistics(groupBy: $groupBy, filter: $filter) {
    groupBy
    method { name keyRange cellKeyHash finestCell countPerturbation { trueValue noise { noise probability } }
             magnitudeShare magnitudeFactorMin magnitudeFactorMax exactRecoveryBound countVariancePerCase threshold }
    budget { limit used periodStart periodEnds }
    cells { coordinates { dimension value } caseCount persons plannedEur { amount } actualEur { amount } }
    totals { coordinates { dimension value } caseCount persons plannedEur { amount } actualEur { amount } }
  } }`;

type Cell = {
  coordinates: { dimension: string; value: string }[];
  caseCount: number;
  persons: number;
  plannedEur: { amount: number };
  actualEur: { amount: number };
};
type Method = {
  name: string;
  keyRange: number;
  cellKeyHash: string;
  finestCell: string[];
  countPerturbation: { trueValue: number; noise: { noise: number; probability: number }[] }[];
  magnitudeShare: number;
  magnitudeFactorMin: number;
  magnitudeFactorMax: number;
  exactRecoveryBound: number;
  countVariancePerCase: number;
  threshold: number;
};
type Table = {
  statistics: {
    cells: Cell[];
    totals: Cell[];
    method: Method;
    budget: { limit: number; used: number; periodStart: string; periodEnds: string };
  };
};

const at = (cell: Cell) => Object.fromEntries(cell.coordinates.map((c) => [c.dimension, c.value]));
const id = (cell: Cell) => JSON.stringify(at(cell));

describe('statistics', () => {
  it('every figure is within the documented error, and the same cases give the same figures in any table', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst');
    const a = (await reg.ok<Table>(TABLE, { groupBy: ['ORIGIN_COUNTRY', 'QUARTER'] })).statistics;
    const b = (
      await reg.ok<Table>(TABLE, {
        groupBy: ['ORIGIN_COUNTRY', 'QUARTER'],
        filter: { memberStates: ['NL'], originCountries: ['IQ', 'AF'], quarterFrom: '2026-Q3' },
      })
    ).statistics;
    const listed = [...a.cells, ...a.totals];
    expect(listed.length).toBeGreaterThan(0);
    for (const cell of listed) {
      const c = at(cell);
      const rows = PLAN.filter(
        ([country, , day]) => (!c.ORIGIN_COUNTRY || c.ORIGIN_COUNTRY === country) && (!c.QUARTER || c.QUARTER === quarterOf(day)),
      );
      const truth = rows.reduce((n, [, , , count]) => n + count, 0);
      // Each PLAN row is one finest cell, whose noise is at most 2 (the perturbation table's widest row).
      expect(Math.abs(cell.caseCount - truth), id(cell)).toBeLessThanOrEqual(2 * rows.length);
      expect(cell.caseCount, id(cell)).toBeGreaterThanOrEqual(a.method.threshold);
    }
    // A different request holding the same cases gives the same protected figures: asking again
    // or around does not average the noise away.
    const inB = new Map([...b.cells, ...b.totals].map((cell) => [id(cell), cell]));
    for (const cell of a.cells) expect(inB.get(id(cell)), id(cell)).toEqual(cell);
    // A margin is the sum of the protected cells under it, so subtracting cells from it gives
    // the protected figure of the rest, never the true one.
    const byId = new Map(listed.map((cell) => [id(cell), cell]));
    for (const [country] of new Set(PLAN.map(([country]) => [country]))) {
      const quarters = [...new Set(PLAN.filter(([c]) => c === country).map(([, , day]) => quarterOf(day)))];
      const parts = quarters.map((q) => byId.get(JSON.stringify({ ORIGIN_COUNTRY: country, QUARTER: q })));
      const margin = byId.get(JSON.stringify({ ORIGIN_COUNTRY: country }));
      if (margin && parts.every(Boolean)) expect(margin.caseCount).toBe(parts.reduce((n, p) => n + p!.caseCount, 0));
    }
  });

  it('a combination of two cases is never listed: its protected count stays under the threshold', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst');
    const { statistics } = await reg.ok<Table>(TABLE, { groupBy: ['ORIGIN_COUNTRY', 'QUARTER'] });
    expect(statistics.cells.find((c) => at(c).ORIGIN_COUNTRY === 'AF' && at(c).QUARTER === '2026-Q4')).toBeUndefined();
    // Nor does anything else mark it: no listing of combinations without figures.
    expect(JSON.stringify(statistics.cells)).not.toContain('"2026-Q4"},{"dimension":"ORIGIN_COUNTRY","value":"AF"');
    expect(statistics.cells.every((c) => c.caseCount >= statistics.method.threshold)).toBe(true);
  });

  it('publishes its method: the perturbation table, the magnitude rule, the bounds and the threshold', async () => {
    const { statistics } = await gw.as('EMN-REG', 'reg-analyst').ok<Table>(TABLE, { groupBy: ['PROGRAMME'] });
    const m = statistics.method;
    expect(m).toMatchObject({
      name: 'cell-key-perturbation-of-finest-cells/v2',
      keyRange: 2 ** 32,
      cellKeyHash: expect.stringContaining('HMAC-SHA-256'),
      magnitudeShare: 0.2,
      magnitudeFactorMin: 0.5,
      magnitudeFactorMax: 1,
      exactRecoveryBound: 0.4,
      threshold: 5,
    });
    expect(m.countVariancePerCase).toBeCloseTo(0.6, 10);
    expect(m.finestCell).toEqual(expect.arrayContaining(['MEMBER_STATE', 'ORIGIN_COUNTRY', 'QUARTER', 'RETURN_TYPE']));
    for (const row of m.countPerturbation) {
      const total = row.noise.reduce((s, n) => s + n.probability, 0);
      const mean = row.noise.reduce((s, n) => s + n.probability * n.noise, 0);
      expect(total, `row ${row.trueValue}`).toBeCloseTo(1, 10);
      expect(mean, `row ${row.trueValue} is unbiased`).toBeCloseTo(0, 10);
      // A protected count is never negative.
      expect(Math.min(...row.noise.map((n) => n.noise)) + row.trueValue).toBeGreaterThanOrEqual(0);
      expect(Math.max(...row.noise.map((n) => n.probability))).toBeLessThanOrEqual(m.exactRecoveryBound);
    }
    expect(statistics.budget).toMatchObject({ limit: 100 });
    expect(statistics.budget.used).toBeGreaterThanOrEqual(1);
  });

  it('planned EUR comes from the plans in force, moved by a fifth of its largest contribution at most', async () => {
    const flow = workflow(gw, 'BE', 'P-MA-ATLAS');
    for (let i = 0; i < 8; i += 1) await flow.approved({ components: [trainingComponent(10_000)] }, { originCountry: 'MA' });
    // Tables are published from monthly releases: the next month's counts these cases.
    nextRelease(clock);
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { statistics } = await admin.ok<Table>(TABLE, { groupBy: ['COMPONENT_KIND'], filter: { memberStates: ['BE'] } });
    expect(statistics.cells.map((c) => at(c).COMPONENT_KIND)).toEqual(['TRAINING']);
    const [training] = statistics.cells;
    // The eight cases share every attribute: one finest cell, count noise within ±2.
    expect(Math.abs(training!.caseCount - 8)).toBeLessThanOrEqual(2);
    // EUR: 0.2 × the largest contribution (10,000) × a factor of 0.5 to 1, up or down; never none.
    const off = Math.abs(training!.plannedEur.amount - 80_000);
    expect(off).toBeGreaterThanOrEqual(1_000);
    expect(off).toBeLessThanOrEqual(2_000);
  });

  it('spend and sustainability scores count once progress reports carry them (read as absent before)', async () => {
    // The fields the progress module adds to a case: written here as it will write them.
    const db = await gw.raw();
    const be = await db
      .collection('cases')
      .find({ memberState: 'BE', planInForce: { $ne: null } })
      .toArray();
    expect(be).toHaveLength(8);
    const composite = be.map((_, i) => 0.6 + i / 100);
    for (const [i, c] of be.entries()) {
      await db.collection('cases').updateOne(
        { _id: c._id },
        {
          $set: {
            actualEur: 8_000,
            spend: [{ componentId: 'x', kind: 'TRAINING', actualEur: 8_000 }],
            latestScores: { economic: 0.5, social: 0.6, psychosocial: 0.7, composite: composite[i] },
          },
        },
      );
    }
    nextRelease(clock);
    const query = `query ($f: StatisticsFilter) { statistics(groupBy: [COMPONENT_KIND], filter: $f) {
      cells { actualEur { amount } meanScores { economic social psychosocial composite } } } }`;
    const { statistics } = await gw
      .as('EMN-REG', 'reg-analyst')
      .ok<{ statistics: { cells: { actualEur: { amount: number }; meanScores: Record<string, number> | null }[] } }>(query, {
        f: { memberStates: ['BE'] },
      });
    const [cell] = statistics.cells;
    const off = Math.abs(cell!.actualEur.amount - 64_000);
    expect(off).toBeGreaterThanOrEqual(800);
    expect(off).toBeLessThanOrEqual(1_600);
    // A mean is a protected sum over a protected count of scored cases (8 ± 2).
    const within = (mean: number, each: number[]) => {
      const sum = each.reduce((a, b) => a + b, 0);
      const top = Math.max(...each);
      return mean >= (sum - 0.2 * top) / 10 - 0.005 && mean <= (sum + 0.2 * top) / 6 + 0.005;
    };
    expect(cell!.meanScores).not.toBeNull();
    expect(
      within(
        cell!.meanScores!.economic!,
        be.map(() => 0.5),
      ),
    ).toBe(true);
    expect(within(cell!.meanScores!.composite!, composite)).toBe(true);
  });

  it('one statistics table per request', async () => {
    const r = await gw
      .as('EMN-REG', 'reg-analyst')
      .gql('{ a: statistics(groupBy: [ORIGIN_COUNTRY]) { threshold } b: statistics(groupBy: [QUARTER]) { threshold } }');
    expect(codes(r)).toContain('BAD_USER_INPUT');
    expect(r.data).toBeNull();
  });

  it('nothing case-level comes out, and the record keys stay in the store', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst');
    // Filtered to stay within the cell limit, which is counted on the values each dimension can take.
    const r = await reg.ok<Table>(TABLE, {
      groupBy: ['MEMBER_STATE', 'ORIGIN_COUNTRY', 'QUARTER', 'STATUS'],
      filter: { originCountries: ['AF', 'IQ'], quarterFrom: '2026-Q1' },
    });
    const db = await gw.raw();
    const keys = await db.collection('statistics_record_keys').find({}).toArray();
    expect(keys.length).toBeGreaterThanOrEqual(created.length);
    const events = JSON.stringify(await db.collection('events').find({}).toArray());
    const text = JSON.stringify(r);
    for (const c of created) {
      expect(text).not.toContain(c.id);
      expect(text).not.toContain(c.reference);
    }
    for (const k of keys) {
      expect(text).not.toContain(String(k.key));
      expect(events).not.toContain(String(k.key));
    }
    // Nor does the secret the cell keys are hashed under.
    const [secret] = await db.collection('statistics_secrets').find({}).toArray();
    expect(secret?.secret).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(text).not.toContain(secret!.secret);
    expect(events).not.toContain(secret!.secret);
  });

  it('a partner or member-state token gets FORBIDDEN', async () => {
    for (const [org, role] of [
      ['P-AF-HOPE', 'partner-officer'],
      ['NL', 'caseworker'],
      ['NL', 'coordinator'],
    ] as const) {
      const r = await gw.as(org, role).gql(TABLE, { groupBy: ['ORIGIN_COUNTRY'] });
      expect(codes(r), `${org} ${role}`).toEqual(['FORBIDDEN']);
    }
  });

  it('every table handed out is recorded as an export', async () => {
    await gw.as('EMN-REG', 'reg-analyst').ok(TABLE, { groupBy: ['PROGRAMME'] });
    const exports = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'StatisticsExported');
    expect(exports.at(-1)).toMatchObject({
      actor: { organisation: 'EMN-REG' },
      data: { channel: 'graphql', groupBy: ['PROGRAMME'] },
    });
  });

  it('`erin stats --group-by origin,quarter --format csv` exports the same protected table, logged as an export', async () => {
    const env = {
      ...process.env,
      LOG_LEVEL: 'silent',
      MONGODB_URI: withDatabase(inject('mongoUri'), gw.dbName),
      ERIN_DATA_DIR: gw.dataDir,
    };
    const erin = path.resolve('bin/erin.js');
    const { stdout } = await run(process.execPath, [erin, 'stats', '--group-by', 'origin,quarter', '--format', 'csv'], { env });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'origin_country,quarter,case_count,persons,planned_eur,actual_eur,mean_economic,mean_social,mean_psychosocial,mean_composite',
    );
    // The same cases, the same noise: the CLI's figures are the API's.
    const { statistics } = await gw.as('EMN-REG', 'reg-analyst').ok<Table>(TABLE, { groupBy: ['ORIGIN_COUNTRY', 'QUARTER'] });
    const api = [...statistics.cells, ...statistics.totals].map((c) =>
      [at(c).ORIGIN_COUNTRY ?? 'TOTAL', at(c).QUARTER ?? 'TOTAL', c.caseCount, c.persons].join(','),
    );
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual(api);
    expect(lines.some((l) => l.startsWith('AF,2026-Q4,'))).toBe(false);
    const json = await run(process.execPath, [erin, 'stats', '--group-by', 'origin', '--format', 'json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({
      groupBy: ['ORIGIN_COUNTRY'],
      method: { name: 'cell-key-perturbation-of-finest-cells/v2', threshold: 5 },
      budget: { limit: 100, used: 2 },
    });
    const exports = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'StatisticsExported');
    expect(exports.filter((e) => e.data.channel === 'cli').map((e) => e.data.groupBy)).toEqual([
      ['ORIGIN_COUNTRY', 'QUARTER'],
      ['ORIGIN_COUNTRY'],
    ]);
  });
});

describe('the statistics budget', () => {
  let small: TestGateway;
  const clock = clockAt('2026-11-28T10:00:00Z');
  beforeAll(async () => {
    small = await startGateway({ clock, env: { ERIN_STATS_BUDGET: '3', ERIN_STATS_BUDGET_PERIOD: '30d' } });
  });
  afterAll(async () => {
    await small?.close();
  });

  it('concurrent tables by one analyst get exactly the budget, then BUDGET_EXCEEDED until the next period', async () => {
    const analyst = small.as('EMN-REG', 'reg-analyst', 'analyst-1');
    const responses = await Promise.all(
      Array.from({ length: 8 }, () =>
        analyst.gql<{ statistics: { budget: { used: number; limit: number } } }>(
          '{ statistics(groupBy: [ORIGIN_COUNTRY]) { budget { used limit periodEnds } } }',
        ),
      ),
    );
    const served = responses.filter((r) => !r.errors);
    expect(served.map((r) => r.data!.statistics.budget.used).sort()).toEqual([1, 2, 3]);
    const refused = responses.filter((r) => r.errors);
    expect(refused).toHaveLength(5);
    for (const r of refused) {
      expect(codes(r)).toEqual(['BUDGET_EXCEEDED']);
      expect(r.errors![0]!.extensions).toMatchObject({ reason: 'STATISTICS_QUERY_BUDGET', limit: 3 });
    }
    // Another analyst has a budget of their own.
    const other = await small.as('EMN-REG', 'reg-analyst', 'analyst-2').gql('{ statistics(groupBy: [QUARTER]) { threshold } }');
    expect(other.errors).toBeUndefined();
    // The claims are the record: one per table served.
    const claims = await (
      await small.raw()
    )
      .collection('statistics_budget_claims')
      .find({ analyst: 'EMN-REG:analyst-1' })
      .toArray();
    expect(claims).toHaveLength(3);
    // The next period renews it.
    clock.advance(31 * 86_400_000);
    const renewed = await small
      .as('EMN-REG', 'reg-analyst', 'analyst-1')
      .gql<{ statistics: { budget: { used: number } } }>('{ statistics(groupBy: [QUARTER]) { budget { used } } }');
    expect(renewed.data?.statistics.budget.used).toBe(1);
  });
});
