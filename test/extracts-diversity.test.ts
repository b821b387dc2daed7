// Evaluation extracts and what a k-anonymous group tells of everyone in it: when every case of
// a combination of quasi-identifiers was closed for the same reason (re-migrated, deceased),
// whoever knows that a person is in the combination (their age, their country, when they
// returned) learns why the person's case was closed, however many the combination holds. Two
// reasons are not enough either: nine re-migrated and one other tell "almost certainly
// re-migrated" as well.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';
import { extractCsv } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-30T09:00:00Z');

const extractOf = (variables: string[]) => extractCsv(gw, 'Closure reasons', variables);

/** Per combination of the quasi-identifier columns, the closure reasons of its rows. */
function reasonsByCombination({ header, rows }: Awaited<ReturnType<typeof extractOf>>, quasiColumns: string[]) {
  const reason = header.indexOf('closure_reason');
  const quasi = quasiColumns.map((c) => header.indexOf(c));
  const reasons = new Map<string, string[]>();
  for (const r of rows) {
    const key = JSON.stringify(quasi.map((q) => r[q]));
    reasons.set(key, [...(reasons.get(key) ?? []), r[reason]!]);
  }
  return reasons;
}

beforeAll(async () => {
  gw = await startGateway({ clock });
  // Twenty Dutch returnees: five aged 35-39, still open; five aged 45-49, all closed as
  // re-migrated; ten aged 55-59, nine closed as re-migrated and one still open.
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 20; i += 1) {
    const yearOfBirth = i < 5 ? 1990 : i < 10 ? 1980 : 1970;
    const spec = { household: [{ yearOfBirth, gender: 'MALE', relation: 'PRINCIPAL' }], arrivedOn: '2026-03-10' };
    const c = await flow.refer(await flow.create(spec));
    if (i >= 5 && i < 19) await flow.close(c, 'RE_MIGRATED');
  }
  // The quarter of their registration is over: it can be extracted.
  clock.set(new Date('2027-01-04T09:00:00Z'));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('attribute disclosure in extracts', () => {
  it('no combination of quasi-identifiers has its cases all closed for one reason', async () => {
    const extract = await extractOf(['AGE_GROUP', 'GENDER', 'CLOSURE_REASON']);
    expect(extract.rows.length).toBeGreaterThan(0);
    for (const [key, values] of reasonsByCombination(extract, ['age_group', 'gender'])) {
      const distinct = new Set(values);
      if (distinct.size === 1) expect([...distinct], `${key}: everyone's closure reason`).toEqual(['']);
    }
  });

  it('nor mostly for one reason: a combination’s closed cases show three reasons or more, none for more than half of them', async () => {
    const extract = await extractOf(['AGE_GROUP', 'CLOSURE_REASON']);
    expect(extract.rows.length).toBeGreaterThan(0);
    for (const [key, values] of reasonsByCombination(extract, ['age_group'])) {
      const closed = values.filter((v) => v !== '');
      if (closed.length === 0) continue;
      const counts = new Map<string, number>();
      for (const v of closed) counts.set(v, (counts.get(v) ?? 0) + 1);
      expect(counts.size, `${key}: closure reasons ${JSON.stringify([...counts])}`).toBeGreaterThanOrEqual(3);
      expect(Math.max(...counts.values()) * 2, `${key}: closure reasons ${JSON.stringify([...counts])}`).toBeLessThanOrEqual(
        closed.length,
      );
    }
  });
});
