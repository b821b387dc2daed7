// The Return Experts Group's tables by programme: REAN (the return leg by IOM) and HRT (the
// Dutch support for rejected asylum seekers, until mid-2017) are programmes like the others,
// so a table grouped by programme lists them, protected like every figure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { CREATE_CASE } from './helpers/factories.ts';

let gw: TestGateway;

const consent = {
  purposes: ['REINTEGRATION_SUPPORT', 'RETURN_ASSISTANCE', 'SPECIAL_CATEGORY_DATA', 'MONITORING', 'EVALUATION_RESEARCH'],
  givenOn: '2016-01-10',
  expiresOn: '2036-01-10',
};
const base = {
  originCountry: 'AF',
  returnType: 'VOLUNTARY',
  partner: 'P-AF-HOPE',
  household: [{ yearOfBirth: 1988, gender: 'MALE', relation: 'PRINCIPAL' }],
  needsAssessment: 'Wants to open a shop.',
  consent,
};
const person = (i: number, programme: string) => ({
  familyName: `${programme}-${i}`,
  givenNames: 'Test Person',
  dateOfBirth: '1988-05-01',
  nationality: 'AF',
});
// Per programme: the cases registered (after return), and what each needs to be eligible. At least
// the threshold (5) plus the largest noise (2) each, so no programme's cell can fall under the
// threshold whatever the cases' random record keys (with 6 EURP-VOL cases it did now and then).
const PLAN: [programme: string, count: number, extra: (i: number) => Record<string, unknown>][] = [
  ['NL-HRT', 7, (i) => ({ arrivedOn: '2017-03-11', residenceApplication: 'ASYLUM_REJECTED', person: person(i, 'hrt') })],
  ['NL-REAN', 8, (i) => ({ arrivedOn: '2026-10-02', residenceApplication: 'ASYLUM_REJECTED', person: person(i, 'rean') })],
  ['EURP-VOL', 7, () => ({ arrivedOn: '2026-10-02' })],
];

beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
  const nl = gw.as('NL', 'caseworker');
  for (const [programme, count, extra] of PLAN) {
    for (let i = 0; i < count; i += 1) {
      await nl.ok(CREATE_CASE, { input: { ...base, programme, ...extra(i) } });
    }
  }
});
afterAll(async () => {
  await gw?.close();
});

type Cell = { coordinates: { dimension: string; value: string }[]; caseCount: number };
const TABLE = `query ($groupBy: [StatisticsDimension!]!, $filter: StatisticsFilter) {
  statistics(groupBy: $groupBy, filter: $filter) {
    method { threshold }
    cells { coordinates { dimension value } caseCount }
  } }`;
type Table = { statistics: { method: { threshold: number }; cells: Cell[] } };

describe('statistics by programme', () => {
  it('a table grouped by programme lists the HRT and REAN cases beside the others, each count within the noise', async () => {
    const reg = gw.as('EMN-REG', 'reg-analyst');
    const { statistics } = await reg.ok<Table>(TABLE, { groupBy: ['PROGRAMME'] });
    const byProgramme = new Map(statistics.cells.map((c) => [c.coordinates[0]!.value, c.caseCount]));
    expect([...byProgramme.keys()].sort()).toEqual(['EURP-VOL', 'NL-HRT', 'NL-REAN']);
    for (const [programme, count] of PLAN) {
      // One finest cell per programme here: its noise is at most 2.
      expect(Math.abs(byProgramme.get(programme)! - count), programme).toBeLessThanOrEqual(2);
      expect(byProgramme.get(programme)!).toBeGreaterThanOrEqual(statistics.method.threshold);
    }

    // Filtered to the two Dutch return programmes, by programme and quarter of return.
    const dutch = (
      await reg.ok<Table>(TABLE, { groupBy: ['PROGRAMME', 'QUARTER'], filter: { programmes: ['NL-HRT', 'NL-REAN'] } })
    ).statistics;
    const cells = dutch.cells.map((c) => Object.fromEntries(c.coordinates.map((x) => [x.dimension, x.value])));
    expect(cells).toEqual(
      expect.arrayContaining([
        { PROGRAMME: 'NL-HRT', QUARTER: '2017-Q1' },
        { PROGRAMME: 'NL-REAN', QUARTER: '2026-Q4' },
      ]),
    );
    expect(cells.every((c) => c.PROGRAMME === 'NL-HRT' || c.PROGRAMME === 'NL-REAN')).toBe(true);
  });
});
