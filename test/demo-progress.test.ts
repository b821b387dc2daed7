// The demo data past plan approval: cases in implementation, final-reported and closed,
// every kind of progress, shipments in every state, evidence, surveys, overdue deadlines;
// loaded twice, it adds nothing the second time.
import { PROGRESS_KINDS } from '../src/modules/progress/progress.model.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoProgress } from '../src/seed/demo-progress.ts';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let first: Awaited<ReturnType<typeof seedDemoProgress>>;
beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
  first = await seedDemoProgress(gw.services);
});
afterAll(async () => {
  await gw?.close();
});

describe('demo progress', () => {
  it('holds shipments in every state, every kind of progress, evidence, surveys and cases at every stage after approval', async () => {
    const db = await gw.raw();
    const shipmentStates = await db.collection('shipments').distinct('status');
    expect(shipmentStates.sort()).toEqual(
      ['ORDERED', 'DISPATCHED', 'IN_TRANSIT', 'AT_CUSTOMS', 'DELIVERED', 'HANDED_OVER', 'LOST', 'RETURNED'].sort(),
    );
    const kinds = await db.collection('progress_updates').distinct('kind');
    expect(kinds.sort()).toEqual([...PROGRESS_KINDS].sort());
    expect(await db.collection('progress_updates').countDocuments({ corrects: { $ne: null } })).toBeGreaterThan(0);
    expect((await db.collection('cases').distinct('status')).sort()).toEqual(
      ['ARRIVED', 'PLAN_APPROVED', 'IN_IMPLEMENTATION', 'FINAL_REPORTED', 'CLOSED'].sort(),
    );
    expect((await db.collection('evidence').distinct('contentType')).sort()).toEqual(['application/pdf', 'image/png']);
    expect(await db.collection('surveys').countDocuments({})).toBe(7);
    expect(await db.collection('final_reports').countDocuments({})).toBe(2);
  });

  it('shows through the API as the parties see it, with something overdue for the member state to chase', async () => {
    const { overdue } = await gw
      .as('NL', 'coordinator')
      .ok<{ overdue: { deadline: { kind: string } }[] }>('{ overdue { deadline { kind } } }');
    expect(overdue.map((o) => o.deadline.kind).sort()).toEqual(['ARRIVAL_SUPPORT', 'MONITORING_VISIT', 'PLAN_APPROVAL']);
    const { cases } = await gw.as('P-AF-HOPE', 'partner-officer').ok<{
      cases: {
        edges: {
          node: { budget: { actual: { amount: number } } | null; shipments: { status: string }[]; evidence: unknown[] };
        }[];
      };
    }>('{ cases(filter: { status: [IN_IMPLEMENTATION] }) { edges { node { budget { actual { amount } } shipments { status } evidence { id } } } } }');
    expect(cases.edges).toHaveLength(2);
    for (const { node } of cases.edges) {
      expect(node.budget?.actual.amount).toBeGreaterThan(0);
      expect(node.shipments.length).toBeGreaterThanOrEqual(3);
      expect(node.evidence.length).toBeGreaterThan(0);
    }
  });

  it('is idempotent: a second run creates nothing and appends no event', async () => {
    expect(Object.keys(first.created).sort()).toEqual(
      [
        'case steps',
        'demo cases',
        'evidence files',
        'final reports',
        'monitoring visits',
        'progress updates',
        'shipment events',
      ].sort(),
    );
    const events = await gw.services.log.lastSeq();
    const again = await seedDemoProgress(gw.services);
    expect(again.created).toEqual({});
    expect(again.existing).toEqual(first.created);
    expect(await gw.services.log.lastSeq()).toBe(events);
  });
});
