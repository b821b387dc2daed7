// Probes of the statistics by an analyst who compares requests rather than figures: what a
// refusal, the export record or the relation between two cells' noises says about single
// cases. statistics-attacks.test.ts attacks the figures; this file attacks everything around
// them (docs/statistics.md, "What is guaranteed").
//
// The cases are written straight into the store, as in the attack suite: the probes need
// combinations the test chose, and statistics read nothing else of a case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { CASE_STATUSES } from '../src/modules/cases/case.state.ts';
import { MAX_CELLS } from '../src/modules/statistics/statistics.cells.ts';
import { mulberry32 } from '../src/seed/random.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { nextRelease } from './helpers/releases.ts';

let gw: TestGateway;
let db: Db;
const clock = clockAt('2026-11-28T10:00:00Z');
beforeAll(async () => {
  gw = await startGateway({ clock, env: { ERIN_STATS_BUDGET: '100000' } });
  db = await gw.raw();
});
afterAll(async () => {
  await gw?.close();
});

type Attributes = { memberState: string; origin: string; quarter: string; status: string };

/** A case as statistics read it: these attributes, one person, no plan, nothing spent. */
const rawCase = (id: string, a: Attributes) => ({
  _id: id as never,
  memberState: a.memberState,
  originCountry: a.origin,
  programme: 'EURP-VOL',
  returnType: 'VOLUNTARY',
  status: a.status,
  closureReason: a.status === 'CLOSED' ? 'OPTED_OUT' : null,
  arrivedOn: `${a.quarter.slice(0, 4)}-${String((Number(a.quarter.slice(6)) - 1) * 3 + 2).padStart(2, '0')}-15`,
  createdAt: new Date('2012-01-01T00:00:00Z'),
  household: [{ yearOfBirth: 1990, gender: 'FEMALE', relation: 'PRINCIPAL' }],
  planInForce: null,
  actualEur: 0,
  spend: [],
  latestScores: null,
});

type Cell = { coordinates: { dimension: string; value: string }[]; caseCount: number };
type Method = { countPerturbation: { trueValue: number; noise: { noise: number; probability: number }[] }[] };
const TABLE = `query ($g: [StatisticsDimension!]!, $f: StatisticsFilter) { statistics(groupBy: $g, filter: $f) {
  method { countPerturbation { trueValue noise { noise probability } } }
  cells { coordinates { dimension value } caseCount } totals { coordinates { dimension value } caseCount } } }`;
type Table = { statistics: { method: Method; cells: Cell[]; totals: Cell[] } };

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Two-letter origin codes, in order: AA, AB, … */
const originCode = (i: number) => `${LETTERS[Math.floor(i / 26)]}${LETTERS[i % 26]}`;

describe('a refusal and the export record say nothing about the cases', () => {
  // Six member states' cases, spread over 200 origins, 48 quarters and every status: a
  // table by all four has close to MAX_CELLS cells that hold cases.
  const MEMBER_STATES = ['NL', 'BE', 'DE', 'FR', 'SE', 'NO'];
  const QUARTERS = Array.from({ length: 48 }, (_, i) => `${2015 + Math.floor(i / 4)}-Q${(i % 4) + 1}`);
  const DIMENSIONS = ['ORIGIN_COUNTRY', 'QUARTER', 'STATUS', 'MEMBER_STATE'] as const;
  const filter = { memberStates: MEMBER_STATES };
  const valuesOf = (a: Attributes) => [a.origin, a.quarter, a.status, a.memberState];

  /** The cells of the table by all four dimensions and its margins that hold cases (as the table builds them). */
  const occupied = new Set<string>();
  const occupy = (a: Attributes) => {
    const values = valuesOf(a);
    for (let mask = 0; mask < 2 ** DIMENSIONS.length; mask += 1) {
      occupied.add(JSON.stringify(values.map((v, i) => (mask & (1 << i) ? v : null))));
    }
  };

  let nextOrigin = 200;
  let background: Attributes;
  beforeAll(async () => {
    const random = mulberry32(20261201);
    const pick = <T>(values: readonly T[]) => values[Math.floor(random() * values.length)]!;
    const cases: Attributes[] = Array.from({ length: 2_600 }, () => ({
      memberState: pick(MEMBER_STATES),
      origin: originCode(Math.floor(random() * 200)),
      quarter: pick(QUARTERS),
      status: pick(CASE_STATUSES),
    }));
    for (const c of cases) occupy(c);
    background = cases[0]!;
    // Cases of origins no other case has, each adding exactly the eight cells that name its
    // origin, until one more such case would cross the limit.
    while (occupied.size + 8 <= MAX_CELLS) {
      const filler = { ...background, origin: originCode(nextOrigin) };
      nextOrigin += 1;
      occupy(filler);
      cases.push(filler);
    }
    expect(occupied.size).toBeGreaterThan(MAX_CELLS - 8);
    expect(occupied.size).toBeLessThanOrEqual(MAX_CELLS);
    await db.collection('cases').insertMany(cases.map((c, i) => rawCase(`limit-${String(i).padStart(5, '0')}`, c)));
  }, 120_000);

  it('whether a table is refused depends on the request alone: one new case never turns a served table into a refused one', async () => {
    // Tokens are issued on the gateway's clock, which moves to the next release below.
    const reg = () => gw.as('EMN-REG', 'reg-analyst');
    const outcome = async () => {
      const r = await reg().gql<Table>(TABLE, { g: DIMENSIONS, f: filter });
      return r.errors ? { refused: codes(r), message: r.errors[0]!.message } : { refused: [] };
    };
    const exportedCells = async () => {
      await reg().ok(TABLE, { g: ['ORIGIN_COUNTRY'], f: filter });
      const exports = (await gw.services.log.page(0, 1_000_000)).filter((e) => e.type === 'StatisticsExported');
      return exports.at(-1)!.data.cells;
    };
    const before = await outcome();
    const recordedBefore = await exportedCells();

    // The person the analyst is after arrives: a combination no case had.
    await db.collection('cases').insertOne(rawCase('limit-target', { ...background, origin: originCode(nextOrigin) }));
    // Counted from the next month's release (still in the same quarter, so the declared domains stay).
    nextRelease(clock);
    const after = await outcome();
    const recordedAfter = await exportedCells();

    // The same request gets the same answer, served or refused: the refusal is counted on the
    // values the dimensions can take (250 × 61 × 15 × 7 cells with margins), not on the cases.
    expect(after).toEqual(before);
    expect(before.refused).toEqual(['BAD_USER_INPUT']);
    // The export record keeps the request's size too, never how many of its cells hold cases.
    expect(recordedAfter).toBe(recordedBefore);
  });

  it('a table within the limit is served however many of its cells hold cases, and a refused one costs nothing', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst', 'limit-probe');
    // 250 origins × 15 statuses with margins: served, although the cases fill a great many of them.
    const served = await reg.gql<{ statistics: { budget: { used: number } } }>(
      `query ($f: StatisticsFilter) { statistics(groupBy: [ORIGIN_COUNTRY, STATUS], filter: $f) { budget { used } } }`,
      { f: filter },
    );
    expect(served.errors).toBeUndefined();
    const refused = await reg.gql(TABLE, { g: DIMENSIONS, f: filter });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    // Refused before any case is read: the refusal is not charged to the budget.
    const next = await reg.ok<{ statistics: { budget: { used: number } } }>(
      `query ($f: StatisticsFilter) { statistics(groupBy: [STATUS], filter: $f) { budget { used } } }`,
      { f: filter },
    );
    expect(next.statistics.budget.used).toBe(served.data!.statistics.budget.used + 1);
  });
});

describe('cell keys: the noise of a set of cases says nothing about the noise of another', () => {
  // Pairs of cases X and Y, each alone in its finest cell, then together in one (X moves to
  // Y's status). Were a cell's position the sum of its cases' record keys, the position of
  // {X, Y} would be the sum of the positions of {X} and {Y}: each reading narrows where the
  // others lie, and an analyst who reads X and Y alone could predict the noise of the two
  // together. The prediction must fail as often as it does for unrelated noise.
  const PAIRS = 60;
  const MEMBER_STATE = 'AT';
  const PAD = 'ARRIVED';
  const ALONE = 'PLAN_SUBMITTED';
  const TOGETHER = 'PLAN_APPROVED';
  const origin = (i: number) => originCode(26 * 20 + i);

  beforeAll(async () => {
    const cases = [];
    for (let i = 0; i < PAIRS; i += 1) {
      const at = { memberState: MEMBER_STATE, origin: origin(i), quarter: '2026-Q3' };
      // Seven cases beside them, so every origin's total is listed (its protected count is at least 5).
      for (let p = 0; p < 7; p += 1) cases.push(rawCase(`pair-${i}-pad-${p}`, { ...at, status: PAD }));
      cases.push(rawCase(`pair-${i}-x`, { ...at, status: ALONE }));
      cases.push(rawCase(`pair-${i}-y`, { ...at, status: TOGETHER }));
    }
    await db.collection('cases').insertMany(cases);
  });

  it('two cases together draw noise unrelated to what each drew alone', async () => {
    // The pairs are counted from the next release on.
    nextRelease(clock);
    const reg = () => gw.as('EMN-REG', 'reg-analyst');
    /** Each origin's protected count, over these statuses. */
    const byOrigin = async (statuses: string[]) => {
      const { statistics } = await reg().ok<Table>(TABLE, {
        g: ['ORIGIN_COUNTRY'],
        f: { memberStates: [MEMBER_STATE], statuses },
      });
      return { method: statistics.method, counts: new Map(statistics.cells.map((c) => [c.coordinates[0]!.value, c.caseCount])) };
    };
    const pad = await byOrigin([PAD]);
    const withX = await byOrigin([PAD, ALONE]);
    const withY = await byOrigin([PAD, TOGETHER]);
    await db
      .collection('cases')
      .updateMany(
        { _id: { $in: Array.from({ length: PAIRS }, (_, i) => `pair-${i}-x`) as never[] } },
        { $set: { status: TOGETHER } },
      );
    nextRelease(clock);
    const withXY = await byOrigin([PAD, TOGETHER]);

    // The intervals of the published table: the noise n of a count covers positions [from, to).
    const intervals = (trueValue: number) => {
      const row = pad.method.countPerturbation.findLast((r) => trueValue >= r.trueValue)!;
      let from = 0;
      return new Map(row.noise.map(({ noise, probability }) => [noise, { from, to: (from += probability) }]));
    };
    const [one, two] = [intervals(1), intervals(2)];
    let failed = 0;
    for (let i = 0; i < PAIRS; i += 1) {
      const read = (t: { counts: Map<string, number> }) => t.counts.get(origin(i))! - pad.counts.get(origin(i))!;
      const [x, y, xy] = [one.get(read(withX) - 1)!, one.get(read(withY) - 1)!, two.get(read(withXY) - 2)!];
      expect([x, y, xy].every(Boolean), `pair ${i}`).toBe(true);
      // Summed positions: {X, Y} lies in [x.from + y.from, x.to + y.to) modulo 1 (intervals that only touch do not meet).
      const predicted = [-2, -1, 0].some((k) => Math.max(x.from + y.from + k, xy.from) < Math.min(x.to + y.to + k, xy.to) - 1e-9);
      if (!predicted) failed += 1;
    }
    // For unrelated noise the prediction fails for about 27 % of pairs (16 of 60); for summed
    // keys, never. Three or more failures: below that, chance has less than 2 in a million.
    console.info(`noise of two cases together predicted from each alone: ${PAIRS - failed} of ${PAIRS}`);
    expect(failed).toBeGreaterThanOrEqual(3);
  });
});

describe('the same table, asked by two analysts on two gateways at once, and again a day later', () => {
  // A network whose first tables are drawn here: the cell-key secret and the record keys are
  // claimed by whichever request comes first. Were a loser to keep what it drew, the same
  // cases would show two noises, and two readings of a cell are what the method denies.
  let first: TestGateway;
  let second: TestGateway;
  const clocks = [clockAt('2026-11-28T10:00:00Z'), clockAt('2026-11-28T10:00:00Z')];
  beforeAll(async () => {
    first = await startGateway({ clock: clocks[0] });
    second = await startGateway({ clock: clocks[1], dbName: first.dbName, dataDir: first.dataDir, seed: false });
    const random = mulberry32(7);
    const cases = Array.from({ length: 120 }, (_, i) =>
      rawCase(`twice-${i}`, {
        memberState: i % 2 ? 'NL' : 'BE',
        origin: ['AF', 'IQ', 'MA'][Math.floor(random() * 3)]!,
        quarter: '2026-Q3',
        status: ['ARRIVED', 'PLAN_APPROVED', 'CLOSED'][Math.floor(random() * 3)]!,
      }),
    );
    await (await first.raw()).collection('cases').insertMany(cases);
  });
  afterAll(async () => {
    await second?.close({ keepData: true });
    await first?.close();
  });

  const SAME = `{ statistics(groupBy: [MEMBER_STATE, ORIGIN_COUNTRY, STATUS], filter: { originCountries: ["AF", "IQ", "MA"] }) {
    cells { coordinates { dimension value } caseCount persons } totals { coordinates { dimension value } caseCount persons } } }`;
  const figures = (r: { statistics: { cells: unknown[]; totals: unknown[] } }) => JSON.stringify(r.statistics);

  it('gives the same figures to every analyst, whichever request drew the secret and the keys', async () => {
    const analysts = [
      first.as('EMN-REG', 'reg-analyst', 'analyst-a'),
      second.as('EMN-REG', 'reg-analyst', 'analyst-b'),
      second.as('ERIN-NET', 'network-admin'),
    ];
    const tables = await Promise.all(
      [...analysts, ...analysts].map((a) => a.ok<{ statistics: { cells: unknown[]; totals: unknown[] } }>(SAME)),
    );
    expect(new Set(tables.map(figures)).size).toBe(1);
    expect(tables[0]!.statistics.cells.length).toBeGreaterThan(0);
    const db = await first.raw();
    expect(await db.collection('statistics_secrets').countDocuments()).toBe(1);
    expect(await db.collection('statistics_record_keys').countDocuments()).toBe(120);

    // A day later, nothing having changed, the same request gives the same figures again.
    for (const clock of clocks) clock.advance(86_400_000);
    const later = await second
      .as('EMN-REG', 'reg-analyst', 'analyst-c')
      .ok<{ statistics: { cells: unknown[]; totals: unknown[] } }>(SAME);
    expect(figures(later)).toBe(figures(tables[0]!));
  });
});
