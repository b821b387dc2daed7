// Monthly releases (src/modules/statistics/releases.ts, docs/statistics.md "Releases"): an
// analyst who knows that one person's case changed today compares today's table with
// yesterday's to see which cell moved. Tables of one month are computed from one snapshot, so
// they show nothing; the next month's release counts the whole month's changes at once. Two
// gateways taking the month's release at once end with one snapshot, and an erasure does not
// retake the month's release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { CHUNK_CELLS } from '../src/modules/statistics/releases.ts';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';
import { nextRelease } from './helpers/releases.ts';
import { backgroundJobs } from '../src/services.ts';

const TABLE = `query ($g: [StatisticsDimension!]!, $f: StatisticsFilter) { statistics(groupBy: $g, filter: $f) {
  asOf generatedAt
  cells { coordinates { dimension value } caseCount persons plannedEur { amount } actualEur { amount } }
  totals { coordinates { dimension value } caseCount persons plannedEur { amount } actualEur { amount } } } }`;
type Cell = { coordinates: { dimension: string; value: string }[]; caseCount: number };
type Table = { statistics: { asOf: string; generatedAt: string; cells: Cell[]; totals: Cell[] } };
/** What a table publishes about the cases (not when it was generated). */
const figures = (t: Table) => JSON.stringify({ asOf: t.statistics.asOf, cells: t.statistics.cells, totals: t.statistics.totals });

type StoredCell = { attributes: Record<string, string>; count: number };
type Header = { _id: string; snapshotId: string; asOf: Date; cells: number; chunks: number };

/** Every stored release and the finest cells of its snapshot, as the raw store holds them. */
async function stored(db: Db) {
  const headers = (await db.collection('statistics_releases').find({}).toArray()) as unknown as Header[];
  const chunks = await db.collection('statistics_snapshot_chunks').find({}).toArray();
  return {
    headers,
    snapshotIds: new Set(chunks.map((c) => c.snapshotId as string)),
    cellsOf: (snapshotId: string) => chunks.filter((c) => c.snapshotId === snapshotId).flatMap((c) => c.cells as StoredCell[]),
  };
}

describe('tables of one month', () => {
  const clock = clockAt('2026-11-10T10:00:00Z');
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ clock });
  });
  afterAll(async () => {
    await gw?.close();
  });

  it("do not show a known person's case closing that month; the next month's release counts it", async () => {
    const cases = [];
    for (let i = 0; i < 9; i += 1) cases.push(await workflow(gw).create({ originCountry: 'AF' }));
    // Clients are made per call: their tokens are issued on the gateway's clock, which moves.
    const ask = () =>
      gw.as('EMN-REG', 'reg-analyst').ok<Table>(TABLE, { g: ['STATUS', 'CLOSURE_REASON'], f: { memberStates: ['NL'] } });
    const before = await ask();
    expect(before.statistics.cells.length).toBeGreaterThan(0);
    const firstTable = clock.now();

    // The person the analyst knows: the case is closed a few days later, opting out.
    clock.advance(5 * 86_400_000);
    await workflow(gw).close(cases[4]!, 'OPTED_OUT');
    clock.advance(86_400_000);
    const sameMonth = await ask();
    // Every figure and which cells are listed: as before, counted from the same snapshot.
    expect(figures(sameMonth)).toBe(figures(before));
    expect(sameMonth.statistics.generatedAt).not.toBe(before.statistics.generatedAt);
    // Both count the cases as they stood at the month's first table.
    expect(new Date(sameMonth.statistics.asOf).getTime()).toBe(firstTable.getTime());

    // December's release counts the cases as they stand at its first table: the closure is in it.
    const december = nextRelease(clock);
    const after = await ask();
    expect(after.statistics.asOf).toBe(december.toISOString());
    const { headers, cellsOf } = await stored(await gw.raw());
    expect(headers.map((h) => h._id)).toEqual(['2026-12']);
    const closed = cellsOf(headers[0]!.snapshotId).filter(
      (c) => c.attributes.MEMBER_STATE === 'NL' && c.attributes.STATUS === 'CLOSED',
    );
    expect(closed.map((c) => [c.attributes.CLOSURE_REASON, c.count])).toEqual([['OPTED_OUT', 1]]);
  });

  it('are counted from a snapshot the release job takes as the month begins, not when the first analyst chooses to ask', async () => {
    const job = backgroundJobs(gw.services).find((j) => j.name === 'statistics-release')!;
    const january = nextRelease(clock);
    expect(await gw.services.jobs.tick(job)).toBe(true);
    // An analyst who wants the snapshot taken right after a known person's change, late in the
    // month, asks for the month's first table then: it still counts the cases as they stood at its start.
    clock.advance(20 * 86_400_000);
    const { edges } = (
      await gw
        .as('NL', 'caseworker')
        .ok<{ cases: { edges: { node: { id: string; version: number; status: string } }[] } }>(
          '{ cases(first: 50) { edges { node { id version status } } } }',
        )
    ).cases;
    const open = edges.map((e) => e.node).find((c) => c.status === 'DRAFT')!;
    await workflow(gw).close({ id: open.id, version: open.version } as never, 'OPTED_OUT');
    clock.advance(60_000);
    const table = await gw.as('EMN-REG', 'reg-analyst').ok<Table>(TABLE, { g: ['STATUS'], f: { memberStates: ['NL'] } });
    expect(table.statistics.asOf).toBe(january.toISOString());
  });
});

describe('two gateways on one store drawing the first table of a month at once', () => {
  // More finest cells than one chunk holds: the snapshot is stored in several.
  const CELLS = Math.floor(CHUNK_CELLS * 2.5);
  const clocks = [clockAt('2026-11-28T10:00:00Z'), clockAt('2026-11-28T10:00:00Z')];
  let first: TestGateway;
  let second: TestGateway;
  beforeAll(async () => {
    first = await startGateway({ clock: clocks[0] });
    second = await startGateway({ clock: clocks[1], dbName: first.dbName, dataDir: first.dataDir, seed: false });
    const statuses = ['REFERRED', 'ACCEPTED', 'ARRIVED', 'PLAN_APPROVED', 'CLOSED'];
    const origins = Array.from({ length: 26 * 26 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
    // Every case a finest cell of its own (origin × status), plus eight cases in one cell of NL.
    const raw = (id: string, origin: string, status: string, memberState = 'BE') => ({
      _id: id as never,
      memberState,
      originCountry: origin,
      programme: 'EURP-VOL',
      returnType: 'VOLUNTARY',
      status,
      closureReason: status === 'CLOSED' ? 'OPTED_OUT' : null,
      arrivedOn: '2026-08-15',
      createdAt: new Date('2026-01-01T00:00:00Z'),
      household: [{ yearOfBirth: 1990, gender: 'FEMALE', relation: 'PRINCIPAL' }],
      planInForce: null,
      actualEur: 0,
      spend: [],
      latestScores: null,
    });
    const cases = Array.from({ length: CELLS - 1 }, (_, i) =>
      raw(`many-${i}`, origins[i % origins.length]!, statuses[Math.floor(i / origins.length)]!),
    );
    for (let i = 0; i < 8; i += 1) cases.push(raw(`crowd-${i}`, 'AF', 'ARRIVED', 'NL'));
    await (await first.raw()).collection('cases').insertMany(cases);
  }, 120_000);
  afterAll(async () => {
    await second?.close({ keepData: true });
    await first?.close();
  });

  it('get identical tables, and exactly one snapshot is stored', async () => {
    // Tokens are issued on the gateways' clocks, which move: clients are made per round.
    const analysts = () => [
      first.as('EMN-REG', 'reg-analyst', 'analyst-a'),
      second.as('EMN-REG', 'reg-analyst', 'analyst-b'),
      first.as('ERIN-NET', 'network-admin'),
      second.as('ERIN-NET', 'network-admin'),
    ];
    const tables = await Promise.all(analysts().map((a) => a.ok<Table>(TABLE, { g: ['MEMBER_STATE', 'STATUS'] })));
    expect(new Set(tables.map(figures)).size).toBe(1);
    expect(tables[0]!.statistics.totals.length).toBeGreaterThan(0);

    const db = await first.raw();
    const { headers, snapshotIds, cellsOf } = await stored(db);
    expect(headers).toHaveLength(1);
    expect(headers[0]).toMatchObject({ _id: '2026-11', cells: CELLS, chunks: Math.ceil(CELLS / CHUNK_CELLS) });
    // The losers deleted their chunks: only the winner's snapshot is stored, whole.
    expect([...snapshotIds]).toEqual([headers[0]!.snapshotId]);
    expect(cellsOf(headers[0]!.snapshotId)).toHaveLength(CELLS);
    expect(cellsOf(headers[0]!.snapshotId).reduce((n, c) => n + c.count, 0)).toBe(CELLS - 1 + 8);

    // Later that month, after a case changed, both gateways still answer from that snapshot.
    await db
      .collection('cases')
      .updateOne({ _id: 'crowd-0' as never }, { $set: { status: 'CLOSED', closureReason: 'OPTED_OUT' } });
    for (const clock of clocks) clock.advance(86_400_000);
    const later = await Promise.all(
      analysts()
        .slice(1, 3)
        .map((a) => a.ok<Table>(TABLE, { g: ['MEMBER_STATE', 'STATUS'] })),
    );
    for (const table of later) expect(figures(table)).toBe(figures(tables[0]!));
    expect((await stored(db)).headers).toHaveLength(1);

    // December: one new snapshot replaces November's.
    for (const clock of clocks) nextRelease(clock);
    const december = await Promise.all(analysts().map((a) => a.ok<Table>(TABLE, { g: ['MEMBER_STATE', 'STATUS'] })));
    expect(new Set(december.map(figures)).size).toBe(1);
    const now = await stored(db);
    expect(now.headers.map((h) => h._id)).toEqual(['2026-12']);
    expect([...now.snapshotIds]).toEqual([now.headers[0]!.snapshotId]);
    const crowd = now.cellsOf(now.headers[0]!.snapshotId).filter((c) => c.attributes.MEMBER_STATE === 'NL');
    expect(crowd.map((c) => [c.attributes.STATUS, c.count]).sort()).toEqual([
      ['ARRIVED', 7],
      ['CLOSED', 1],
    ]);

    // A take that stopped before claiming (a crash) leaves chunks no header names: housekeeping
    // deletes them once they are a day old, never the release's own.
    await db.collection('statistics_snapshot_chunks').insertOne({
      _id: 'crashed:0' as never,
      snapshotId: 'crashed',
      n: 0,
      cells: [],
      createdAt: new Date(clocks[0]!.now().getTime() - 2 * 86_400_000),
    });
    await first.services.statistics.purgeUnclaimedSnapshots();
    const purged = await stored(db);
    expect([...purged.snapshotIds]).toEqual([now.headers[0]!.snapshotId]);
    expect(purged.cellsOf(now.headers[0]!.snapshotId)).toHaveLength(now.headers[0]!.cells);
  }, 120_000);
});

describe('an erasure', () => {
  const clock = clockAt('2026-11-10T10:00:00Z');
  let gw: TestGateway;
  let other: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ clock });
    // A second gateway on the same store, which keeps the release it read in memory.
    other = await startGateway({ clock, dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
  });
  afterAll(async () => {
    await other?.close({ keepData: true });
    await gw?.close();
  });

  it('does not retake the month’s release: its tables stay as they were on every gateway, and the next month counts the erased case as it stands', async () => {
    const cases = [];
    for (let i = 0; i < 7; i += 1) cases.push(await workflow(gw).create({ originCountry: 'AF' }));
    const ask = (on: TestGateway) =>
      on.as('EMN-REG', 'reg-analyst').ok<Table>(TABLE, { g: ['STATUS'], f: { memberStates: ['NL'] } });
    const before = await ask(other);
    expect(figures(await ask(gw))).toBe(figures(before));
    const db = await gw.raw();
    const taken = (await stored(db)).headers;
    expect(taken).toHaveLength(1);

    // A case is referred, then erased (by its member state, or by the hourly retention job):
    // a release retaken at each erasure would show the month's changes so far, one case's at a time.
    clock.advance(86_400_000);
    const referred = await workflow(gw).refer(cases[2]!);
    clock.advance(86_400_000);
    await gw.as('NL', 'coordinator').ok(`mutation ($id: ID!) { eraseCase(caseId: $id, reason: SUBJECT_REQUEST) { id } }`, {
      id: referred.id,
    });
    clock.advance(60_000);
    expect(figures(await ask(other))).toBe(figures(before));
    expect(figures(await ask(gw))).toBe(figures(before));
    expect((await stored(db)).headers).toEqual(taken);

    // The next month's release counts the erased case with what erasure keeps of it (its status).
    nextRelease(clock);
    const next = await ask(other);
    expect(next.statistics.asOf).not.toBe(before.statistics.asOf);
    const now = await stored(db);
    expect(now.headers).toHaveLength(1);
    expect(now.snapshotIds.has(taken[0]!.snapshotId)).toBe(false);
    const nl = now
      .cellsOf(now.headers[0]!.snapshotId)
      .filter((c) => c.attributes.MEMBER_STATE === 'NL')
      .map((c) => [c.attributes.STATUS, c.count])
      .sort();
    expect(nl).toEqual([
      ['DRAFT', 6],
      ['REFERRED', 1],
    ]);
  });
});
