// The programme's spending window: spending (a spend line, a purchase, a shipment ordered)
// dated after the arrival plus the programme's spendWithinMonths is refused, and nothing is
// written, until the case's member state extends the window, which the case's log records.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../src/clock.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent } from './helpers/factories.ts';
import { onDay, type Tracked } from './helpers/implementation.ts';

let gw: TestGateway;
let clock: ManualClock;
beforeAll(async () => {
  clock = clockAt('2026-01-12T09:00:00Z');
  gw = await startGateway({ clock });
});
afterAll(async () => {
  await gw?.close();
});

const on = (day: string) => onDay(gw, clock, day);

const WINDOW = `query ($id: ID!) { case(id: $id) { version spendingWindow { arrivedOn months until extendedTo lastDay } } }`;
const EXTEND = `mutation ($id: ID!, $until: Date!, $reason: String!, $v: Int!) {
  extendSpendingWindow(caseId: $id, until: $until, reason: $reason, expectedVersion: $v) { id version spendingWindow { until extendedTo lastDay } }
}`;
type Window = { case: { version: number; spendingWindow: Record<string, unknown> | null } };

const shipped = {
  id: 'machines',
  kind: 'MATERIALS',
  title: 'Sewing machines',
  cost: { amount: 30000, currency: 'EUR' },
  materials: {
    items: [{ description: 'Industrial sewing machine', quantity: 2, unitCost: { amount: 15000, currency: 'EUR' } }],
    supplier: 'Peshawar Machinery Traders',
    procurement: 'SHIPPED',
  },
};
const order = (at: string) => ({
  componentId: 'machines',
  status: 'ORDERED',
  at,
  place: 'Peshawar, PK',
  shipment: { carrier: 'Khyber Freight', trackingReference: 'KF-1', origin: 'Peshawar, PK', destination: 'Kabul, AF' },
});

describe('the spending window', () => {
  it('refuses spending dated after arrival plus spendWithinMonths, until the member state extends it', async () => {
    // EURP-VOL: spent within 12 months of an arrival on 10 January 2026, so until 10 January 2027.
    let { flow, impl } = on('2026-01-12');
    const arrived = await flow.arrived({}, '2026-01-10');
    const plan = { components: [{ ...trainingComponent(80000), id: 'training' }, shipped] };
    const approved = await flow.approve(await flow.submit(await flow.draft(arrived, plan)));
    const c: Tracked = { id: approved.id, version: approved.version };
    const read = async () => (await flow.state.ok<Window>(WINDOW, { id: c.id })).case;
    expect((await read()).spendingWindow).toEqual({
      arrivedOn: '2026-01-10',
      months: 12,
      until: '2027-01-10',
      extendedTo: null,
      lastDay: '2027-01-10',
    });

    ({ flow, impl } = on('2027-01-12'));
    const receipt = await impl.upload(c, 'RECEIPT');
    c.version = (await read()).version;
    const spend = (occurredOn: string) => ({
      kind: 'PURCHASE',
      componentId: 'training',
      narrative: 'Course fee',
      language: 'en',
      occurredOn,
      spend: { amount: { amount: 10000, currency: 'EUR' }, proof: receipt.id },
    });
    // The window's last day still counts, even reported two days later.
    await impl.post(c, spend('2027-01-10'));

    // A day later: refused with the reason and the last day, and nothing written.
    const before = c.version;
    const late = await impl.postRaw(c, spend('2027-01-11'));
    expect(codes(late)).toEqual(['BAD_USER_INPUT']);
    expect(late.errors![0]!.extensions).toMatchObject({ reason: 'SPENDING_WINDOW_CLOSED', lastDay: '2027-01-10' });
    expect(late.errors![0]!.message).toMatch(/after the spending window of EURP-VOL, which ended on 2027-01-10/);
    const lateOrder = await impl.shipRaw(c, order('2027-01-11T08:00:00Z'));
    expect(codes(lateOrder)).toEqual(['BAD_USER_INPUT']);
    expect(lateOrder.errors![0]!.extensions).toMatchObject({ reason: 'SPENDING_WINDOW_CLOSED' });
    // A narrative without spend is not spending.
    await impl.post(c, { kind: 'OTHER', narrative: 'Course ended', language: 'en', occurredOn: '2027-01-11' });
    expect((await read()).version).toBe(before + 1);
    c.version = before + 1;

    // Only the case's member state extends it, by its coordinator, to a later day, with a reason.
    const extend = (
      client: ReturnType<TestGateway['as']>,
      until: string,
      v = c.version,
      reason = 'Supplier delayed by the border closure',
    ) =>
      client.gql<{ extendSpendingWindow: { version: number; spendingWindow: unknown } }>(EXTEND, { id: c.id, until, reason, v });
    expect(codes(await extend(flow.officer, '2027-04-30'))).toEqual(['FORBIDDEN']);
    expect(codes(await extend(gw.as('NL', 'caseworker'), '2027-04-30'))).toEqual(['FORBIDDEN']);
    expect(codes(await extend(gw.as('BE', 'coordinator'), '2027-04-30'))).toEqual(['NOT_FOUND']);
    const coordinator = gw.as('NL', 'coordinator');
    expect(codes(await extend(coordinator, '2027-01-10'))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await extend(coordinator, '2027-04-30', c.version, ' '))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await extend(coordinator, '2027-04-30', c.version - 1))).toEqual(['CONFLICT']);
    const extended = await extend(coordinator, '2027-04-30');
    expect(extended.data!.extendSpendingWindow.spendingWindow).toEqual({
      until: '2027-01-10',
      extendedTo: '2027-04-30',
      lastDay: '2027-04-30',
    });
    c.version = extended.data!.extendSpendingWindow.version;
    const events = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'SpendingWindowExtended');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      caseId: c.id,
      data: { until: '2027-04-30', previous: '2027-01-10', reason: 'Supplier delayed by the border closure' },
    });

    // Now the same spending and the order go through; after the extension they are refused again.
    await impl.post(c, spend('2027-01-11'));
    const ordered = await impl.ship(c, order('2027-01-11T08:00:00Z'));
    expect(ordered.shipment.status).toBe('ORDERED');
    ({ impl } = on('2027-05-03'));
    expect(codes(await impl.postRaw(c, spend('2027-05-01')))).toEqual(['BAD_USER_INPUT']);
  });
});
