// Evaluation extracts against the research body that receives them: two extracts of the same
// cases (other variables, or the same ones again) must not be joinable row by row. Their
// pseudonyms are fresh; a column that is nearly unique per case (an amount, or a status only
// one case has) would join them all the same, and the joined rows would then combine the
// quasi-identifiers of both, which no k-anonymity of either extract covers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';
import { extractCsv } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-30T09:00:00Z');

const extractOf = (variables: string[]) => extractCsv(gw, 'Linkage check', variables);

/** For each row of `a`, how many rows of `b` agree with it on every column the two share (the pseudonym aside). */
function candidates(a: { header: string[]; rows: string[][] }, b: { header: string[]; rows: string[][] }): number[] {
  const shared = a.header.filter((c) => c !== 'pseudonym' && b.header.includes(c));
  expect(shared.length).toBeGreaterThan(0);
  const key = (x: typeof a, row: string[]) => JSON.stringify(shared.map((c) => row[x.header.indexOf(c)]));
  return a.rows.map((r) => b.rows.filter((s) => key(b, s) === key(a, r)).length);
}

beforeAll(async () => {
  gw = await startGateway({ clock });
  // Ten Dutch returnees with approved plans of different amounts: five aged 35-39 and five
  // 45-49; five returned in March and five in May, crossed 3/2/2/3. Either variable alone is
  // 5-anonymous at its finest level; age and month together are not.
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 10; i += 1) {
    const spec = { household: [{ yearOfBirth: i < 5 ? 1990 : 1980, gender: 'MALE', relation: 'PRINCIPAL' }] };
    const arrivedOn = [0, 1, 2, 5, 6].includes(i) ? '2026-03-10' : '2026-05-10';
    const plan = { summary: 'Tailoring', components: [trainingComponent(100_000 + i * 5_000)] };
    const approved = await flow.approve(await flow.submit(await flow.draft(await flow.arrived(spec, arrivedOn), plan)));
    // One of the ten opts out: the only closed case (before any extract freezes their quarter).
    if (i === 9) await flow.close(approved, 'OPTED_OUT');
  }
  // The quarter of their registration is over: it can be extracted.
  clock.set(new Date('2027-01-04T09:00:00Z'));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('linkage across extracts', () => {
  it('an amount does not join two extracts of other quasi-identifiers into rows fewer than k share', async () => {
    const byAge = await extractOf(['AGE_GROUP', 'PLANNED_EUR']);
    const byMonth = await extractOf(['RETURN_MONTH', 'PLANNED_EUR']);
    expect(byAge.rows.length).toBeGreaterThan(0);
    expect(byMonth.rows.length).toBeGreaterThan(0);
    // Each extract alone keeps its own variable at its finest level (five cases per value).
    const distinct = (x: typeof byAge, column: string) => new Set(x.rows.map((r) => r[x.header.indexOf(column)])).size;
    expect(distinct(byAge, 'age_group')).toBe(2);
    expect(distinct(byMonth, 'return_month')).toBe(2);
    // Every row of one extract matches at least k rows of the other: no row is linked.
    for (const n of candidates(byAge, byMonth)) expect(n).toBeGreaterThanOrEqual(5);
    for (const n of candidates(byMonth, byAge)) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('nor does a status only one case has', async () => {
    // The case closed above is the only one CLOSED.
    const byAge = await extractOf(['AGE_GROUP', 'STATUS']);
    const byMonth = await extractOf(['RETURN_MONTH', 'STATUS']);
    for (const n of candidates(byAge, byMonth)) expect(n).toBeGreaterThanOrEqual(5);
    for (const n of candidates(byMonth, byAge)) expect(n).toBeGreaterThanOrEqual(5);
  });

  it('nor does a closure reason only one case has', async () => {
    // The case closed above is the only one with a closure reason (OPTED_OUT).
    const byAge = await extractOf(['AGE_GROUP', 'CLOSURE_REASON']);
    const byMonth = await extractOf(['RETURN_MONTH', 'CLOSURE_REASON']);
    for (const n of candidates(byAge, byMonth)) expect(n).toBeGreaterThanOrEqual(5);
    for (const n of candidates(byMonth, byAge)) expect(n).toBeGreaterThanOrEqual(5);
  });
});
