// Reintegration plans: every component kind through approval, budgets and cash caps,
// exchange rates by date, changes requested, and amendments after approval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import {
  businessComponent,
  CASE_FIELDS,
  cashComponent,
  materialsComponent,
  serviceComponent,
  trainingComponent,
  workflow,
  type CaseView,
} from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const SUBMIT = `mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { id } }`;

describe('the whole workflow for each component kind', () => {
  const kinds: [string, unknown, Record<string, unknown>][] = [
    ['TRAINING', trainingComponent(80000), { programme: 'EURP-VOL' }],
    ['BUSINESS_PLAN', businessComponent(150000), { programme: 'EURP-VOL' }],
    ['MATERIALS', materialsComponent(15000), { programme: 'EURP-VOL' }],
    ['SERVICE', serviceComponent(20000), { programme: 'EURP-VOL' }],
    ['CASH', cashComponent(25000), { programme: 'NL-AVRR' }],
  ];

  it.each(kinds)('%s: drafted, submitted, approved, in force', async (kind, component, spec) => {
    const flow = workflow(gw);
    const arrived = await flow.arrived(spec);
    expect(arrived.status).toBe('ARRIVED');
    const drafted = await flow.draft(arrived, { summary: `A ${kind} plan`, components: [component] });
    expect(drafted.plan).toMatchObject({ planVersion: 1, status: 'DRAFT', totalEur: null });
    expect(drafted.plan?.components[0]?.kind).toBe(kind);
    const submitted = await flow.submit(drafted);
    expect(submitted.status).toBe('PLAN_SUBMITTED');
    expect(submitted.plan?.status).toBe('SUBMITTED');
    expect(submitted.plan?.totalEur?.amount).toBe(submitted.plan?.components[0]?.cost.amount);
    const approved = await flow.approve(submitted, 'Looks realistic.');
    expect(approved.status).toBe('PLAN_APPROVED');
    expect(approved.planInForce).toEqual({ planVersion: 1, status: 'APPROVED' });
  });

  it('materials cost the sum of their items, a business plan its start-up costs', async () => {
    const flow = workflow(gw);
    const drafted = await flow.draft(await flow.arrived(), { components: [materialsComponent(15000), businessComponent(40000)] });
    expect(drafted.plan?.components.map((c) => c.cost.amount)).toEqual([2 * 15000 + 10000, 40000]);
  });

  it('a component without its details, or with another kind’s, is refused', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const r = await flow.officer.gql(
      `mutation ($id: ID!, $p: PlanInput!, $v: Int!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { id } }`,
      {
        id: arrived.id,
        v: arrived.version,
        p: { components: [{ kind: 'TRAINING', title: 'x', cost: { amount: 100, currency: 'EUR' }, cash: { purpose: 'y' } }] },
      },
    );
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect((r.errors?.[0]?.extensions.problems as { path: string }[]).map((p) => p.path).sort()).toEqual([
      'plan.components.0.cash',
      'plan.components.0.training',
    ]);
  });
});

describe('budget', () => {
  it('a plan over the entitlement is refused at submission with the figures', async () => {
    const flow = workflow(gw);
    // One adult under EURP-VOL: 2,000.00 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [trainingComponent(150000), serviceComponent(60000)] });
    const r = await flow.officer.gql(SUBMIT, { id: drafted.id, v: drafted.version });
    expect(codes(r)).toEqual(['BUDGET_EXCEEDED']);
    expect(r.errors?.[0]?.extensions.figures).toEqual({
      totalEur: 210000,
      entitlementEur: 200000,
      cashEur: 0,
      cashCapEur: 0,
      currency: 'EUR',
      overByEur: 10000,
    });
    expect(r.errors?.[0]?.message).toBe('The plan costs 2,100.00 EUR, 100.00 EUR more than the entitlement of 2,000.00 EUR.');
    // Nothing changed: still a draft, same version.
    const { case: after } = await flow.officer.ok<{ case: CaseView }>(`query ($id: ID!) { case(id: $id) { ${CASE_FIELDS} } }`, {
      id: drafted.id,
    });
    expect(after.version).toBe(drafted.version);
    expect(after.plan?.status).toBe('DRAFT');
  });

  it('cash over the programme’s cash cap is refused even within the total', async () => {
    const flow = workflow(gw);
    const drafted = await flow.draft(await flow.arrived({ programme: 'NL-AVRR' }), {
      components: [cashComponent(35000), trainingComponent(50000)],
    });
    const r = await flow.officer.gql(SUBMIT, { id: drafted.id, v: drafted.version });
    expect(codes(r)).toEqual(['BUDGET_EXCEEDED']);
    expect(r.errors?.[0]?.extensions.figures).toMatchObject({ cashEur: 35000, cashCapEur: 30000, overByEur: 5000 });
  });

  it('EURP pays no cash at all', async () => {
    const flow = workflow(gw);
    const drafted = await flow.draft(await flow.arrived({ programme: 'EURP-VOL' }), { components: [cashComponent(100)] });
    expect(codes(await flow.officer.gql(SUBMIT, { id: drafted.id, v: drafted.version }))).toEqual(['BUDGET_EXCEEDED']);
  });
});

describe('exchange rates', () => {
  it('a plan in afghani is converted at the rate valid on its submission day, which it records', async () => {
    const clock = clockAt('2026-06-15T10:00:00Z');
    const timed = await startGateway({ clock });
    try {
      const flow = workflow(timed);
      // 76.5 AFN per EUR from 2024-01-01; 79.2 from 2026-07-01.
      const arrived = await flow.arrived(
        { consent: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-01-01', expiresOn: '2027-12-31' } },
        '2026-06-10',
      );
      const plan = { components: [trainingComponent(76_500, 'AFN')] };
      const beforeJuly = await flow.submit(await flow.draft(arrived, plan));
      expect(beforeJuly.plan?.ratesUsed).toEqual([{ currency: 'AFN', rate: '76.5', validFrom: '2024-01-01' }]);
      // AFN has no minor unit: 76,500 AFN / 76.5 = 1,000.00 EUR.
      expect(beforeJuly.plan?.totalEur?.amount).toBe(100000);

      const requested = await flow.requestChanges(beforeJuly, 'Resubmit after the rate change, please.');
      clock.set(new Date('2026-07-02T10:00:00Z'));
      const later = workflow(timed);
      const afterJuly = await later.submit(await later.draft(requested, plan));
      expect(afterJuly.plan?.planVersion).toBe(2);
      expect(afterJuly.plan?.ratesUsed).toEqual([{ currency: 'AFN', rate: '79.2', validFrom: '2026-07-01' }]);
      expect(afterJuly.plan?.totalEur?.amount).toBe(Math.round((76_500 / 79.2) * 100));
    } finally {
      await timed.close();
    }
  });

  it('a currency without a rate on the day is refused at submission, naming it', async () => {
    const flow = workflow(gw);
    const drafted = await flow.draft(await flow.arrived(), { components: [trainingComponent(1000, 'CHF')] });
    const r = await flow.officer.gql(SUBMIT, { id: drafted.id, v: drafted.version });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.message).toMatch(/CHF/);
  });

  it('only network administrators set rates; a rate that exists needs its version to be corrected', async () => {
    const set = `mutation ($input: ExchangeRateInput!, $v: Int) { setExchangeRate(input: $input, expectedVersion: $v) { currency rate validFrom version } }`;
    const input = { currency: 'CHF', rate: '0.94', validFrom: '2026-01-01' };
    expect(codes(await gw.as('NL', 'coordinator').gql(set, { input }))).toEqual(['FORBIDDEN']);
    const admin = gw.as('ERIN-NET', 'network-admin');
    expect((await admin.ok<{ setExchangeRate: unknown }>(set, { input })).setExchangeRate).toEqual({ ...input, version: 1 });
    expect(codes(await admin.gql(set, { input: { ...input, rate: '0.95' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await admin.gql(set, { input: { ...input, rate: '0.95' }, v: 7 }))).toEqual(['CONFLICT']);
    expect(
      (await admin.ok<{ setExchangeRate: { version: number } }>(set, { input: { ...input, rate: '0.95' }, v: 1 })).setExchangeRate
        .version,
    ).toBe(2);
    expect(codes(await admin.gql(set, { input: { ...input, rate: '-1' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await admin.gql(set, { input: { ...input, currency: 'XYZ' } }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('versions, changes and amendments', () => {
  it('changes requested: the comment is kept and the next save starts version 2', async () => {
    const flow = workflow(gw);
    const submitted = await flow.submit(await flow.draft(await flow.arrived(), { components: [trainingComponent(90000)] }));
    const changes = await flow.requestChanges(submitted, 'Please add the tool kit.');
    expect(changes.status).toBe('CHANGES_REQUESTED');
    expect(changes.plan).toMatchObject({
      planVersion: 1,
      status: 'CHANGES_REQUESTED',
      decisionComment: 'Please add the tool kit.',
    });
    const v2 = await flow.draft(changes, { components: [trainingComponent(90000), materialsComponent(10000)] });
    expect(v2.plan).toMatchObject({ planVersion: 2, status: 'DRAFT' });
    const approved = await flow.approve(await flow.submit(v2));
    expect(approved.planInForce?.planVersion).toBe(2);
  });

  it('requesting changes needs a comment; deciding needs a submitted plan', async () => {
    const flow = workflow(gw);
    const submitted = await flow.submit(await flow.draft(await flow.arrived(), { components: [trainingComponent(90000)] }));
    const noComment = await flow.state.gql(
      `mutation ($id: ID!, $v: Int!) { decidePlan(caseId: $id, decision: REQUEST_CHANGES, expectedVersion: $v) { id } }`,
      {
        id: submitted.id,
        v: submitted.version,
      },
    );
    expect(codes(noComment)).toEqual(['BAD_USER_INPUT']);
    const approved = await flow.approve(submitted);
    const twice = await flow.state.gql(
      `mutation ($id: ID!, $v: Int!) { decidePlan(caseId: $id, decision: APPROVE, expectedVersion: $v) { id } }`,
      {
        id: approved.id,
        v: approved.version,
      },
    );
    expect(codes(twice)).toEqual(['INVALID_TRANSITION']);
  });

  it('a submitted plan is pinned: no more draft saves until it is decided', async () => {
    const flow = workflow(gw);
    const submitted = await flow.submit(await flow.draft(await flow.arrived(), { components: [trainingComponent(90000)] }));
    const r = await flow.officer.gql(
      `mutation ($id: ID!, $p: PlanInput!, $v: Int!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { id } }`,
      {
        id: submitted.id,
        v: submitted.version,
        p: { components: [trainingComponent(1)] },
      },
    );
    expect(codes(r)).toEqual(['INVALID_TRANSITION']);
  });

  it('an amendment after approval is a new version that needs approval; the approved one stays in force until then', async () => {
    const flow = workflow(gw);
    const approved = await flow.approved({ components: [trainingComponent(90000)] });
    const componentId = approved.plan!.components[0]!.id;
    const amendment = await flow.draft(approved, {
      components: [{ ...trainingComponent(90000), id: componentId }, materialsComponent(20000)],
    });
    expect(amendment.status).toBe('PLAN_APPROVED');
    expect(amendment.plan).toMatchObject({ planVersion: 2, status: 'DRAFT', amendmentOf: 1 });
    expect(amendment.planInForce).toEqual({ planVersion: 1, status: 'APPROVED' });
    // The component keeps its id across versions.
    expect(amendment.plan?.components[0]?.id).toBe(componentId);
    const pending = await flow.submit(amendment);
    expect(pending.status).toBe('PLAN_APPROVED');
    expect(pending.planInForce?.planVersion).toBe(1);
    const amended = await flow.approve(pending);
    expect(amended.planInForce).toEqual({ planVersion: 2, status: 'APPROVED' });
    const { case: history } = await flow.state.ok<{ case: { plans: { planVersion: number; status: string }[] } }>(
      `query ($id: ID!) { case(id: $id) { plans { planVersion status } } }`,
      { id: amended.id },
    );
    expect(history.plans).toEqual([
      { planVersion: 1, status: 'SUPERSEDED' },
      { planVersion: 2, status: 'APPROVED' },
    ]);
  });

  it('an approved version never changes', async () => {
    const flow = workflow(gw);
    const approved = await flow.approved({ components: [trainingComponent(90000)] });
    const planBefore = await (await gw.raw()).collection('plans').findOne({ _id: `${approved.id}:1` as never });
    await flow.draft(approved, { components: [trainingComponent(10000)] });
    const planAfter = await (await gw.raw()).collection('plans').findOne({ _id: `${approved.id}:1` as never });
    expect(planAfter).toEqual(planBefore);
  });
});
