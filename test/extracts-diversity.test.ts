// Evaluation extracts and what a k-anonymous group tells of everyone in it: when every case of
// a combination of quasi-identifiers was closed for the same reason (re-migrated, deceased),
// whoever knows that a person is in the combination (their age, their country, when they
// returned) learns why the person's case was closed, however many the combination holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';
import { extractCsv } from './helpers/extracts.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-30T09:00:00Z');

const extractOf = (variables: string[]) => extractCsv(gw, 'Closure reasons', variables);

beforeAll(async () => {
  gw = await startGateway({ clock });
  // Ten Dutch returnees: five aged 35-39, still open; five aged 45-49, all closed as re-migrated.
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 10; i += 1) {
    const spec = {
      household: [{ yearOfBirth: i < 5 ? 1990 : 1980, gender: 'MALE', relation: 'PRINCIPAL' }],
      arrivedOn: '2026-03-10',
    };
    const c = await flow.refer(await flow.create(spec));
    if (i >= 5) await flow.close(c, 'RE_MIGRATED');
  }
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('attribute disclosure in extracts', () => {
  it('no combination of quasi-identifiers has its cases all closed for one reason', async () => {
    const { header, rows } = await extractOf(['AGE_GROUP', 'GENDER', 'CLOSURE_REASON']);
    expect(rows.length).toBeGreaterThan(0);
    const reason = header.indexOf('closure_reason');
    const quasi = ['age_group', 'gender'].map((c) => header.indexOf(c));
    const reasons = new Map<string, Set<string>>();
    for (const r of rows) {
      const key = JSON.stringify(quasi.map((q) => r[q]));
      reasons.set(key, (reasons.get(key) ?? new Set()).add(r[reason]!));
    }
    for (const [key, values] of reasons) {
      if (values.size === 1) expect([...values], `${key}: everyone's closure reason`).toEqual(['']);
    }
  });
});
