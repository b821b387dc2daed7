// Evaluation extracts against a research body that sets two of them side by side. Each
// extract alone is k-anonymous; their difference must be too. Two extracts whose periods
// overlap (January–June and January–September), or the same period asked before and after a
// case joins it (a draft referred late) or changes (a case closed), differ by a handful of
// cases if each is built from the cases as they stand: the rows in one and not the other are
// those cases' rows, released alone. And exact counts would say how many cases that is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow, type CaseView } from './helpers/factories.ts';
import { approvedExtract, builtExtract, downloadExtract, extractCsv, rowDifference, type Period } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-03-20T09:00:00Z');
const K = 5;
const VARIABLES = ['AGE_GROUP', 'STATUS'];

let late: CaseView; // registered in the first quarter, still a draft when that quarter is first released
const firstQuarter: CaseView[] = [];

const extractOf = (period: Period) => extractCsv(gw, 'Differencing check', VARIABLES, period);
const counts = (period: Period) =>
  builtExtract<{ id: string; version: number; file: { rows: number; casesConsidered: number; suppressedRows: number } }>(
    gw,
    'Differencing check',
    VARIABLES,
    'id version file { rows casesConsidered suppressedRows }',
    period,
  );

/** Every row value the two extracts' difference holds is held by at least k of its rows. */
function expectNoRowReleasedAlone(a: Awaited<ReturnType<typeof extractOf>>, b: Awaited<ReturnType<typeof extractOf>>) {
  expect(a.header).toEqual(b.header);
  for (const [row, n] of rowDifference(a, b))
    expect(Math.abs(n), `${row}: ${n} row(s) in one extract only`).toBeGreaterThanOrEqual(K);
}

beforeAll(async () => {
  gw = await startGateway({ clock });
  // Clients are made after each move of the clock: their tokens are issued on it.
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  // March 2026: ten Dutch returnees registered (and returned) in the first quarter, five aged
  // 35-39 and five 45-49, and one more aged 45-49 whose case stays a draft for now.
  const household = (yearOfBirth: number) => [{ yearOfBirth, gender: 'MALE', relation: 'PRINCIPAL' }];
  for (let i = 0; i < 10; i += 1) {
    firstQuarter.push(
      await flow.refer(await flow.create({ household: household(i < 5 ? 1990 : 1980), arrivedOn: '2026-03-10' })),
    );
  }
  late = await flow.create({ household: household(1980), arrivedOn: '2026-03-12' });
  // May 2026: six returnees aged 35-39 in the second quarter.
  clock.set(new Date('2026-05-20T09:00:00Z'));
  const may = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 6; i += 1) await may.refer(await may.create({ household: household(1990), arrivedOn: '2026-05-10' }));
  // August 2026: one returnee aged 45-49, the only case of the third quarter.
  clock.set(new Date('2026-08-20T09:00:00Z'));
  const august = workflow(gw, 'NL', 'P-AF-HOPE');
  await august.refer(await august.create({ household: household(1980), arrivedOn: '2026-08-10' }));
  // The third quarter is over.
  clock.set(new Date('2026-10-05T09:00:00Z'));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('differencing two extracts', () => {
  it('two builds that first release the same quarter at once release one snapshot of it', async () => {
    const researcher = gw.as('R-EVAL', 'researcher');
    const approvedRequest = () =>
      approvedExtract(gw, 'Differencing check', VARIABLES, 'id version', { periodFrom: '2026-04', periodTo: '2026-06' });
    const requests = [await approvedRequest(), await approvedRequest()];
    const built = await Promise.all(
      requests.map((x) =>
        researcher.ok<{ buildExtract: { file: { downloadUrl: string; rows: number } } }>(
          `mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { file { downloadUrl rows } } }`,
          { id: x.id, v: x.version },
        ),
      ),
    );
    const [a, b] = await Promise.all(
      built.map(async ({ buildExtract }) => {
        const { status, text } = await downloadExtract(gw, buildExtract.file.downloadUrl);
        expect(status).toBe(200);
        const [header, ...rows] = text
          .split('\r\n')
          .filter((l) => l.length > 0)
          .map((l) => l.split(','));
        return { header: header!, rows };
      }),
    );
    expect(a!.rows).toHaveLength(6);
    expect(rowDifference(a!, b!).size).toBe(0);
    const db = await gw.raw();
    const block = await db.collection('extract_blocks').findOne({ _id: 'NL:2026-Q2' as never });
    const snapshots = await db.collection('extract_block_cases').distinct('snapshotId');
    expect(snapshots).toContain(block!.snapshotId);
    expect(await db.collection('extract_block_cases').countDocuments({ snapshotId: block!.snapshotId })).toBe(6);
    expect(await db.collection('extract_block_cases').countDocuments({})).toBe(6); // the loser's snapshot is gone
  });

  it('overlapping periods: the later quarter’s lone case is not the difference between them', async () => {
    const firstHalf = await extractOf({ periodFrom: '2026-01', periodTo: '2026-06' });
    const nineMonths = await extractOf({ periodFrom: '2026-01', periodTo: '2026-09' });
    expect(firstHalf.rows.length).toBeGreaterThan(0);
    expectNoRowReleasedAlone(firstHalf, nineMonths);
  });

  it('the same quarter before and after a case joins it (a draft referred) or changes (a case closed)', async () => {
    const firstQuarterOnly = { periodFrom: '2026-01', periodTo: '2026-03' };
    const before = await extractOf(firstQuarterOnly);
    expect(before.rows.length).toBeGreaterThan(0);
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    await flow.refer(late);
    const joined = await extractOf(firstQuarterOnly);
    expectNoRowReleasedAlone(before, joined);
    await flow.close(firstQuarter[9]!, 'RE_MIGRATED');
    const changed = await extractOf(firstQuarterOnly);
    expectNoRowReleasedAlone(joined, changed);
  });

  it('counts are published rounded to five: they do not count the cases between two extracts', async () => {
    for (const period of [
      { periodFrom: '2026-01', periodTo: '2026-06' },
      { periodFrom: '2026-01', periodTo: '2026-09' },
      { periodFrom: '2026-07', periodTo: '2026-09' },
    ]) {
      const { file } = await counts(period);
      expect(file.casesConsidered % 5, `${JSON.stringify(period)} casesConsidered ${file.casesConsidered}`).toBe(0);
      expect(file.suppressedRows % 5, `${JSON.stringify(period)} suppressedRows ${file.suppressedRows}`).toBe(0);
    }
  });

  it('a period that is not whole quarters is refused, naming the nearest that are', async () => {
    const researcher = gw.as('R-EVAL', 'researcher');
    const request = (periodFrom: string, periodTo: string) =>
      researcher.gql<{ requestExtract: unknown }>(
        `mutation ($input: ExtractRequestInput!) { requestExtract(input: $input) { id } }`,
        { input: { purpose: 'Differencing check', variables: VARIABLES, periodFrom, periodTo, memberStates: ['NL'] } },
      );
    const misaligned = await request('2026-01', '2026-07');
    expect(codes(misaligned)).toEqual(['BAD_USER_INPUT']);
    expect(misaligned.errors![0]!.message).toContain('2026-06');
    expect(misaligned.errors![0]!.message).toContain('2026-09');
    const shifted = await request('2026-02', '2026-06');
    expect(codes(shifted)).toEqual(['BAD_USER_INPUT']);
    expect(shifted.errors![0]!.message).toContain('2026-01');
    expect(shifted.errors![0]!.message).toContain('2026-04');
  });

  it('a quarter still running is not built: its cases are not all there yet', async () => {
    const approved = await approvedExtract(gw, 'Differencing check', VARIABLES, 'id version', {
      periodFrom: '2026-07',
      periodTo: '2026-12',
    });
    const refused = await gw
      .as('R-EVAL', 'researcher')
      .gql(`mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { id } }`, {
        id: approved.id,
        v: approved.version,
      });
    expect(codes(refused)).toEqual(['INVALID_TRANSITION']);
    expect(refused.errors![0]!.message).toContain('2027-01-01');
  });
});
