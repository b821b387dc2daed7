// A whole case from referral to closure: every kind of progress update, every shipment
// step (a lost shipment replaced, one returned, one handed over), spend in EUR and in
// afghani at the rates of the days it was spent, a correction, monitoring visits with
// surveys, the final report and the closure, as the member state and the partner see it.
import { PROGRESS_KINDS } from '../src/modules/progress/progress.model.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { businessComponent, serviceComponent, trainingComponent } from './helpers/factories.ts';
import { BUDGET_FIELDS, SHIPMENT_FIELDS, surveyAnswers, UPDATE_FIELDS, type Tracked, onDay } from './helpers/implementation.ts';
import type { ManualClock } from '../src/clock.ts';

let gw: TestGateway;
let clock: ManualClock;
beforeAll(async () => {
  clock = clockAt('2026-03-02T09:00:00Z');
  gw = await startGateway({ clock });
});
afterAll(async () => {
  await gw?.close();
});

/** Moves the gateway to a day and hands out clients with tokens issued that day. */
const on = (day: string) => onDay(gw, clock, day);

const shippedMaterials = (id: string, title: string, items: { description: string; quantity: number; afn: number }[]) => ({
  id,
  kind: 'MATERIALS',
  title,
  materials: {
    items: items.map((i) => ({ description: i.description, quantity: i.quantity, unitCost: { amount: i.afn, currency: 'AFN' } })),
    supplier: 'Peshawar Machinery Traders',
    procurement: 'SHIPPED',
  },
});

const DETAILS = {
  carrier: 'Khyber Freight',
  trackingReference: 'KF-2026-0042',
  origin: 'Peshawar, PK',
  destination: 'Kabul, AF',
};

describe('a case from referral to closure', () => {
  it('goes through every kind of update and every shipment step, with the budget, surveys and final report to show for it', async () => {
    // ---- referral, arrival, and what happens before the plan -----------------------------------
    let { flow, impl } = on('2026-03-02');
    const arrived = await flow.arrived({}, '2026-03-02');
    const c: Tracked = { id: arrived.id, version: arrived.version };
    expect(arrived.status).toBe('ARRIVED');

    ({ flow, impl } = on('2026-03-04'));
    const arrival = await impl.post(c, {
      kind: 'ARRIVAL_SUPPORT',
      narrative: 'Met at Kabul airport; 615 EUR arrival support given in kind (food, rent).',
      language: 'en',
      occurredOn: '2026-03-04',
    });
    expect(arrival.case.status).toBe('ARRIVED');
    const counselling = await impl.post(
      c,
      {
        kind: 'COUNSELLING',
        narrative: 'Video call with the caseworker about the plan.',
        language: 'nl',
        occurredOn: '2026-03-04',
      },
      flow.state,
    );
    expect(counselling.update.postedBy.organisation.code).toBe('NL');

    // ---- the plan ---------------------------------------------------------------------------------
    ({ flow, impl } = on('2026-03-10'));
    // 19,125 AFN and 7,650 AFN at 76.5 AFN/EUR: 250.00 and 100.00 EUR.
    const plan = {
      summary: 'Tailoring workshop in Kabul',
      components: [
        { ...trainingComponent(50000), id: 'training' },
        shippedMaterials('machines', 'Sewing machines', [
          { description: 'Industrial sewing machine', quantity: 2, afn: 7650 },
          { description: 'Fabric stock', quantity: 1, afn: 3825 },
        ]),
        shippedMaterials('press', 'Steam press', [{ description: 'Steam press', quantity: 1, afn: 7650 }]),
        { ...businessComponent(60000), id: 'shop' },
        { ...serviceComponent(20000), id: 'housing' },
      ],
    };
    const approved = await flow.approve(await flow.submit(await flow.draft({ ...arrived, version: c.version }, plan)));
    c.version = approved.version;
    expect(approved.status).toBe('PLAN_APPROVED');
    expect(approved.plan?.totalEur?.amount).toBe(50000 + 25000 + 10000 + 60000 + 20000);

    const { case: scheduled } = await flow.state.ok<{
      case: {
        monitoring: { schedule: { visit: number; dueOn: string; status: string }[] };
        deadlines: { kind: string; status: string }[];
      };
    }>(`query ($id: ID!) { case(id: $id) { monitoring { schedule { visit dueOn status } } deadlines { kind status } } }`, {
      id: c.id,
    });
    expect(scheduled.monitoring.schedule).toEqual([
      { visit: 1, dueOn: '2026-06-02', status: 'UPCOMING' },
      { visit: 2, dueOn: '2026-09-02', status: 'UPCOMING' },
      { visit: 3, dueOn: '2027-03-02', status: 'UPCOMING' },
    ]);
    expect(scheduled.deadlines.filter((d) => d.kind !== 'MONITORING_VISIT')).toEqual([
      { kind: 'REFERRAL_ANSWER', status: 'MET' },
      { kind: 'ARRIVAL_SUPPORT', status: 'MET' },
      { kind: 'PLAN_APPROVAL', status: 'MET' },
      { kind: 'REGISTRATION', status: 'MET' },
    ]);

    // ---- training: the first update after approval starts the implementation ------------------
    ({ flow, impl } = on('2026-03-20'));
    const attending = await impl.post(c, {
      kind: 'TRAINING_ATTENDANCE',
      componentId: 'training',
      narrative: 'Attends the industrial sewing course, week 1.',
      language: 'en',
      occurredOn: '2026-03-16',
    });
    expect(attending.case.status).toBe('IN_IMPLEMENTATION');
    const invoice = await impl.upload(c, 'INVOICE');
    const courseFee = await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'training',
      narrative: 'Course fee paid to the institute.',
      language: 'en',
      occurredOn: '2026-03-18',
      spend: { amount: { amount: 50000, currency: 'EUR' }, proof: invoice.id },
    });
    expect(courseFee.update.spend).toMatchObject({ amountEur: { amount: 50000 }, proof: { id: invoice.id } });

    // ---- shipments: one lost and replaced, then every step to the handover; one returned ---------
    ({ flow, impl } = on('2026-03-21'));
    const lost = await impl.ship(c, {
      componentId: 'machines',
      status: 'ORDERED',
      at: '2026-03-21T08:00:00Z',
      place: 'Peshawar',
      shipment: DETAILS,
    });
    expect(lost.shipment).toMatchObject({
      status: 'ORDERED',
      allowedNext: ['DISPATCHED'],
      supplier: 'Peshawar Machinery Traders',
    });
    const lostId = lost.shipment.id;
    ({ flow, impl } = on('2026-04-15'));
    await impl.ship(c, { shipmentId: lostId, status: 'DISPATCHED', at: '2026-03-25T10:00:00Z', place: 'Peshawar depot' });
    await impl.ship(c, { shipmentId: lostId, status: 'IN_TRANSIT', at: '2026-03-28T10:00:00Z', place: 'Torkham border' });
    const gone = await impl.ship(c, {
      shipmentId: lostId,
      status: 'LOST',
      at: '2026-04-15T08:00:00Z',
      place: 'Jalalabad',
      note: 'Truck hijacked',
    });
    expect(gone.shipment).toMatchObject({ status: 'LOST', allowedNext: [] });

    ({ flow, impl } = on('2026-04-16'));
    const receipt = await impl.upload(c, 'RECEIPT');
    await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'machines',
      narrative: 'Two machines bought again after the first shipment was lost (insured loss claimed).',
      language: 'en',
      occurredOn: '2026-04-16',
      spend: { amount: { amount: 15300, currency: 'AFN' }, proof: receipt.id },
    });
    const reorder = await impl.ship(c, {
      componentId: 'machines',
      status: 'ORDERED',
      at: '2026-04-16T08:00:00Z',
      place: 'Peshawar',
      shipment: { ...DETAILS, trackingReference: 'KF-2026-0077' },
    });
    const press = await impl.ship(c, {
      componentId: 'press',
      status: 'ORDERED',
      at: '2026-04-16T08:30:00Z',
      place: 'Peshawar',
      shipment: { ...DETAILS, trackingReference: 'KF-2026-0078' },
    });
    ({ flow, impl } = on('2026-05-10'));
    const steps = [
      ['DISPATCHED', '2026-04-18T10:00:00Z', 'Peshawar depot'],
      ['IN_TRANSIT', '2026-04-20T10:00:00Z', 'Torkham border'],
      ['AT_CUSTOMS', '2026-04-22T10:00:00Z', 'Kabul customs'],
      ['DELIVERED', '2026-05-02T10:00:00Z', 'Kabul, District 3'],
    ] as const;
    for (const shipment of [reorder.shipment, press.shipment]) {
      for (const [status, at, place] of steps) {
        const r = await impl.ship(c, { shipmentId: shipment.id, status, at, place, handledBy: 'Khyber Freight' });
        expect(r.shipment.status).toBe(status);
      }
    }
    const certificate = await impl.upload(c, 'HANDOVER_CERTIFICATE', undefined, 'handover.pdf');
    const handedOver = await impl.ship(c, {
      shipmentId: reorder.shipment.id,
      status: 'HANDED_OVER',
      at: '2026-05-03T11:00:00Z',
      place: 'Kabul, District 3',
      evidence: certificate.id,
      note: 'Signed by the returnee',
    });
    expect(handedOver.shipment).toMatchObject({
      status: 'HANDED_OVER',
      deliveryClosed: true,
      handoverCertificate: { id: certificate.id, kind: 'HANDOVER_CERTIFICATE' },
    });
    expect(handedOver.shipment.events.map((e) => e.status)).toEqual([
      'ORDERED',
      'DISPATCHED',
      'IN_TRANSIT',
      'AT_CUSTOMS',
      'DELIVERED',
      'HANDED_OVER',
    ]);
    const returned = await impl.ship(c, {
      shipmentId: press.shipment.id,
      status: 'RETURNED',
      at: '2026-05-04T09:00:00Z',
      place: 'Kabul, District 3',
      note: 'Damaged in transit; refused',
    });
    expect(returned.shipment.status).toBe('RETURNED');

    // ---- the first monitoring visit ---------------------------------------------------------------
    ({ flow, impl } = on('2026-06-05'));
    const firstVisit = await impl.visit(c, {
      visitedOn: '2026-06-04',
      narrative: 'Workshop open three days a week.',
      language: 'en',
      answers: surveyAnswers({ ECO_INCOME: 'IRREGULAR', PSY_DISTRESS: 'SOMETIMES' }),
    });
    expect(firstVisit.survey.visit).toBe(1);

    // ---- business, completion, a correction, concerns; spend in afghani at the day's rate ---------
    ({ flow, impl } = on('2026-07-05'));
    await impl.post(c, {
      kind: 'TRAINING_COMPLETED',
      componentId: 'training',
      narrative: 'Certificate received.',
      language: 'en',
      occurredOn: '2026-06-30',
    });
    const shopReceipt = await impl.upload(c, 'RECEIPT', undefined, 'shop.pdf');
    const shopPurchase = await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'shop',
      narrative: 'First month of shop rent and fittings: 450 EUR.',
      language: 'en',
      occurredOn: '2026-07-01',
      spend: { amount: { amount: 45000, currency: 'EUR' }, proof: shopReceipt.id },
    });
    const corrected = await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'shop',
      narrative: 'First month of shop rent and fittings: 400 EUR (typo corrected).',
      language: 'en',
      occurredOn: '2026-07-01',
      spend: { amount: { amount: 40000, currency: 'EUR' }, proof: shopReceipt.id },
      corrects: shopPurchase.update.id,
    });
    expect(corrected.update.corrects).toEqual({ id: shopPurchase.update.id });
    await impl.post(c, {
      kind: 'BUSINESS_STARTED',
      componentId: 'shop',
      narrative: 'Shop opened in the bazaar.',
      language: 'en',
      occurredOn: '2026-07-02',
    });
    const rentReceipt = await impl.upload(c, 'RECEIPT', undefined, 'rent.pdf');
    // Spent on 20 June at 76.5 AFN/EUR, posted on 5 July when 79.2 applies: 1,530 AFN is 20.00 EUR.
    const rent = await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'housing',
      narrative: 'Room rent for June.',
      language: 'en',
      occurredOn: '2026-06-20',
      spend: { amount: { amount: 1530, currency: 'AFN' }, proof: rentReceipt.id },
    });
    expect(rent.update.spend).toMatchObject({
      amountEur: { amount: 2000 },
      rate: { currency: 'AFN', rate: '76.5', validFrom: '2024-01-01' },
    });
    await impl.post(c, {
      kind: 'CONCERN',
      narrative: 'Neighbour dispute over the shop front.',
      language: 'en',
      occurredOn: '2026-07-03',
    });
    await impl.post(c, {
      kind: 'OTHER',
      narrative: 'Registered the shop with the municipality.',
      language: 'en',
      occurredOn: '2026-07-04',
    });

    // ---- the second visit, the final report and the closure ---------------------------------------
    ({ flow, impl } = on('2026-09-05'));
    const secondVisit = await impl.visit(c, {
      visitedOn: '2026-09-03',
      narrative: 'Shop open six days a week; two regular clients.',
      language: 'en',
      answers: surveyAnswers(),
    });
    expect(secondVisit.survey.scores.composite).toBe(1);

    ({ flow, impl } = on('2026-09-10'));
    const reported = await impl.report(c, {
      finalMeetingOn: '2026-09-08',
      feedback: 'Business running; the returned press was not replaced as the budget was reallocated.',
      language: 'en',
    });
    expect(reported.status).toBe('FINAL_REPORTED');
    // Spend is final with the report: the rent cannot be corrected away by a note now.
    const unspent = await impl.postRaw(reported, {
      kind: 'OTHER',
      narrative: 'The rent was paid by the family after all.',
      language: 'en',
      occurredOn: '2026-09-09',
      corrects: rent.update.id,
    });
    expect(codes(unspent)).toEqual(['INVALID_TRANSITION']);
    const closed = await flow.close({ ...arrived, version: c.version }, 'SUPPORT_PERIOD_ENDED');
    expect(closed.status).toBe('CLOSED');

    // ---- what both parties see afterwards ---------------------------------------------------------
    const VIEW = `query ($id: ID!) { case(id: $id) { status
      progress(first: 50) { totalCount edges { node { ${UPDATE_FIELDS} } } }
      ${BUDGET_FIELDS}
      shipments { ${SHIPMENT_FIELDS} }
      monitoring { schedule { visit dueOn visitedOn status survey { id } } surveys { id visit visitedOn } latestScores { composite } }
      evidence { id kind filename }
      deadlines { kind visit status }
      finalReport { planVersion planned { amount } actual { amount } feedback finalMeetingOn
        lines { component { id } planned { amount } actual { amount } difference { amount } proofs { id } }
        lastSurvey { id visit } submittedBy { organisation { code } } } } }`;
    for (const client of [flow.state, flow.officer]) {
      const { case: view } = await client.ok<{
        case: Record<string, unknown> & { progress: { edges: { node: { kind: string } }[] } };
      }>(VIEW, { id: c.id });
      expect(view.status).toBe('CLOSED');
      const kinds = new Set(view.progress.edges.map((e) => e.node.kind));
      expect([...kinds].sort()).toEqual([...PROGRESS_KINDS].sort());
      // 20,000 AFN-equivalent for the machines: 15,300 AFN at 76.5 = 200.00 EUR.
      expect(view.budget).toEqual({
        entitlement: { amount: 200000 },
        planned: { amount: 165000 },
        actual: { amount: 50000 + 20000 + 40000 + 2000 },
        remaining: { amount: 165000 - 112000 },
        lines: [
          {
            component: { id: 'training', kind: 'TRAINING', title: 'Tailoring course' },
            planned: { amount: 50000 },
            actual: { amount: 50000 },
            remaining: { amount: 0 },
          },
          {
            component: { id: 'machines', kind: 'MATERIALS', title: 'Sewing machines' },
            planned: { amount: 25000 },
            actual: { amount: 20000 },
            remaining: { amount: 5000 },
          },
          {
            component: { id: 'press', kind: 'MATERIALS', title: 'Steam press' },
            planned: { amount: 10000 },
            actual: { amount: 0 },
            remaining: { amount: 10000 },
          },
          {
            component: { id: 'shop', kind: 'BUSINESS_PLAN', title: 'Tailoring shop' },
            planned: { amount: 60000 },
            actual: { amount: 40000 },
            remaining: { amount: 20000 },
          },
          {
            component: { id: 'housing', kind: 'SERVICE', title: 'Housing for three months' },
            planned: { amount: 20000 },
            actual: { amount: 2000 },
            remaining: { amount: 18000 },
          },
        ],
      });
      expect((view.shipments as { status: string }[]).map((s) => s.status)).toEqual(['LOST', 'HANDED_OVER', 'RETURNED']);
      expect(view.monitoring).toEqual({
        schedule: [
          { visit: 1, dueOn: '2026-06-02', visitedOn: '2026-06-04', status: 'MET_LATE', survey: { id: firstVisit.survey.id } },
          { visit: 2, dueOn: '2026-09-02', visitedOn: '2026-09-03', status: 'MET_LATE', survey: { id: secondVisit.survey.id } },
          { visit: 3, dueOn: '2027-03-02', visitedOn: null, status: 'LAPSED', survey: null },
        ],
        surveys: [
          { id: secondVisit.survey.id, visit: 2, visitedOn: '2026-09-03' },
          { id: firstVisit.survey.id, visit: 1, visitedOn: '2026-06-04' },
        ],
        latestScores: { composite: 1 },
      });
      expect(view.finalReport).toEqual({
        planVersion: 1,
        planned: { amount: 165000 },
        actual: { amount: 112000 },
        feedback: 'Business running; the returned press was not replaced as the budget was reallocated.',
        finalMeetingOn: '2026-09-08',
        lines: [
          {
            component: { id: 'training' },
            planned: { amount: 50000 },
            actual: { amount: 50000 },
            difference: { amount: 0 },
            proofs: [{ id: invoice.id }],
          },
          {
            component: { id: 'machines' },
            planned: { amount: 25000 },
            actual: { amount: 20000 },
            difference: { amount: -5000 },
            proofs: [{ id: receipt.id }],
          },
          {
            component: { id: 'press' },
            planned: { amount: 10000 },
            actual: { amount: 0 },
            difference: { amount: -10000 },
            proofs: [],
          },
          {
            component: { id: 'shop' },
            planned: { amount: 60000 },
            actual: { amount: 40000 },
            difference: { amount: -20000 },
            proofs: [{ id: shopReceipt.id }],
          },
          {
            component: { id: 'housing' },
            planned: { amount: 20000 },
            actual: { amount: 2000 },
            difference: { amount: -18000 },
            proofs: [{ id: rentReceipt.id }],
          },
        ],
        lastSurvey: { id: secondVisit.survey.id, visit: 2 },
        submittedBy: { organisation: { code: 'P-AF-HOPE' } },
      });
      expect((view.evidence as { kind: string }[]).map((e) => e.kind)).toEqual([
        'INVOICE',
        'RECEIPT',
        'HANDOVER_CERTIFICATE',
        'RECEIPT',
        'RECEIPT',
      ]);
    }

    // The statistics contract on the case document.
    const stored = await (await gw.raw()).collection('cases').findOne({ _id: c.id as never });
    expect(stored).toMatchObject({
      actualEur: 112000,
      spend: [
        { componentId: 'training', kind: 'TRAINING', actualEur: 50000 },
        { componentId: 'machines', kind: 'MATERIALS', actualEur: 20000 },
        { componentId: 'shop', kind: 'BUSINESS_PLAN', actualEur: 40000 },
        { componentId: 'housing', kind: 'SERVICE', actualEur: 2000 },
      ],
      latestScores: { economic: 1, social: 1, psychosocial: 1, composite: 1 },
      nextDeadlineAt: null,
    });

    // One event per accepted write, in order, each naming the case.
    const history = await gw.services.log.page(0, 10_000);
    const types = history.filter((e) => e.caseId === c.id && e.aggregateType === 'case').map((e) => e.type);
    expect(types).toEqual([
      'CaseCreated',
      'CaseReferred',
      'ReferralAccepted',
      'ArrivalConfirmed',
      'ProgressPosted',
      'ProgressPosted',
      'PlanDraftSaved',
      'PlanSubmitted',
      'PlanApproved',
      'ProgressPosted',
      'ProgressPosted',
      'ShipmentOrdered',
      'ShipmentDispatched',
      'ShipmentInTransit',
      'ShipmentLost',
      'ProgressPosted',
      'ShipmentOrdered',
      'ShipmentOrdered',
      'ShipmentDispatched',
      'ShipmentInTransit',
      'ShipmentAtCustoms',
      'ShipmentDelivered',
      'ShipmentDispatched',
      'ShipmentInTransit',
      'ShipmentAtCustoms',
      'ShipmentDelivered',
      'ShipmentHandedOver',
      'ShipmentReturned',
      'MonitoringVisitRecorded',
      'ProgressPosted',
      'ProgressPosted',
      'ProgressCorrected',
      'ProgressPosted',
      'ProgressPosted',
      'ProgressPosted',
      'ProgressPosted',
      'MonitoringVisitRecorded',
      'FinalReportSubmitted',
      'CaseClosed',
    ]);
    const uploads = history.filter((e) => e.caseId === c.id && e.type === 'EvidenceUploaded');
    expect(uploads).toHaveLength(5);
  });
});
