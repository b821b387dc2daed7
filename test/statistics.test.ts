// Statistics for the Return Experts Group: figures, never files. Small cells are
// suppressed, and so is whatever would let one be computed back from the totals.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, trainingComponent, workflow } from './helpers/factories.ts';

const run = promisify(execFile);

let gw: TestGateway;
const created: { id: string; reference: string }[] = [];

// Cases registered after return, by country and quarter of arrival.
const PLAN: [country: string, partner: string, arrivedOn: string, count: number][] = [
  ['AF', 'P-AF-HOPE', '2026-08-14', 6],
  ['AF', 'P-AF-HOPE', '2026-11-03', 3],
  ['IQ', 'P-IQ-TIGRIS', '2026-08-20', 5],
  ['IQ', 'P-IQ-TIGRIS', '2026-10-12', 7],
];

beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
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
    groupBy threshold
    cells { coordinates { dimension value } suppressed caseCount persons plannedEur { amount } }
    totals { coordinates { dimension value } suppressed caseCount persons plannedEur { amount } }
  } }`;

type Cell = {
  coordinates: { dimension: string; value: string }[];
  suppressed: boolean;
  caseCount: number | null;
  persons: number | null;
  plannedEur: { amount: number } | null;
};
type Table = { statistics: { cells: Cell[]; totals: Cell[]; threshold: number } };

const at = (cell: Cell) => Object.fromEntries(cell.coordinates.map((c) => [c.dimension, c.value]));

/**
 * Every value a suppressed cell can take, given everything published: all non-negative
 * integer assignments of the suppressed cells of a two-way table that satisfy each row
 * and column sum. Brute force, independent of the gateway's algorithm.
 */
function possibleValues(table: Table['statistics'], rowDim: string, colDim: string, target: Cell): Set<number> {
  const all = [...table.cells, ...table.totals];
  const key = (c: Cell) => `${at(c)[rowDim] ?? '*'}|${at(c)[colDim] ?? '*'}`;
  const byKey = new Map(all.map((c) => [key(c), c]));
  const rows = [...new Set(table.cells.map((c) => at(c)[rowDim]!))];
  const cols = [...new Set(table.cells.map((c) => at(c)[colDim]!))];
  const keys = [
    ...rows.flatMap((r) => cols.map((c) => `${r}|${c}`)),
    ...rows.map((r) => `${r}|*`),
    ...cols.map((c) => `*|${c}`),
    '*|*',
  ];
  const hidden = keys.filter((k) => byKey.get(k)?.suppressed);
  const bound = Math.max(...all.filter((c) => !c.suppressed).map((c) => c.caseCount!), 50);
  const value = (k: string, assign: Map<string, number>) =>
    byKey.has(k) ? (byKey.get(k)!.suppressed ? assign.get(k) : byKey.get(k)!.caseCount!) : 0;
  const consistent = (assign: Map<string, number>) => {
    const lines = [
      ...rows.map((r) => [`${r}|*`, ...cols.map((c) => `${r}|${c}`)]),
      ...cols.map((c) => [`*|${c}`, ...rows.map((r) => `${r}|${c}`)]),
      ['*|*', ...rows.map((r) => `${r}|*`)],
      ['*|*', ...cols.map((c) => `*|${c}`)],
    ];
    return lines.every(([total, ...parts]) => {
      const values = [total!, ...parts].map((k) => value(k, assign));
      if (values.some((v) => v === undefined)) return true;
      return values[0] === (values.slice(1) as number[]).reduce((a, b) => a + b, 0);
    });
  };
  const found = new Set<number>();
  const search = (i: number, assign: Map<string, number>) => {
    if (!consistent(assign)) return;
    if (i === hidden.length) {
      found.add(assign.get(key(target))!);
      return;
    }
    for (let v = 1; v <= bound; v += 1) {
      assign.set(hidden[i]!, v);
      search(i + 1, assign);
      assign.delete(hidden[i]!);
    }
  };
  search(0, new Map());
  return found;
}

describe('statistics', () => {
  it('a cell of 3 is suppressed and cannot be derived from the row or column totals', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst');
    const { statistics } = await reg.ok<Table>(TABLE, { groupBy: ['ORIGIN_COUNTRY', 'QUARTER'] });
    expect(statistics.threshold).toBe(5);
    const small = statistics.cells.find((c) => at(c).ORIGIN_COUNTRY === 'AF' && at(c).QUARTER === '2026-Q4')!;
    expect(small).toMatchObject({ suppressed: true, caseCount: null, persons: null, plannedEur: null });
    // In its row and in its column at least one other figure is withheld…
    const row = [...statistics.cells, ...statistics.totals].filter((c) => at(c).ORIGIN_COUNTRY === 'AF' && c !== small);
    const column = [...statistics.cells, ...statistics.totals].filter((c) => at(c).QUARTER === '2026-Q4' && c !== small);
    expect(row.some((c) => c.suppressed)).toBe(true);
    expect(column.some((c) => c.suppressed)).toBe(true);
    // …and no assignment of the published figures pins it down.
    expect(possibleValues(statistics, 'ORIGIN_COUNTRY', 'QUARTER', small).size).toBeGreaterThan(1);
    // What is published is right.
    const total = statistics.totals.find((c) => c.coordinates.length === 0)!;
    expect(total).toMatchObject({ suppressed: false, caseCount: 21 });
    const iq = statistics.totals.find((c) => at(c).ORIGIN_COUNTRY === 'IQ' && c.coordinates.length === 1)!;
    expect(iq).toMatchObject({ suppressed: false, caseCount: 12, persons: 12 + 3 + 4 });
  });

  it('nothing case-level comes out', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst');
    const r = await reg.ok<Table>(TABLE, { groupBy: ['MEMBER_STATE', 'ORIGIN_COUNTRY', 'QUARTER', 'STATUS'] });
    const text = JSON.stringify(r);
    for (const c of created) {
      expect(text).not.toContain(c.id);
      expect(text).not.toContain(c.reference);
    }
    expect(r.statistics.cells.every((c) => c.suppressed || c.caseCount! >= 5)).toBe(true);
  });

  it('planned EUR comes from the plans in force; component kind counts a case under each kind it has', async () => {
    const flow = workflow(gw, 'BE', 'P-MA-ATLAS');
    for (let i = 0; i < 5; i += 1) await flow.approved({ components: [trainingComponent(10_000)] }, { originCountry: 'MA' });
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { statistics } = await admin.ok<Table>(TABLE, {
      groupBy: ['COMPONENT_KIND'],
      filter: { memberStates: ['BE'] },
    });
    expect(statistics.cells.map((c) => [at(c).COMPONENT_KIND, c.caseCount, c.plannedEur?.amount])).toEqual([
      ['TRAINING', 5, 50_000],
    ]);
  });

  it('spend and sustainability scores count once progress reports carry them (read as absent before)', async () => {
    // The fields the progress module adds to a case: written here as it will write them.
    const db = await gw.raw();
    const be = await db
      .collection('cases')
      .find({ memberState: 'BE', planInForce: { $ne: null } })
      .toArray();
    expect(be).toHaveLength(5);
    for (const [i, c] of be.entries()) {
      await db.collection('cases').updateOne(
        { _id: c._id },
        {
          $set: {
            actualEur: 8_000,
            spend: [{ componentId: 'x', kind: 'TRAINING', actualEur: 8_000 }],
            latestScores: { economic: 0.5, social: 0.6, psychosocial: 0.7, composite: 0.6 + i / 100 },
          },
        },
      );
    }
    const query = `query ($f: StatisticsFilter) { statistics(groupBy: [COMPONENT_KIND], filter: $f) {
      cells { actualEur { amount } meanScores { economic social psychosocial composite } } } }`;
    const { statistics } = await gw
      .as('EMN-REG', 'reg-analyst')
      .ok<{ statistics: { cells: unknown[] } }>(query, { f: { memberStates: ['BE'] } });
    expect(statistics.cells).toEqual([
      { actualEur: { amount: 40_000 }, meanScores: { economic: 0.5, social: 0.6, psychosocial: 0.7, composite: 0.62 } },
    ]);
  });

  it('one statistics table per request', async () => {
    const r = await gw
      .as('EMN-REG', 'reg-analyst')
      .gql('{ a: statistics(groupBy: [ORIGIN_COUNTRY]) { threshold } b: statistics(groupBy: [QUARTER]) { threshold } }');
    expect(codes(r)).toContain('BAD_USER_INPUT');
    expect(r.data).toBeNull();
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

  it('`erin stats --group-by origin,quarter --format csv` exports the same table, logged as an export', async () => {
    const env = {
      ...process.env,
      LOG_LEVEL: 'silent',
      MONGODB_URI: `${inject('mongoUri')}${gw.dbName}`,
      ERIN_DATA_DIR: gw.dataDir,
    };
    const erin = path.resolve('bin/erin.js');
    const { stdout } = await run(process.execPath, [erin, 'stats', '--group-by', 'origin,quarter', '--format', 'csv'], { env });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'origin_country,quarter,case_count,persons,planned_eur,actual_eur,mean_economic,mean_social,mean_psychosocial,mean_composite,suppressed',
    );
    expect(lines).toContain('AF,2026-Q4,,,,,,,,,true');
    expect(lines.find((l) => l.startsWith('TOTAL,TOTAL,'))).toMatch(/^TOTAL,TOTAL,26,/);
    const json = await run(process.execPath, [erin, 'stats', '--group-by', 'origin', '--format', 'json'], { env });
    expect(JSON.parse(json.stdout)).toMatchObject({ groupBy: ['ORIGIN_COUNTRY'], threshold: 5 });
    const exports = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'StatisticsExported');
    expect(exports.filter((e) => e.data.channel === 'cli').map((e) => e.data.groupBy)).toEqual([
      ['ORIGIN_COUNTRY', 'QUARTER'],
      ['ORIGIN_COUNTRY'],
    ]);
  });
});
