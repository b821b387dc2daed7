// Conflicting implementation writes on one case, as a partner's field staff and office on
// slow links make them: one write per case version wins, losers reload and retry, and no
// update is lost and no budget or shipment rule is broken by the race.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../src/events/log.ts';
import { PERSONAL_DATA_READ } from '../src/modules/audit/access.ts';
import { clockAt, codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';
import { materialsComponent, trainingComponent } from './helpers/factories.ts';
import { approvedWith, type Tracked } from './helpers/implementation.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
});
afterAll(async () => {
  await gw?.close();
});

const approvedCase = () =>
  approvedWith(gw, [
    { ...trainingComponent(80000), id: 'training' },
    { ...materialsComponent(15000, 'EUR', 'SHIPPED'), id: 'machines' },
  ]);

/** Orders the machines by air cargo from Dubai. */
const orderMachines = (impl: Awaited<ReturnType<typeof approvedCase>>['impl'], c: Tracked, trackingReference: string) =>
  impl.ship(c, {
    componentId: 'machines',
    status: 'ORDERED',
    at: '2026-11-27T08:00:00Z',
    place: 'Dubai',
    shipment: { carrier: 'Ariana Cargo', trackingReference, origin: 'Dubai', destination: 'Kabul' },
  });

const note = (i: number) => ({ kind: 'OTHER', narrative: `field note ${i}`, language: 'en', occurredOn: '2026-11-27' });

/** Retries a write on CONFLICT with the version the error names, as a client should; returns the final response. */
async function withRetry<T>(c: Tracked, attempt: (at: Tracked) => Promise<GqlResponse<T>>): Promise<GqlResponse<T>> {
  const at = { ...c };
  for (;;) {
    const r = await attempt(at);
    if (r.errors?.[0]?.extensions.code !== 'CONFLICT') return r;
    at.version = r.errors[0].extensions.currentVersion as number;
  }
}

describe('concurrent implementation writes', () => {
  it('10 progress posts with the same expectedVersion: one wins, 9 conflict, one update and one event', async () => {
    const { flow, impl, c } = await approvedCase();
    const before = await gw.services.log.lastSeq();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => impl.postRaw({ ...c }, note(i))));
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    const conflicts = results.filter((r) => codes(r)[0] === 'CONFLICT');
    expect(conflicts).toHaveLength(9);
    for (const r of conflicts) expect(r.errors?.[0]?.extensions.currentVersion).toBe(c.version + 1);
    // One write; the winner's reading back of the narrative it posted is an audit entry, not a write.
    const appended = await gw.services.log.page(before, 1000);
    expect(appended.filter((e) => e.type !== PERSONAL_DATA_READ).map((e) => e.type)).toEqual(['ProgressPosted']);
    const { case: view } = await flow.state.ok<{ case: { version: number; progress: { totalCount: number } } }>(
      'query ($id: ID!) { case(id: $id) { version progress { totalCount } } }',
      { id: c.id },
    );
    expect(view).toEqual({ version: c.version + 1, progress: { totalCount: 1 } });
  });

  it('writers that reload and retry all get through: no update is lost', async () => {
    const { flow, impl, c } = await approvedCase();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => withRetry(c, (at) => impl.postRaw(at, note(i)))));
    for (const r of results) expect(r.errors).toBeUndefined();
    const { case: view } = await flow.officer.ok<{
      case: { version: number; progress: { edges: { node: { narrative: string } }[] } };
    }>('query ($id: ID!) { case(id: $id) { version progress(first: 50) { edges { node { narrative } } } } }', { id: c.id });
    expect(view.version).toBe(c.version + 6);
    expect(view.progress.edges.map((e) => e.node.narrative).sort()).toEqual(
      Array.from({ length: 6 }, (_, i) => `field note ${i}`),
    );
    expect((await verifyChain(gw.services.log)).broken).toBeUndefined();
  });

  it('spends racing for the same budget never take a component past its approved amount', async () => {
    const { flow, impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    // 8 × 300.00 EUR against a training of 800.00 EUR: two fit, whatever the interleaving.
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        withRetry(c, (at) =>
          impl.postRaw(at, {
            kind: 'PURCHASE',
            componentId: 'training',
            narrative: 'Course instalment',
            language: 'en',
            occurredOn: '2026-11-27',
            spend: { amount: { amount: 30000, currency: 'EUR' }, proof: receipt.id },
          }),
        ),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(2);
    expect(results.filter((r) => codes(r)[0] === 'BUDGET_EXCEEDED')).toHaveLength(6);
    const { case: view } = await flow.state.ok<{
      case: { budget: { actual: { amount: number } }; progress: { totalCount: number } };
    }>('query ($id: ID!) { case(id: $id) { budget { actual { amount } } progress { totalCount } } }', { id: c.id });
    expect(view).toEqual({ budget: { actual: { amount: 60000 } }, progress: { totalCount: 2 } });
  });

  it('two offices moving one shipment at once: it moves once, and a retry sees the step already taken', async () => {
    const { flow, impl, c } = await approvedCase();
    const { shipment } = await orderMachines(impl, c, 'AC-7');
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        withRetry(c, (at) =>
          impl.shipRaw(at, { shipmentId: shipment.id, status: 'DISPATCHED', at: '2026-11-27T09:00:00Z', place: `dock ${i}` }),
        ),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => codes(r)[0] === 'INVALID_TRANSITION')).toHaveLength(5);
    const { case: view } = await flow.state.ok<{
      case: { shipments: { status: string; version: number; events: { status: string }[] }[] };
    }>('query ($id: ID!) { case(id: $id) { shipments { status version events { status } } } }', { id: c.id });
    expect(view.shipments).toEqual([
      { status: 'DISPATCHED', version: 2, events: [{ status: 'ORDERED' }, { status: 'DISPATCHED' }] },
    ]);
    const dispatched = (await gw.services.log.history(c.id)).filter((e) => e.type === 'ShipmentDispatched');
    expect(dispatched).toHaveLength(1);
  });

  it('a write cut off half-way through its projection never lets the next one decide on stale records', async () => {
    const { flow, impl, c } = await approvedCase();
    const { shipment } = await orderMachines(impl, c, 'AC-8');
    // The gateway dies after writing the first document of the event's projection.
    const log = gw.services.log;
    const applyChanges = log.applyChanges.bind(log);
    log.applyChanges = async (changes) => {
      log.applyChanges = applyChanges;
      await applyChanges(changes.slice(0, 1));
      throw new Error('gateway crashed during the projection');
    };
    const cut = await impl.shipRaw(
      { ...c },
      { shipmentId: shipment.id, status: 'DISPATCHED', at: '2026-11-27T09:00:00Z', place: 'dock A' },
    );
    expect(codes(cut)).toEqual(['INTERNAL_SERVER_ERROR']);
    // Another office reads the case as it now looks and moves the same shipment.
    const { case: seen } = await flow.officer.ok<{ case: { version: number } }>(
      'query ($id: ID!) { case(id: $id) { version } }',
      {
        id: c.id,
      },
    );
    const other = await withRetry({ id: c.id, version: seen.version }, (at) =>
      impl.shipRaw(at, { shipmentId: shipment.id, status: 'DISPATCHED', at: '2026-11-27T09:05:00Z', place: 'dock B' }),
    );
    expect(codes(other)).toEqual(['INVALID_TRANSITION']);
    // What start-up (or the store reconnecting) runs finishes the interrupted projection.
    await gw.services.log.reconcileRecent();
    const { case: view } = await flow.state.ok<{
      case: { version: number; shipments: { version: number; events: { place: string }[] }[] };
    }>('query ($id: ID!) { case(id: $id) { version shipments { version events { place } } } }', { id: c.id });
    expect(view).toEqual({
      version: c.version + 1,
      shipments: [{ version: 2, events: [{ place: 'Dubai' }, { place: 'dock A' }] }],
    });
    expect((await gw.services.log.history(c.id)).filter((e) => e.type === 'ShipmentDispatched')).toHaveLength(1);
  });
});
