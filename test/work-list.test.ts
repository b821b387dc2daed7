// What the portal asks the server instead of keeping its own copy of the rules: the actions a
// person may take on a case, their work list, and a plan's cost before it is submitted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  // The factory's cases depart on 2026-12-20: on a day of that world, so no deadline of the
  // return leg has fallen due whatever day the suite runs (from 2026-12-14 one would have).
  gw = await startGateway({ clock: clockAt('2026-11-28T09:00:00Z') });
});
afterAll(async () => {
  await gw?.close();
});

const ACTIONS = 'query ($id: ID!) { case(id: $id) { status allowedActions allowedProgressKinds } }';
const WORK_LIST = '{ workList { action overdue daysLate case { id reference } deadline { kind dueOn } } }';
type Actions = { case: { status: string; allowedActions: string[]; allowedProgressKinds: string[] } };
type WorkList = { workList: { action: string; overdue: boolean; case: { id: string }; deadline: { kind: string } | null }[] };

describe('allowed actions', () => {
  it('follow the case through its life, for the member state and the partner alike', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const state = (id: string) => flow.state.ok<Actions>(ACTIONS, { id }).then((d) => d.case);
    const officer = (id: string) => flow.officer.ok<Actions>(ACTIONS, { id }).then((d) => d.case);

    const draft = await flow.create();
    // A member state records the return leg itself where it has no implementing organisation.
    expect((await state(draft.id)).allowedActions).toEqual(['UPDATE_CASE', 'REFER', 'RECORD_RETURN_STEP', 'CLOSE']);
    const referred = await flow.refer(draft);
    expect((await officer(referred.id)).allowedActions).toEqual(['RESPOND_TO_REFERRAL']);
    expect((await state(referred.id)).allowedActions).toEqual(['UPDATE_CASE', 'RECORD_RETURN_STEP', 'CLOSE']);
    const accepted = await flow.accept(referred);
    expect((await officer(accepted.id)).allowedActions).toEqual(['CONFIRM_ARRIVAL', 'SAVE_DRAFT_PLAN']);
    const arrived = await flow.arrive(accepted);
    const afterArrival = await officer(arrived.id);
    expect(afterArrival.allowedActions).toEqual(['SAVE_DRAFT_PLAN', 'POST_PROGRESS', 'UPLOAD_EVIDENCE']);
    expect(afterArrival.allowedProgressKinds).toEqual(['ARRIVAL_SUPPORT', 'COUNSELLING', 'CONCERN', 'OTHER']);
    expect((await state(arrived.id)).allowedProgressKinds).toEqual(['COUNSELLING', 'CONCERN', 'OTHER']);
    const drafted = await flow.draft(arrived, { components: [trainingComponent()] });
    expect((await officer(drafted.id)).allowedActions).toContain('SUBMIT_PLAN');
    const submitted = await flow.submit(drafted);
    expect((await officer(submitted.id)).allowedActions).not.toContain('SAVE_DRAFT_PLAN');
    expect((await state(submitted.id)).allowedActions).toContain('DECIDE_PLAN');
    // A caseworker without the coordinator role may not decide.
    const caseworker = gw.as('NL', 'caseworker');
    expect((await caseworker.ok<Actions>(ACTIONS, { id: submitted.id })).case.allowedActions).not.toContain('DECIDE_PLAN');
    const approved = await flow.approve(submitted);
    expect((await officer(approved.id)).allowedActions).toEqual([
      'SAVE_DRAFT_PLAN',
      'POST_PROGRESS',
      'UPLOAD_EVIDENCE',
      'RECORD_SHIPMENT_EVENT',
      'RECORD_MONITORING_VISIT',
    ]);
  });

  it('a listed action is one the write accepts, and one not listed is refused', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const arrived = await flow.arrived();
    expect((await flow.officer.ok<Actions>(ACTIONS, { id: arrived.id })).case.allowedActions).not.toContain('SUBMIT_PLAN');
    const refused = await flow.officer.gql(
      'mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { status } }',
      { id: arrived.id, v: arrived.version },
    );
    expect(codes(refused)).toEqual(['INVALID_TRANSITION']);
  });
});

describe('work list', () => {
  it("lists the caller's turns, most urgent first, and nothing of another partner", async () => {
    const flow = workflow(gw, 'BE', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create());
    const accepted = await flow.accept(await flow.refer(await flow.create()));
    const submitted = await flow.submit(await flow.draft(await flow.arrived(), { components: [trainingComponent()] }));

    const officer = (await flow.officer.ok<WorkList>(WORK_LIST)).workList;
    const mine = (id: string) => officer.find((i) => i.case.id === id);
    expect(mine(referred.id)).toMatchObject({ action: 'RESPOND_TO_REFERRAL', deadline: { kind: 'REFERRAL_ANSWER' } });
    expect(mine(accepted.id)?.action).toBe('CONFIRM_ARRIVAL');
    // The plan awaits the member state: what is left for the partner is the arrival support it owes.
    expect(mine(submitted.id)).toMatchObject({ action: 'POST_PROGRESS', deadline: { kind: 'ARRIVAL_SUPPORT' } });
    // Missed deadlines come first, then the soonest due.
    const firstUndated = officer.findIndex((i) => !i.overdue && !i.deadline);
    expect(officer.slice(0, firstUndated === -1 ? officer.length : firstUndated).every((i) => i.deadline)).toBe(true);

    const coordinator = (await flow.state.ok<WorkList>(WORK_LIST)).workList;
    expect(coordinator.find((i) => i.case.id === submitted.id)?.action).toBe('DECIDE_PLAN');
    expect(coordinator.find((i) => i.case.id === referred.id)).toBeUndefined();

    const other = (await gw.as('P-IQ-TIGRIS', 'partner-officer').ok<WorkList>(WORK_LIST)).workList;
    expect(other.map((i) => i.case.id)).not.toContain(referred.id);
  });
});

describe('plan costing', () => {
  const COSTING = `query ($id: ID!, $plan: PlanInput!) { planCosting(caseId: $id, plan: $plan) {
    totalEur { amount } remaining { amount } entitlement { amount } ratesUsed { currency rate }
    components { title cost { amount currency } costEur { amount } } problem { code message } } }`;
  type Costing = {
    planCosting: {
      totalEur: { amount: number };
      remaining: { amount: number };
      entitlement: { amount: number };
      ratesUsed: { currency: string; rate: string }[];
      components: { costEur: { amount: number } }[];
      problem: { code: string; message: string } | null;
    };
  };

  it('converts at the rate submitPlan would use and checks the entitlement, saving nothing', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const arrived = await flow.arrived();
    const within = await flow.officer.ok<Costing>(COSTING, {
      id: arrived.id,
      plan: { components: [trainingComponent(7920, 'AFN')] },
    });
    expect(within.planCosting.ratesUsed).toEqual([{ currency: 'AFN', rate: '79.2' }]);
    // The afghani has no minor unit: 7,920 AFN at 79.2 per euro is 100.00 EUR.
    expect(within.planCosting.components[0]!.costEur.amount).toBe(10000);
    expect(within.planCosting.problem).toBeNull();
    expect(within.planCosting.remaining.amount).toBe(within.planCosting.entitlement.amount - 10000);

    const over = await flow.officer.ok<Costing>(COSTING, {
      id: arrived.id,
      plan: { components: [trainingComponent(within.planCosting.entitlement.amount + 1)] },
    });
    expect(over.planCosting.problem?.code).toBe('BUDGET_EXCEEDED');
    const stored = await flow.officer.ok<{ case: { plan: unknown } }>('query ($id: ID!) { case(id: $id) { plan { status } } }', {
      id: arrived.id,
    });
    expect(stored.case.plan).toBeNull();
  });

  it("another partner's case does not exist, and a member state may not cost plans", async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const arrived = await flow.arrived();
    const plan = { components: [trainingComponent()] };
    expect(codes(await gw.as('P-IQ-TIGRIS', 'partner-officer').gql(COSTING, { id: arrived.id, plan }))).toEqual(['NOT_FOUND']);
    expect(codes(await flow.state.gql(COSTING, { id: arrived.id, plan }))).toEqual(['FORBIDDEN']);
  });
});
