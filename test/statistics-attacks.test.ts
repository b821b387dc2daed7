// Attacks on the statistics, as a curious analyst would make them, on a network whose every
// case the test made (so it knows each true figure):
//   1. differencing by one filter value along every filterable dimension (a table with and
//      without one member state, country, programme, status or return type);
//   2. differencing by quarter ranges (up to q minus up to q − 1, from q minus from q + 1);
//   3. averaging: the same cell derived from many different pairs of tables, averaged.
// No attack may recover a cell's true count more often than the published noise allows by
// chance: the number of exact recoveries must stay within the one-in-a-million upper
// quantile of the number that chance alone gives (a Poisson-binomial, computed below from
// the published perturbation table and each target's finest cells). Two controls show that
// the attacks have teeth: on unprotected figures attack 1 recovers every target, and
// against noise drawn per published cell (the classic TableBuilder form) attack 3 averages
// it away. Finally every listed figure is within the documented error of the truth.
//
// The cases are written straight into the store: the attacks need a network whose every
// attribute the test chose, and statistics read nothing else of a case.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { mulberry32 } from '../src/seed/random.ts';

const N = 800;
const MEMBER_STATES = ['NL', 'BE', 'DE', 'FR', 'SE', 'NO', 'AT'];
const ORIGINS = ['AF', 'IQ', 'MA', 'NG', 'PK', 'GE', 'AM', 'ET'];
const PROGRAMMES: [code: string, returnType: string][] = [
  ['EURP-VOL', 'VOLUNTARY'],
  ['EURP-NONVOL', 'NON_VOLUNTARY'],
  ['NL-AVRR', 'VOLUNTARY'],
];
const STATUSES = ['DRAFT', 'REFERRED', 'ACCEPTED', 'ARRIVED', 'PLAN_APPROVED', 'IN_IMPLEMENTATION', 'CLOSED'];
const CLOSURES = ['SUPPORT_PERIOD_ENDED', 'OPTED_OUT', 'RE_MIGRATED', 'DECEASED'];
const QUARTERS = ['2025-Q1', '2025-Q2', '2025-Q3', '2025-Q4', '2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4'];
const KINDS = ['TRAINING', 'MATERIALS', 'BUSINESS_PLAN', 'SERVICE'];

const random = mulberry32(20261128);
/** Skewed choice: early values common, late ones rare (so there are small cells to attack). */
const skewed = <T>(values: readonly T[]): T => values[Math.min(values.length - 1, Math.floor(values.length * random() ** 1.8))]!;

type TestCase = {
  id: string;
  MEMBER_STATE: string;
  ORIGIN_COUNTRY: string;
  PROGRAMME: string;
  RETURN_TYPE: string;
  STATUS: string;
  CLOSURE_REASON: string;
  QUARTER: string;
  kind: string;
  spentEur: number;
  persons: number;
};

const cases: TestCase[] = Array.from({ length: N }, (_, i) => {
  const [programme, returnType] = skewed(PROGRAMMES);
  const status = skewed(STATUSES);
  return {
    id: `attack-${String(i).padStart(4, '0')}`,
    MEMBER_STATE: skewed(MEMBER_STATES),
    ORIGIN_COUNTRY: skewed(ORIGINS),
    PROGRAMME: programme,
    RETURN_TYPE: returnType,
    STATUS: status,
    CLOSURE_REASON: status === 'CLOSED' ? skewed(CLOSURES) : 'NONE',
    QUARTER: QUARTERS[Math.floor(random() * QUARTERS.length)]!,
    kind: skewed(KINDS),
    spentEur: 10_000 + Math.floor(random() * 190_000),
    persons: 1 + Math.floor(random() * 4),
  };
});

type Filter = {
  memberStates?: string[];
  originCountries?: string[];
  programmes?: string[];
  statuses?: string[];
  returnType?: string;
  quarterFrom?: string;
  quarterTo?: string;
};
type Coords = Record<string, string>;
type Cell = { coordinates: { dimension: string; value: string }[]; caseCount: number; actualEur: { amount: number } };
type Method = {
  countPerturbation: { trueValue: number; noise: { noise: number; probability: number }[] }[];
  threshold: number;
  countVariancePerCase: number;
  magnitudeShare: number;
  exactRecoveryBound: number;
};

const matches = (c: TestCase, filter: Filter, coords: Coords) =>
  (!filter.memberStates || filter.memberStates.includes(c.MEMBER_STATE)) &&
  (!filter.originCountries || filter.originCountries.includes(c.ORIGIN_COUNTRY)) &&
  (!filter.programmes || filter.programmes.includes(c.PROGRAMME)) &&
  (!filter.statuses || filter.statuses.includes(c.STATUS)) &&
  (!filter.returnType || filter.returnType === c.RETURN_TYPE) &&
  (!filter.quarterFrom || c.QUARTER >= filter.quarterFrom) &&
  (!filter.quarterTo || c.QUARTER <= filter.quarterTo) &&
  Object.entries(coords).every(([d, v]) => (d === 'COMPONENT_KIND' ? c.kind : c[d as keyof TestCase]) === v);

/** The finest cells of a set of cases: those sharing every attribute a table can group or filter by. */
function finestCells(of: TestCase[]): { count: number; topEur: number }[] {
  const cells = new Map<string, { count: number; topEur: number }>();
  for (const c of of) {
    const key = [
      c.MEMBER_STATE,
      c.ORIGIN_COUNTRY,
      c.PROGRAMME,
      c.RETURN_TYPE,
      c.STATUS,
      c.CLOSURE_REASON,
      c.QUARTER,
      c.kind,
    ].join('|');
    const cell = cells.get(key) ?? { count: 0, topEur: 0 };
    cell.count += 1;
    cell.topEur = Math.max(cell.topEur, c.spentEur);
    cells.set(key, cell);
  }
  return [...cells.values()];
}

type Truth = { count: number; eur: number; finest: { count: number; topEur: number }[] };
function truth(filter: Filter, coords: Coords): Truth {
  const of = cases.filter((c) => matches(c, filter, coords));
  return { count: of.length, eur: of.reduce((s, c) => s + c.spentEur, 0), finest: finestCells(of) };
}

/** The distribution of the summed count noise of these finest cells, from the published table. */
function noiseDistribution(method: Method, finest: { count: number }[]): Map<number, number> {
  let dist = new Map([[0, 1]]);
  for (const { count } of finest) {
    const row = method.countPerturbation.findLast((r) => count >= r.trueValue)!;
    const next = new Map<number, number>();
    for (const [sum, p] of dist)
      for (const { noise, probability } of row.noise) next.set(sum + noise, (next.get(sum + noise) ?? 0) + p * probability);
    dist = next;
  }
  return dist;
}

/**
 * The most exact recoveries chance allows: the smallest h with P(X > h) ≤ alpha, X the
 * number of successes of independent trials with these probabilities (Poisson-binomial).
 */
function chanceLimit(probabilities: number[], alpha = 1e-6): number {
  let dist = [1];
  for (const p of probabilities) {
    const next = new Array<number>(dist.length + 1).fill(0);
    dist.forEach((q, k) => {
      next[k] = next[k]! + q * (1 - p);
      next[k + 1] = next[k + 1]! + q * p;
    });
    dist = next;
  }
  let tail = 1;
  for (let h = 0; h < dist.length; h += 1) {
    tail -= dist[h]!;
    if (tail <= alpha) return h;
  }
  return dist.length - 1;
}

/** A cell an attack derives: its estimate and the truth (`cell` names it within its attack). */
type Target = {
  estimate: number;
  truth: Truth;
  /** The cell it was derived for (its coordinates), to pair derivations of one cell. */
  cell?: string;
  /**
   * Targets of one group hold disjoint sets of cases, so their noises are independent (a cell
   * and its margin share cases: they go to different groups).
   */
  group?: string;
};

let gw: TestGateway;
let method: Method;
let tablesAsked = 0;
const tables = new Map<string, Promise<Map<string, Cell>>>();
/** Every listed cell of every table asked, with its request, for the accuracy check. */
const seen: { filter: Filter; coords: Coords; cell: Cell }[] = [];
const asked: { groupBy: string[]; filter: Filter; cells: Map<string, Cell> }[] = [];

const keyOf = (coords: Coords) => JSON.stringify(Object.entries(coords).sort());

/**
 * A read sent again when the connection dropped under it: hundreds of requests on a loaded
 * machine meet the race of a kept-alive socket closed by the server as the client reuses it.
 */
async function withRetry<T>(read: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i += 1) {
    try {
      return await read();
    } catch (error) {
      if (i >= attempts || !(error instanceof TypeError && error.message === 'fetch failed')) throw error;
    }
  }
}

/** One table (listed cells and margins by coordinates), asked once per distinct request. */
function table(groupBy: string[], filter: Filter): Promise<Map<string, Cell>> {
  const id = JSON.stringify([groupBy, filter]);
  let pending = tables.get(id);
  if (!pending) {
    pending = (async () => {
      tablesAsked += 1;
      const { statistics } = await withRetry(() =>
        gw.as('EMN-REG', 'reg-analyst').ok<{ statistics: { cells: Cell[]; totals: Cell[] } }>(
          `query ($g: [StatisticsDimension!]!, $f: StatisticsFilter) { statistics(groupBy: $g, filter: $f) {
          cells { coordinates { dimension value } caseCount actualEur { amount } }
          totals { coordinates { dimension value } caseCount actualEur { amount } } } }`,
          { g: groupBy, f: filter },
        ),
      );
      const out = new Map<string, Cell>();
      for (const cell of [...statistics.cells, ...statistics.totals]) {
        const coords = Object.fromEntries(cell.coordinates.map((c) => [c.dimension, c.value]));
        out.set(keyOf(coords), cell);
        seen.push({ filter, coords, cell });
      }
      asked.push({ groupBy, filter, cells: out });
      return out;
    })();
    tables.set(id, pending);
  }
  return pending;
}

/**
 * Asserts that exact recoveries stay within chance in every group of independent targets, and
 * reports the totals.
 */
function assertWithinChance(name: string, targets: Target[]) {
  const groups = new Map<string, Target[]>();
  for (const t of targets) groups.set(t.group ?? '', [...(groups.get(t.group ?? '') ?? []), t]);
  let hits = 0;
  let expected = 0;
  for (const [group, members] of groups) {
    const probabilities = members.map((t) => noiseDistribution(method, t.truth.finest).get(0) ?? 0);
    const groupHits = members.filter((t) => Math.round(t.estimate) === t.truth.count).length;
    expect(groupHits, `${name} ${group}`).toBeLessThanOrEqual(chanceLimit(probabilities));
    hits += groupHits;
    expected += probabilities.reduce((a, b) => a + b, 0);
  }
  console.info(
    `${name}: ${hits} of ${targets.length} recovered exactly (${groups.size} groups, each within its chance limit); chance expects ${expected.toFixed(1)}`,
  );
  expect(targets.length, `${name}: enough targets to judge`).toBeGreaterThanOrEqual(20);
}

beforeAll(async () => {
  gw = await startGateway({ env: { ERIN_STATS_BUDGET: '100000' } });
  const db = await gw.raw();
  await db.collection('cases').insertMany(
    cases.map((c) => ({
      _id: c.id as never,
      memberState: c.MEMBER_STATE,
      originCountry: c.ORIGIN_COUNTRY,
      programme: c.PROGRAMME,
      returnType: c.RETURN_TYPE,
      status: c.STATUS,
      closureReason: c.CLOSURE_REASON === 'NONE' ? null : c.CLOSURE_REASON,
      arrivedOn: `${c.QUARTER.slice(0, 4)}-${String((Number(c.QUARTER.slice(6)) - 1) * 3 + 2).padStart(2, '0')}-15`,
      createdAt: new Date('2025-01-01T00:00:00Z'),
      household: Array.from({ length: c.persons }, () => ({ yearOfBirth: 1990, gender: 'FEMALE', relation: 'PRINCIPAL' })),
      planInForce: null,
      actualEur: c.spentEur,
      spend: [{ componentId: 'c1', kind: c.kind, actualEur: c.spentEur }],
      latestScores: null,
    })),
  );
  const { statistics } = await gw.as('EMN-REG', 'reg-analyst').ok<{ statistics: { method: Method } }>(
    `{ statistics(groupBy: [PROGRAMME]) { method { threshold countVariancePerCase magnitudeShare exactRecoveryBound
        countPerturbation { trueValue noise { noise probability } } } } }`,
  );
  method = statistics.method;
}, 120_000);
afterAll(async () => {
  await gw?.close();
});

/** The filterable dimensions: the filter field, the dimension it filters and its values. */
const FILTERABLE: { field: keyof Filter; dimension: string; values: string[] }[] = [
  { field: 'memberStates', dimension: 'MEMBER_STATE', values: MEMBER_STATES },
  { field: 'originCountries', dimension: 'ORIGIN_COUNTRY', values: ORIGINS },
  { field: 'programmes', dimension: 'PROGRAMME', values: PROGRAMMES.map(([p]) => p) },
  { field: 'statuses', dimension: 'STATUS', values: STATUSES },
];
const DOMAIN: Record<string, string[]> = {
  MEMBER_STATE: MEMBER_STATES,
  ORIGIN_COUNTRY: ORIGINS,
  STATUS: STATUSES,
  QUARTER: QUARTERS,
  CLOSURE_REASON: ['NONE', ...CLOSURES],
};

/** Every cell of a table over these dimensions, its margins included (the grand total first). */
function cellsOf(groupBy: string[]): Coords[] {
  let out: Coords[] = [{}];
  for (const d of groupBy) out = out.flatMap((c) => [c, ...DOMAIN[d]!.map((v) => ({ ...c, [d]: v }))]);
  return out;
}

/** Asks for many tables at once, a few at a time. */
async function prefetch(requests: [string[], Filter][]): Promise<void> {
  const queue = [...requests];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await table(...next);
    }),
  );
}

/**
 * Targets of `with − without`, cell by cell (margins included). A cell missing from the
 * smaller table may be read as 0 when `absentIsZero` (the attacker knows it is small).
 */
async function difference(
  groupBy: string[],
  withFilter: Filter,
  withoutFilter: Filter,
  targetOf: (coords: Coords) => Truth,
  absentIsZero = false,
): Promise<Target[]> {
  const [withTable, withoutTable] = await Promise.all([table(groupBy, withFilter), table(groupBy, withoutFilter)]);
  const targets: Target[] = [];
  for (const coords of cellsOf(groupBy)) {
    const a = withTable.get(keyOf(coords));
    const b = withoutTable.get(keyOf(coords));
    const t = targetOf(coords);
    if (t.count === 0 || !a || (!b && !absentIsZero)) continue;
    const cell = keyOf(coords);
    targets.push({
      estimate: a.caseCount - (b?.caseCount ?? 0),
      truth: t,
      cell,
      group: `${groupBy.join(',')}:${Object.keys(coords).sort().join(',')}`,
    });
  }
  return targets;
}

describe('attacks on the statistics', () => {
  it('differencing by one filter value along every filterable dimension recovers no more than chance', async () => {
    const plans = FILTERABLE.map(({ field, dimension, values }) => ({
      field,
      dimension,
      values,
      groupBy: ['ORIGIN_COUNTRY', 'STATUS', 'CLOSURE_REASON'].filter((d) => d !== dimension).slice(0, 2),
    }));
    await prefetch(
      plans.flatMap(({ field, values, groupBy }) => [
        [groupBy, { [field]: values }] as [string[], Filter],
        ...values.map((value) => [groupBy, { [field]: values.filter((v) => v !== value) }] as [string[], Filter]),
      ]),
    );
    for (const { field, dimension, values, groupBy } of plans) {
      const targets: Target[] = [];
      const control: Target[] = [];
      for (const value of values) {
        const withFilter = { [field]: values };
        const withoutFilter = { [field]: values.filter((v) => v !== value) };
        const targetOf = (coords: Coords) => truth({}, { ...coords, [dimension]: value });
        targets.push(...(await difference(groupBy, withFilter, withoutFilter, targetOf)));
        // Control: the same subtraction on true figures (cells under the threshold withheld) is exact.
        for (const coords of cellsOf(groupBy)) {
          const all = truth(withFilter, coords).count;
          const rest = truth(withoutFilter, coords).count;
          const t = targetOf(coords);
          if (t.count > 0 && all >= method.threshold && rest >= method.threshold)
            control.push({ estimate: all - rest, truth: t });
        }
      }
      assertWithinChance(`differencing ${field}`, targets);
      expect(control.every((t) => t.estimate === t.truth.count)).toBe(true);
      expect(control.length, `control ${field}`).toBeGreaterThanOrEqual(20);
    }
    // The return type has two values: the table without a filter minus the table of the other one.
    const byType: Target[] = [];
    for (const groupBy of [
      ['MEMBER_STATE', 'ORIGIN_COUNTRY'],
      ['STATUS', 'QUARTER'],
    ]) {
      for (const [type, other] of [
        ['VOLUNTARY', 'NON_VOLUNTARY'],
        ['NON_VOLUNTARY', 'VOLUNTARY'],
      ] as const) {
        byType.push(
          ...(await difference(groupBy, {}, { returnType: other }, (coords) => truth({ returnType: type }, coords), true)),
        );
      }
    }
    assertWithinChance('differencing returnType', byType);
  }, 600_000);

  it('differencing by quarter ranges recovers no more than chance, alone or averaged', async () => {
    const groupBy = ['MEMBER_STATE', 'ORIGIN_COUNTRY'];
    const first = QUARTERS[0]!;
    const last = QUARTERS.at(-1)!;
    await prefetch(
      QUARTERS.flatMap((q) => [
        [groupBy, { quarterFrom: first, quarterTo: q }] as [string[], Filter],
        [groupBy, { quarterFrom: q, quarterTo: last }] as [string[], Filter],
      ]),
    );
    const upTo: Target[] = [];
    const from: Target[] = [];
    const averaged: Target[] = [];
    for (const [i, q] of QUARTERS.entries()) {
      const targetOf = (coords: Coords) => truth({ quarterFrom: q, quarterTo: q }, coords);
      const a =
        i > 0
          ? await difference(
              groupBy,
              { quarterFrom: first, quarterTo: q },
              { quarterFrom: first, quarterTo: QUARTERS[i - 1] },
              targetOf,
            )
          : [];
      const b =
        i < QUARTERS.length - 1
          ? await difference(
              groupBy,
              { quarterFrom: q, quarterTo: last },
              { quarterFrom: QUARTERS[i + 1], quarterTo: last },
              targetOf,
            )
          : [];
      upTo.push(...a);
      from.push(...b);
      const fromByCell = new Map(b.map((u) => [u.cell, u]));
      for (const t of a) {
        const other = fromByCell.get(t.cell);
        if (other) averaged.push({ estimate: (t.estimate + other.estimate) / 2, truth: t.truth, group: t.group! });
      }
    }
    assertWithinChance('quarters: up to q minus up to q−1', upTo);
    assertWithinChance('quarters: from q minus from q+1', from);
    assertWithinChance('quarters: both, averaged', averaged);
  }, 600_000);

  it('averaging one cell over many different pairs of tables gains nothing: every pair gives the same figure', async () => {
    // Eight pairs through the gateway (every one gives the same figure, so more would show
    // nothing more); the control, computed here, averages 64.
    const PAIRS = 8;
    const CONTROL_PAIRS = 64;
    const pairRandom = mulberry32(7);
    const draw = (n: number) => Array.from({ length: n }, () => MEMBER_STATES.filter(() => pairRandom() < 0.5));
    const subsets = draw(PAIRS);
    const controlSubsets = draw(CONTROL_PAIRS);
    const pair = (subset: string[], m: string): [Filter, Filter | null] => {
      const without = subset.filter((s) => s !== m);
      return [{ memberStates: [...without, m].sort() }, without.length > 0 ? { memberStates: without.sort() } : null];
    };
    await prefetch(
      MEMBER_STATES.flatMap((m) =>
        subsets.flatMap((subset) => pair(subset, m).flatMap((f) => (f ? [[['ORIGIN_COUNTRY'], f] as [string[], Filter]] : []))),
      ),
    );
    const targets: Target[] = [];
    const classic: Target[] = [];
    const classicKeys = new Map(cases.map((c) => [c.id, Math.floor(Math.random() * 2 ** 32)]));
    /** What a cell key method drawing noise per published cell (TableBuilder's) would show. */
    const classicFigure = (filter: Filter | null, coords: Coords): number | undefined => {
      if (!filter) return 0;
      const of = cases.filter((c) => matches(c, filter, coords));
      if (of.length === 0) return undefined;
      const key = of.reduce((k, c) => (k + classicKeys.get(c.id)!) % 2 ** 32, 0);
      const row = method.countPerturbation.findLast((r) => of.length >= r.trueValue)!;
      let cumulative = 0;
      let noise = row.noise.at(-1)!.noise;
      for (const n of row.noise) {
        cumulative += n.probability;
        if (key / 2 ** 32 < cumulative) {
          noise = n.noise;
          break;
        }
      }
      return of.length + noise >= method.threshold ? of.length + noise : undefined;
    };
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    for (const m of MEMBER_STATES) {
      for (const origin of ORIGINS) {
        const coords = { ORIGIN_COUNTRY: origin };
        const t = truth({}, { ...coords, MEMBER_STATE: m });
        if (t.count === 0) continue;
        const estimates: number[] = [];
        const classicEstimates: number[] = [];
        for (const subset of subsets) {
          const [withM, withoutM] = pair(subset, m);
          const a = (await table(['ORIGIN_COUNTRY'], withM)).get(keyOf(coords));
          const b = withoutM ? (await table(['ORIGIN_COUNTRY'], withoutM)).get(keyOf(coords)) : { caseCount: 0 };
          if (a && b) estimates.push(a.caseCount - b.caseCount);
        }
        for (const subset of controlSubsets) {
          const [withM, withoutM] = pair(subset, m);
          const ca = classicFigure(withM, coords);
          const cb = classicFigure(withoutM, coords);
          if (ca !== undefined && cb !== undefined) classicEstimates.push(ca - cb);
        }
        // The noise does not shrink: every derivation is the sum of the same protected finest cells.
        expect(new Set(estimates).size, `${origin} ${m}`).toBeLessThanOrEqual(1);
        if (estimates.length > 0) targets.push({ estimate: mean(estimates), truth: t });
        if (classicEstimates.length >= CONTROL_PAIRS / 2) classic.push({ estimate: mean(classicEstimates), truth: t });
      }
    }
    assertWithinChance('averaging over pairs of tables', targets);
    // Control: against noise drawn per published cell (TableBuilder's), the same averaging recovers far more than chance.
    const classicProbabilities = classic.map((t) => noiseDistribution(method, t.truth.finest).get(0) ?? 0);
    const classicHits = classic.filter((t) => Math.round(t.estimate) === t.truth.count).length;
    console.info(
      `control, noise per published cell: ${classicHits} of ${classic.length} recovered; chance allows ≤ ${chanceLimit(classicProbabilities)}`,
    );
    expect(classicHits).toBeGreaterThan(chanceLimit(classicProbabilities));
  }, 600_000);

  it('every listed figure is within the documented error of the truth, and nothing under the threshold is listed', () => {
    expect(seen.length).toBeGreaterThan(1000);
    let checked = 0;
    for (const { filter, coords, cell } of seen) {
      const t = truth(filter, coords);
      const error = cell.caseCount - t.count;
      expect(cell.caseCount).toBeGreaterThanOrEqual(method.threshold);
      // Hard bound: each finest cell moves by at most its row's widest noise.
      const widest = t.finest.reduce(
        (s, f) =>
          s + Math.max(...method.countPerturbation.findLast((r) => f.count >= r.trueValue)!.noise.map((n) => Math.abs(n.noise))),
        0,
      );
      expect(Math.abs(error), JSON.stringify({ filter, coords })).toBeLessThanOrEqual(widest);
      // Documented: standard deviation at most √(countVariancePerCase × count); five of them is a one-in-a-million miss.
      if (t.count >= method.threshold) {
        expect(Math.abs(error)).toBeLessThanOrEqual(5 * Math.sqrt(method.countVariancePerCase * t.count));
        checked += 1;
      }
      // EUR: within magnitudeShare of each finest cell's largest contribution, never exact.
      const eurBound = t.finest.reduce((s, f) => s + method.magnitudeShare * f.topEur, 0) + 1;
      expect(Math.abs(cell.actualEur.amount - t.eur)).toBeLessThanOrEqual(eurBound);
      if (t.finest.length === 1)
        expect(Math.abs(cell.actualEur.amount - t.eur)).toBeGreaterThanOrEqual(0.1 * t.finest[0]!.topEur - 1);
    }
    console.info(`${tablesAsked} tables asked; ${checked} listed figures of at least the threshold checked`);
    // A figure far enough above the threshold (by five standard deviations of its error) is always listed.
    let sure = 0;
    for (const { groupBy, filter, cells } of asked) {
      for (const coords of cellsOf(groupBy)) {
        const { count } = truth(filter, coords);
        if (count - 5 * Math.sqrt(method.countVariancePerCase * count) < method.threshold) continue;
        expect(cells.has(keyOf(coords)), JSON.stringify({ filter, coords, count })).toBe(true);
        sure += 1;
      }
    }
    expect(sure).toBeGreaterThan(100);
  });
});
