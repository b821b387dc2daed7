// Deadlines as data, on a seeded clock: the referral answer (7 days), arrival support
// (14 working days of arrival under EURP), the plan (a month after arrival) and the
// monitoring visits; the `overdue` list of each organisation, how late, who must act, and
// the background job that records each missed deadline once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import type { ManualClock } from '../src/clock.ts';
import { addWorkingDays, calendarsFrom } from '../src/modules/deadlines/calendar.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, trainingComponent, workflow, type CaseView } from './helpers/factories.ts';
import { implementation } from './helpers/implementation.ts';

let gw: TestGateway;
let clock: ManualClock;
const cases = {} as Record<'late' | 'avrr' | 'onTime' | 'iraq' | 'sweden' | 'submitted' | 'referred', CaseView>;

function on(day: string, memberState = 'NL', partner = 'P-AF-HOPE') {
  clock.set(new Date(`${day}T09:00:00Z`));
  const flow = workflow(gw, memberState, partner);
  return { flow, impl: implementation(gw, flow) };
}

beforeAll(async () => {
  clock = clockAt('2026-02-20T09:00:00Z');
  gw = await startGateway({ clock });
  // Friday 20 February 2026: four cases arrive.
  let { flow, impl } = on('2026-02-20');
  cases.late = await flow.arrived({}, '2026-02-20');
  cases.avrr = await flow.arrived({ programme: 'NL-AVRR' }, '2026-02-20');
  cases.onTime = await flow.arrived({}, '2026-02-20');
  cases.iraq = await on('2026-02-20', 'NL', 'P-IQ-TIGRIS').flow.arrived({ originCountry: 'IQ' }, '2026-02-20');
  cases.sweden = await on('2026-02-20', 'SE', 'P-AF-HOPE').flow.arrived({}, '2026-02-20');
  // The punctual case: arrival support within days, the plan approved within the month.
  ({ flow, impl } = on('2026-02-24'));
  await impl.post(
    { id: cases.onTime.id, version: cases.onTime.version },
    { kind: 'ARRIVAL_SUPPORT', narrative: 'Given', language: 'en', occurredOn: '2026-02-24' },
  );
  ({ flow, impl } = on('2026-03-05'));
  const current = await flow.state.ok<{ case: CaseView }>('query ($id: ID!) { case(id: $id) { id version } }', {
    id: cases.onTime.id,
  });
  cases.onTime = await flow.approve(
    await flow.submit(await flow.draft(current.case, { components: [trainingComponent(80000)] })),
  );
  // A plan waiting for the member state's decision.
  cases.submitted = await flow.submit(await flow.draft(cases.avrr, { components: [trainingComponent(80000)] }));
  delete (cases as Partial<typeof cases>).avrr;
  // Referred on 16 March, unanswered.
  ({ flow } = on('2026-03-16'));
  cases.referred = await flow.refer(await flow.create());
});
afterAll(async () => {
  await gw?.close();
});

type Item = {
  case: { reference: string };
  deadline: { kind: string; dueOn: string; waitingOn: { code: string } };
  daysLate: number;
};
const OVERDUE = `{ overdue { case { reference } deadline { kind dueOn waitingOn { code } } daysLate } }`;

async function overdueFor(
  org: string,
  role: 'caseworker' | 'partner-officer',
): Promise<[string, string, string, number, string][]> {
  const { overdue } = await gw.as(org, role).ok<{ overdue: Item[] }>(OVERDUE);
  const name = (reference: string) => Object.entries(cases).find(([, c]) => c.reference === reference)?.[0] ?? reference;
  return overdue.map((i) => [name(i.case.reference), i.deadline.kind, i.deadline.dueOn, i.daysLate, i.deadline.waitingOn.code]);
}

describe('the overdue list', () => {
  it('lists, for each organisation, what is late on its cases, by how much and who must act, most late first', async () => {
    on('2026-03-25');
    // Arrival on Friday 20 Feb. Afghanistan rests on Fridays only: the 14th working day is Sunday
    // 8 March. Iraq rests on Fridays and Saturdays: Wednesday 11 March. The plan was due on 20 March.
    expect(await overdueFor('NL', 'caseworker')).toEqual([
      ['late', 'ARRIVAL_SUPPORT', '2026-03-08', 17, 'P-AF-HOPE'],
      ['iraq', 'ARRIVAL_SUPPORT', '2026-03-11', 14, 'P-IQ-TIGRIS'],
      ['late', 'PLAN_APPROVAL', '2026-03-20', 5, 'P-AF-HOPE'],
      // NL-AVRR has no arrival support; its submitted plan waits on the member state.
      ['submitted', 'PLAN_APPROVAL', '2026-03-20', 5, 'NL'],
      ['iraq', 'PLAN_APPROVAL', '2026-03-20', 5, 'P-IQ-TIGRIS'],
      ['referred', 'REFERRAL_ANSWER', '2026-03-23', 2, 'P-AF-HOPE'],
    ]);
    expect(await overdueFor('P-AF-HOPE', 'partner-officer')).toEqual([
      ['late', 'ARRIVAL_SUPPORT', '2026-03-08', 17, 'P-AF-HOPE'],
      ['sweden', 'ARRIVAL_SUPPORT', '2026-03-08', 17, 'P-AF-HOPE'],
      ['late', 'PLAN_APPROVAL', '2026-03-20', 5, 'P-AF-HOPE'],
      ['submitted', 'PLAN_APPROVAL', '2026-03-20', 5, 'NL'],
      ['sweden', 'PLAN_APPROVAL', '2026-03-20', 5, 'P-AF-HOPE'],
      ['referred', 'REFERRAL_ANSWER', '2026-03-23', 2, 'P-AF-HOPE'],
    ]);
    expect((await overdueFor('SE', 'caseworker')).map((i) => i[0])).toEqual(['sweden', 'sweden']);
    expect((await overdueFor('P-IQ-TIGRIS', 'partner-officer')).map((i) => i[0])).toEqual(['iraq', 'iraq']);
    expect(codes(await gw.as('EMN-REG', 'reg-analyst').gql(OVERDUE))).toEqual(['FORBIDDEN']);
  });

  it('a list of none is none, and reads no case (a limit of 0 is "no limit" to the store)', async () => {
    on('2026-03-25');
    const nl = gw.as('NL', 'caseworker');
    await nl.ok('{ overdue(first: 1) { daysLate } }'); // the token's lookups, once
    const before = gw.store.recorder.queries.length;
    expect((await nl.ok<{ overdue: unknown[] }>('{ overdue(first: 0) { daysLate } }')).overdue).toEqual([]);
    // NL's own read of its cases by deadline (the deadline job, which may run meanwhile, reads them unscoped).
    const reads = gw.store.recorder.queries
      .slice(before)
      .filter((q) => q.collection === 'cases' && q.sortFields[0] === 'nextDeadlineAt' && q.filterFields.includes('memberState'));
    expect(reads).toEqual([]);
  });

  it('a deadline met late leaves the list and shows as MET_LATE with its lateness', async () => {
    const { impl } = on('2026-03-26');
    const { case: now } = await workflow(gw).state.ok<{ case: CaseView }>('query ($id: ID!) { case(id: $id) { id version } }', {
      id: cases.late.id,
    });
    await impl.post(
      { id: now.id, version: now.version },
      { kind: 'ARRIVAL_SUPPORT', narrative: 'Late', language: 'en', occurredOn: '2026-03-26' },
    );
    const { case: view } = await workflow(gw).state.ok<{
      case: { deadlines: { kind: string; status: string; daysLate: number | null; metOn: string | null }[] };
    }>('query ($id: ID!) { case(id: $id) { deadlines { kind status daysLate metOn } } }', { id: cases.late.id });
    expect(view.deadlines).toEqual([
      { kind: 'REFERRAL_ANSWER', status: 'MET', daysLate: null, metOn: '2026-02-20' },
      { kind: 'ARRIVAL_SUPPORT', status: 'MET_LATE', daysLate: 18, metOn: '2026-03-26' },
      { kind: 'PLAN_APPROVAL', status: 'OVERDUE', daysLate: 6, metOn: null },
      // Registered on 20 February for a departure planned on 20 December: in time.
      { kind: 'REGISTRATION', status: 'MET', daysLate: null, metOn: '2026-02-20' },
    ]);
    expect((await overdueFor('NL', 'caseworker')).filter((i) => i[0] === 'late').map((i) => i[1])).toEqual(['PLAN_APPROVAL']);
  });

  it('monitoring visits are due on their dates', async () => {
    on('2026-05-20');
    expect((await overdueFor('NL', 'caseworker')).some((i) => i[0] === 'onTime')).toBe(false);
    on('2026-05-25');
    expect((await overdueFor('NL', 'caseworker')).filter((i) => i[0] === 'onTime')).toEqual([
      ['onTime', 'MONITORING_VISIT', '2026-05-20', 5, 'P-AF-HOPE'],
    ]);
  });

  it('the background job records each missed deadline once in the event log, for both parties', async () => {
    on('2026-05-25');
    // Pages of two cases: the job walks every case with a passed deadline, not just the first page.
    const first = await gw.services.deadlines.recordMissed(SYSTEM_PRINCIPAL, 2);
    // late: plan; iraq, sweden: arrival support and plan; submitted: plan; referred: answer; onTime: visit 1.
    expect(first).toBe(8);
    expect(await gw.services.deadlines.recordMissed(SYSTEM_PRINCIPAL)).toBe(0);
    const missed = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'DeadlineMissed');
    expect(missed).toHaveLength(first);
    const visit = missed.find((e) => e.caseId === cases.onTime.id);
    expect(visit).toMatchObject({
      audience: ['NL', 'P-AF-HOPE'],
      data: { kind: 'MONITORING_VISIT', visit: 1, dueOn: '2026-05-20' },
    });
  });
});

describe('working days', () => {
  it('skip the country’s weekend and public holidays', () => {
    const calendars = calendarsFrom({
      default: { weekend: ['SAT', 'SUN'], holidays: [] },
      countries: { IQ: { weekend: ['FRI', 'SAT'], holidays: ['2026-03-05'] } },
    });
    // From Friday 20 February 2026.
    expect(addWorkingDays('2026-02-20', 14, calendars.of('AF'))).toBe('2026-03-12');
    expect(addWorkingDays('2026-02-20', 1, calendars.of('AF'))).toBe('2026-02-23');
    // Sunday to Thursday, and 5 March off: Sun 22 … Thu 26 (5), Sun 1 … Wed 4, Sun 8 (10), Mon 9 … Thu 12 (14).
    expect(addWorkingDays('2026-02-20', 14, calendars.of('IQ'))).toBe('2026-03-12');
    expect(addWorkingDays('2026-02-20', 1, calendars.of('IQ'))).toBe('2026-02-22');
    expect(addWorkingDays('2026-03-04', 1, calendars.of('IQ'))).toBe('2026-03-08');
  });
});

describe('deadlines before departure (member-state side)', () => {
  const DEADLINES = `query ($id: ID!) { case(id: $id) { version deadlines { kind dueOn status daysLate metOn waitingOn { code } } } }`;
  type Listed = { case: { version: number; deadlines: Record<string, unknown>[] } };
  const STEP = `mutation ($id: ID!, $step: ReturnStepInput!, $v: Int!) { recordReturnStep(caseId: $id, step: $step, expectedVersion: $v) { version } }`;

  async function registerOn(day: string, originCountry: string, partner: string, departure: string) {
    const { flow } = on(day, 'NL', partner);
    const input = { ...caseInput({ originCountry, partner }), plannedDepartureDate: departure, plannedArrivalDate: departure };
    const { createCase } = await flow.state.ok<{ createCase: CaseView }>(CREATE_CASE, { input });
    return { flow, created: createCase };
  }

  it('flight details are due 5 working days before departure in Afghanistan, where Fridays and public holidays do not count', async () => {
    // Departure on Saturday 22 August 2026, registered on Friday 14 August. Counting back in
    // Afghanistan (weekend: Friday): Fri 21 (weekend), Thu 20 (1), Wed 19 (Independence Day),
    // Tue 18 (2), Mon 17 (3), Sun 16 (4), Sat 15 (Victory Day), Fri 14 (weekend), Thu 13 (5).
    const { flow, created } = await registerOn('2026-08-14', 'AF', 'P-AF-HOPE', '2026-08-22');
    const listed = await flow.state.ok<Listed>(DEADLINES, { id: created.id });
    expect(listed.case.deadlines).toEqual([
      // 19 days before the departure was 3 August: registered 11 days late.
      {
        kind: 'REGISTRATION',
        dueOn: '2026-08-03',
        status: 'MET_LATE',
        daysLate: 11,
        metOn: '2026-08-14',
        waitingOn: { code: 'NL' },
      },
      { kind: 'FLIGHT_DETAILS', dueOn: '2026-08-13', status: 'OVERDUE', daysLate: 1, metOn: null, waitingOn: { code: 'NL' } },
    ]);
    expect((await overdueFor('NL', 'caseworker')).filter((i) => i[1] === 'FLIGHT_DETAILS')).toEqual([
      [created.reference, 'FLIGHT_DETAILS', '2026-08-13', 1, 'NL'],
    ]);
    // The partner is not the one to act, and does not see the draft.
    expect((await overdueFor('P-AF-HOPE', 'partner-officer')).filter((i) => i[1] === 'FLIGHT_DETAILS')).toEqual([]);

    // The ticket is the flight details: recorded a day late.
    const ticket = {
      kind: 'TICKET',
      on: '2026-08-14',
      departureDate: '2026-08-22',
      route: ['AMS', 'IST', 'KBL'],
      finalDestination: 'Herat',
    };
    await flow.state.ok(STEP, { id: created.id, step: ticket, v: listed.case.version });
    const after = await flow.state.ok<Listed>(DEADLINES, { id: created.id });
    expect(after.case.deadlines[1]).toMatchObject({
      kind: 'FLIGHT_DETAILS',
      status: 'MET_LATE',
      daysLate: 1,
      metOn: '2026-08-14',
    });
    expect((await overdueFor('NL', 'caseworker')).filter((i) => i[1] === 'FLIGHT_DETAILS')).toEqual([]);
  });

  it('a country the holiday library knows takes its public holidays from it (Morocco: Saturday–Sunday weekend)', async () => {
    // Fri 21 (Youth Day) and Thu 20 (Revolution of the King and the People) are off, Wed 19 (1),
    // Tue 18 (2), Mon 17 (3), the weekend, Fri 14 (Oued Ed-Dahab Day) off, Thu 13 (4), Wed 12 (5).
    const { flow, created } = await registerOn('2026-07-01', 'MA', 'P-MA-ATLAS', '2026-08-22');
    const listed = await flow.state.ok<Listed>(DEADLINES, { id: created.id });
    expect(listed.case.deadlines).toEqual([
      {
        kind: 'REGISTRATION',
        dueOn: '2026-08-03',
        status: 'MET',
        daysLate: null,
        metOn: '2026-07-01',
        waitingOn: { code: 'NL' },
      },
      { kind: 'FLIGHT_DETAILS', dueOn: '2026-08-12', status: 'UPCOMING', daysLate: null, metOn: null, waitingOn: { code: 'NL' } },
    ]);
  });
});
