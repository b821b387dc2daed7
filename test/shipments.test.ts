// Shipment tracking: the life cycle enforced step by step (no skipping, no going back,
// nothing after an end), the handover certificate, and which components ship at all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { implementation, type Tracked } from './helpers/implementation.ts';
import { samplePng } from '../src/seed/sample-files.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
});
afterAll(async () => {
  await gw?.close();
});

const DETAILS = { carrier: 'Ariana Cargo', trackingReference: 'AC-1', origin: 'Dubai, AE', destination: 'Kabul, AF' };

async function shippingCase() {
  const flow = workflow(gw);
  const approved = await flow.approved({
    components: [
      { ...materialsComponent(15000, 'EUR', 'SHIPPED'), id: 'machines' },
      { ...materialsComponent(1000, 'EUR', 'LOCAL'), id: 'local', title: 'Local tools' },
      { ...trainingComponent(50000), id: 'training' },
    ],
  });
  const c: Tracked = { id: approved.id, version: approved.version };
  const impl = implementation(gw, flow);
  const order = (at = '2026-11-21T08:00:00Z') =>
    impl.ship(c, { componentId: 'machines', status: 'ORDERED', at, place: 'Dubai', shipment: DETAILS });
  return { flow, impl, c, order };
}

const step = (shipmentId: string, status: string, at: string, extra: Record<string, unknown> = {}) => ({
  shipmentId,
  status,
  at,
  place: 'somewhere',
  ...extra,
});

describe('the shipment life cycle', () => {
  it('skipping a step is refused with the steps allowed next', async () => {
    const { impl, c, order } = await shippingCase();
    const { shipment } = await order();
    const r = await impl.shipRaw(c, step(shipment.id, 'IN_TRANSIT', '2026-11-22T08:00:00Z'));
    expect(codes(r)).toEqual(['INVALID_TRANSITION']);
    expect(r.errors?.[0]?.extensions).toMatchObject({ from: 'ORDERED', attempted: 'IN_TRANSIT', allowed: ['DISPATCHED'] });
    expect(r.errors?.[0]?.message).toBe('Cannot go from ORDERED to IN_TRANSIT. Allowed from ORDERED: DISPATCHED.');
    await impl.ship(c, step(shipment.id, 'DISPATCHED', '2026-11-22T08:00:00Z'));
    await impl.ship(c, step(shipment.id, 'IN_TRANSIT', '2026-11-23T08:00:00Z'));
    const toDelivered = await impl.shipRaw(c, step(shipment.id, 'DELIVERED', '2026-11-24T08:00:00Z'));
    expect(toDelivered.errors?.[0]?.extensions).toMatchObject({ allowed: ['AT_CUSTOMS', 'LOST', 'RETURNED'] });
  });

  it('going back, or repeating a step, is refused', async () => {
    const { impl, c, order } = await shippingCase();
    const { shipment } = await order();
    await impl.ship(c, step(shipment.id, 'DISPATCHED', '2026-11-22T08:00:00Z'));
    await impl.ship(c, step(shipment.id, 'IN_TRANSIT', '2026-11-23T08:00:00Z'));
    for (const back of ['DISPATCHED', 'ORDERED', 'IN_TRANSIT']) {
      const r = await impl.shipRaw(c, step(shipment.id, back, '2026-11-24T08:00:00Z'));
      expect(codes(r), back).toEqual(['INVALID_TRANSITION']);
    }
  });

  it('nothing follows an end: handed over, lost or returned', async () => {
    const { impl, c, order } = await shippingCase();
    const { shipment } = await order();
    await impl.ship(c, step(shipment.id, 'DISPATCHED', '2026-11-22T08:00:00Z'));
    await impl.ship(c, step(shipment.id, 'LOST', '2026-11-23T08:00:00Z'));
    for (const next of ['IN_TRANSIT', 'DELIVERED', 'RETURNED', 'HANDED_OVER']) {
      const r = await impl.shipRaw(c, step(shipment.id, next, '2026-11-24T08:00:00Z'));
      expect(codes(r), next).toEqual(next === 'HANDED_OVER' ? ['BAD_USER_INPUT'] : ['INVALID_TRANSITION']);
      if (next !== 'HANDED_OVER') expect(r.errors?.[0]?.extensions.allowed).toEqual([]);
    }
  });

  it('a step dated before the previous one, or in the future, is refused', async () => {
    const { impl, c, order } = await shippingCase();
    const { shipment } = await order('2026-11-22T08:00:00Z');
    expect(codes(await impl.shipRaw(c, step(shipment.id, 'DISPATCHED', '2026-11-21T08:00:00Z')))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await impl.shipRaw(c, step(shipment.id, 'DISPATCHED', '2026-11-29T08:00:00Z')))).toEqual(['BAD_USER_INPUT']);
  });

  it('the handover needs a handover certificate of the case, and closes the component’s delivery', async () => {
    const { impl, c, order } = await shippingCase();
    const { shipment } = await order();
    const steps = ['DISPATCHED', 'IN_TRANSIT', 'AT_CUSTOMS', 'DELIVERED'];
    for (const [i, status] of steps.entries()) await impl.ship(c, step(shipment.id, status, `2026-11-2${2 + i}T08:00:00Z`));
    const without = await impl.shipRaw(c, step(shipment.id, 'HANDED_OVER', '2026-11-27T08:00:00Z'));
    expect(codes(without)).toEqual(['BAD_USER_INPUT']);
    expect(without.errors?.[0]?.extensions.problems).toEqual([
      { path: 'evidence', message: 'the handover certificate is required' },
    ]);
    const photo = await impl.upload(c, 'PHOTO', samplePng(), 'machines.png');
    const wrongKind = await impl.shipRaw(c, step(shipment.id, 'HANDED_OVER', '2026-11-27T08:00:00Z', { evidence: photo.id }));
    expect(codes(wrongKind)).toEqual(['BAD_USER_INPUT']);
    const other = await shippingCase();
    const foreign = await other.impl.upload(other.c, 'HANDOVER_CERTIFICATE');
    expect(
      codes(await impl.shipRaw(c, step(shipment.id, 'HANDED_OVER', '2026-11-27T08:00:00Z', { evidence: foreign.id }))),
    ).toEqual(['BAD_USER_INPUT']);

    const certificate = await impl.upload(c, 'HANDOVER_CERTIFICATE');
    const done = await impl.ship(c, step(shipment.id, 'HANDED_OVER', '2026-11-27T08:00:00Z', { evidence: certificate.id }));
    expect(done.shipment).toMatchObject({ status: 'HANDED_OVER', deliveryClosed: true, allowedNext: [], version: 6 });
    expect(done.shipment.events.map((e) => [e.status, e.actor.organisation.code])).toEqual(
      ['ORDERED', ...steps, 'HANDED_OVER'].map((s) => [s, 'P-AF-HOPE']),
    );
    const again = await impl.shipRaw(c, {
      componentId: 'machines',
      status: 'ORDERED',
      at: '2026-11-27T09:00:00Z',
      place: 'Dubai',
      shipment: DETAILS,
    });
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors?.[0]?.message).toMatch(/delivery is closed/);
  });

  it('one shipment at a time per component; a returned one may be ordered again', async () => {
    const { impl, c, order } = await shippingCase();
    const { shipment } = await order();
    const reorder = { componentId: 'machines', status: 'ORDERED', at: '2026-11-24T09:00:00Z', place: 'Dubai', shipment: DETAILS };
    const second = await impl.shipRaw(c, reorder);
    expect(codes(second)).toEqual(['BAD_USER_INPUT']);
    expect(second.errors?.[0]?.message).toContain(shipment.id);
    await impl.ship(c, step(shipment.id, 'DISPATCHED', '2026-11-22T08:00:00Z'));
    await impl.ship(c, step(shipment.id, 'RETURNED', '2026-11-23T08:00:00Z'));
    const replacement = await impl.ship(c, reorder);
    expect(replacement.shipment.id).not.toBe(shipment.id);
    expect(replacement.shipment.status).toBe('ORDERED');
  });
});

describe('what ships', () => {
  it('only MATERIALS components procured SHIPPED, by the partner, once the plan is approved', async () => {
    const { flow, impl, c } = await shippingCase();
    for (const componentId of ['local', 'training', 'nope']) {
      const r = await impl.shipRaw(c, {
        componentId,
        status: 'ORDERED',
        at: '2026-11-21T08:00:00Z',
        place: 'Kabul',
        shipment: DETAILS,
      });
      expect(codes(r), componentId).toEqual(['BAD_USER_INPUT']);
    }
    const byState = await impl.shipRaw(
      c,
      { componentId: 'machines', status: 'ORDERED', at: '2026-11-21T08:00:00Z', place: 'Dubai', shipment: DETAILS },
      flow.state,
    );
    expect(codes(byState)).toEqual(['FORBIDDEN']);
    const arrived = await flow.arrived();
    const early = await impl.shipRaw(
      { id: arrived.id, version: arrived.version },
      { componentId: 'machines', status: 'ORDERED', at: '2026-11-21T08:00:00Z', place: 'Dubai', shipment: DETAILS },
    );
    expect(codes(early)).toEqual(['INVALID_TRANSITION']);
  });

  it('a new shipment starts with ORDERED and its details; a later step names its shipment', async () => {
    const { impl, c } = await shippingCase();
    const noDetails = await impl.shipRaw(c, {
      componentId: 'machines',
      status: 'ORDERED',
      at: '2026-11-21T08:00:00Z',
      place: 'Dubai',
    });
    expect(codes(noDetails)).toEqual(['BAD_USER_INPUT']);
    const noShipment = await impl.shipRaw(c, { status: 'DISPATCHED', at: '2026-11-21T08:00:00Z', place: 'Dubai' });
    expect(codes(noShipment)).toEqual(['BAD_USER_INPUT']);
    const unknown = await impl.shipRaw(c, step('3b241101-e2bb-4255-8caf-4136c566a962', 'DISPATCHED', '2026-11-21T08:00:00Z'));
    expect(codes(unknown)).toEqual(['NOT_FOUND']);
  });
});
