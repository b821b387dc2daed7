// Statistics over time: an analyst who draws the same table before and after a change that
// keeps every case where it was (a purchase posted, a household member added, a survey
// recorded) must not get the change back exactly by subtraction. The cases stay in their
// finest cells, so their cell key stays: a measure's noise must follow its true value too,
// or the noise of both tables is the same and cancels (docs/statistics.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';
import { implementation, type Tracked } from './helpers/implementation.ts';
import { protect, type Finest } from '../src/modules/statistics/statistics.cells.ts';
import { nextRelease } from './helpers/releases.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-28T10:00:00Z');
beforeAll(async () => {
  gw = await startGateway({ clock });
});
afterAll(async () => {
  await gw?.close();
});

const purchase = (amount: number, proof: string) => ({
  kind: 'PURCHASE',
  componentId: 'training',
  narrative: `Paid ${amount} for the course`,
  language: 'en',
  occurredOn: '2026-11-25',
  spend: { amount: { amount, currency: 'EUR' }, proof },
});

type Cell = { caseCount: number; plannedEur: { amount: number }; actualEur: { amount: number } };
const TRAINING = `query { statistics(groupBy: [COMPONENT_KIND], filter: { memberStates: ["BE"] }) {
  cells { coordinates { value } caseCount plannedEur { amount } actualEur { amount } } } }`;

async function training(): Promise<Cell> {
  const { statistics } = await gw
    .as('EMN-REG', 'reg-analyst')
    .ok<{ statistics: { cells: (Cell & { coordinates: { value: string }[] })[] } }>(TRAINING);
  const cell = statistics.cells.find((c) => c.coordinates[0]?.value === 'TRAINING');
  expect(cell, 'the cell of seven cases is listed').toBeDefined();
  return cell!;
}

describe('statistics over time', () => {
  it("a purchase posted between two tables is not given back exactly by their difference (another case's spend is the largest)", async () => {
    // Seven cases that share every attribute (one finest cell), all in implementation.
    const flow = workflow(gw, 'BE', 'P-MA-ATLAS');
    const impl = implementation(gw, flow);
    const cases: (Tracked & { receipt: string })[] = [];
    for (let i = 0; i < 7; i += 1) {
      const approved = await flow.approved(
        { components: [{ ...trainingComponent(100_000), id: 'training' }] },
        { originCountry: 'MA' },
      );
      const c = { id: approved.id, version: approved.version, receipt: '' };
      c.receipt = (await impl.upload(c)).id;
      // The first case's spend is the cell's largest contribution; the others' are small.
      await impl.post(c, purchase(i === 0 ? 90_000 : 10_000, c.receipt));
      cases.push(c);
    }
    const before = await training();

    // One of the small ones pays 123.45 EUR more: the cell's cases (so its key) stay the same.
    await impl.post(cases[3]!, purchase(12_345, cases[3]!.receipt));
    // The same month's release still counts the cases as they were; the next month's counts it.
    expect(await training()).toEqual(before);
    nextRelease(clock);
    const after = await training();

    // Nothing else changed: the same cases with the same figures give the same protected figures.
    expect(after.caseCount).toBe(before.caseCount);
    expect(after.plannedEur).toEqual(before.plannedEur);
    // The spend changed: its noise is drawn afresh, so the difference is not the purchase.
    expect(after.actualEur.amount - before.actualEur.amount).not.toBe(12_345);
  });

  it('a household member added or a survey recorded between two tables is not given back exactly either', () => {
    // The finest cell's cases stay, so does its key; its persons and scored cases change by one.
    // Under noise keyed by the cases alone the difference would be exactly 1 for every key.
    const cell = (key: number, persons: number, scored: number): Finest => ({
      attributes: {
        MEMBER_STATE: 'BE',
        ORIGIN_COUNTRY: 'MA',
        PROGRAMME: 'EURP-VOL',
        STATUS: 'IN_IMPLEMENTATION',
        CLOSURE_REASON: 'NONE',
        QUARTER: '2026-Q4',
        RETURN_TYPE: 'VOLUNTARY',
      },
      kinds: ['TRAINING'],
      key,
      count: 7,
      persons,
      planned: new Map(),
      actual: new Map(),
      scored,
      scores: {
        economic: { sum: 0, top: 0 },
        social: { sum: 0, top: 0 },
        psychosocial: { sum: 0, top: 0 },
        composite: { sum: 0, top: 0 },
      },
    });
    let persons = 0;
    let scored = 0;
    const trials = 2_000;
    const secret = randomBytes(32);
    for (let i = 0; i < trials; i += 1) {
      const key = randomBytes(4).readUInt32BE(0);
      const [a, b] = [protect(cell(key, 12, 4), secret), protect(cell(key, 13, 5), secret)];
      if (b.persons - a.persons === 1) persons += 1;
      if (b.scored - a.scored === 1) scored += 1;
    }
    // Fresh noise on both sides gives the exact step with the chance that two draws of the
    // "2 and more" row agree: 0.1² + 0.2² + 0.4² + 0.2² + 0.1² = 0.26.
    expect(persons / trials).toBeLessThan(0.35);
    expect(scored / trials).toBeLessThan(0.35);
  });
});
