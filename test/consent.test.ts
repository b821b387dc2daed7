// The returnee's consent through its life: purposes from the programme's list, withdrawal and
// renewal by the member state that owns the case, expiry by the background job; without
// active consent the partner sees no special categories, narratives or survey answers, and
// nothing personal can be shared (CONSENT_REQUIRED). Both sides see where consent stands.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import type { ManualClock } from '../src/clock.ts';
import { SEED_PRINCIPAL } from '../src/seed/demo.ts';
import { encodeCursor } from '../src/modules/feed/cursor.ts';
import { backgroundJobs } from '../src/services.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { ALL_PURPOSES, caseInput, CREATE_CASE, trainingComponent, workflow, type CaseSpec } from './helpers/factories.ts';
import { implementation, surveyAnswers, uploadFile, type Tracked } from './helpers/implementation.ts';
import { samplePdf } from '../src/seed/sample-files.ts';

/** A monitoring visit with survey answers and a narrative: personal content the consent must cover. */
const secondVisit = () => ({ visitedOn: '2026-11-28', narrative: 'Second visit', language: 'en', answers: surveyAnswers() });

let gw: TestGateway;
let clock: ManualClock;
beforeAll(async () => {
  clock = clockAt('2026-11-28T09:00:00Z');
  gw = await startGateway({ clock });
});
afterAll(async () => {
  await gw?.close();
});
beforeEach(() => clock.set(new Date('2026-11-28T09:00:00Z')));

const SECRET_NEEDS = 'Chronic kidney disease; needs dialysis';
const SECRET_NARRATIVE = 'Met him at the clinic; he is depressed since the return';
const SENSITIVE = {
  vulnerability: { unaccompaniedMinor: true, victimOfTrafficking: false, medicalNeeds: true, notes: 'insulin' },
  needsAssessment: SECRET_NEEDS,
};

const CONSENT = 'consent { purposes givenOn expiresOn withdrawnOn status valid }';
type ConsentView = {
  purposes: string[];
  givenOn: string;
  expiresOn: string;
  withdrawnOn: string | null;
  status: string;
  valid: boolean;
};

const VIEW = `query ($id: ID!) { case(id: $id) { version ${CONSENT} needsAssessment vulnerability { unaccompaniedMinor notes }
  entitlement { lines { category } }
  progress(first: 10) { edges { node { narrative } } }
  monitoring { surveys { answers { indicator } } } } }`;
type View = {
  case: {
    version: number;
    consent: ConsentView;
    needsAssessment: string | null;
    vulnerability: { unaccompaniedMinor: boolean; notes: string | null } | null;
    entitlement: { lines: { category: string }[] };
    progress: { edges: { node: { narrative: string | null } }[] };
    monitoring: { surveys: { answers: { indicator: string }[] }[] };
  };
};

const WITHDRAW = `mutation ($id: ID!, $v: Int!, $on: Date) { withdrawConsent(id: $id, withdrawnOn: $on, expectedVersion: $v) { version ${CONSENT} } }`;
const RENEW = `mutation ($id: ID!, $v: Int!, $c: ConsentInput!) { renewConsent(id: $id, consent: $c, expectedVersion: $v) { version ${CONSENT} } }`;
type Withdrawn = { withdrawConsent: { version: number; consent: ConsentView } };
type Renewed = { renewConsent: { version: number; consent: ConsentView } };

const REFER = `mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id } }`;
const SUBMIT = `mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { version status } }`;

/** A case with an approved plan, a progress narrative and a monitoring visit, all read fine by both sides. */
async function implementedCase(spec: CaseSpec = {}) {
  const flow = workflow(gw);
  const impl = implementation(gw, flow);
  const approved = await flow.approved(
    { components: [trainingComponent(80000)] },
    { ...SENSITIVE, ...spec, arrivedOn: undefined },
  );
  const c: Tracked = { id: approved.id, version: approved.version };
  await impl.post(c, { kind: 'COUNSELLING', occurredOn: '2026-11-27', narrative: SECRET_NARRATIVE, language: 'en' });
  await impl.visit(c, { visitedOn: '2026-11-27', narrative: 'First visit', language: 'en', answers: surveyAnswers() });
  return { flow, impl, c };
}

function personalOf(view: View) {
  return {
    needs: view.case.needsAssessment,
    vulnerability: view.case.vulnerability,
    lines: view.case.entitlement.lines.length,
    narratives: view.case.progress.edges
      .map((e) => e.node.narrative)
      .filter((n) => n !== null)
      .sort(),
    answers: view.case.monitoring.surveys.flatMap((s) => s.answers).length,
  };
}

describe('purposes', () => {
  it('each programme lists its purposes from the fixed list; a case needs the required ones and no others', async () => {
    const nl = gw.as('NL', 'caseworker');
    const { programmes } = await nl.ok<{
      programmes: { code: string; consentPurposes: string[]; requiredConsentPurposes: string[] }[];
    }>('{ programmes { code consentPurposes requiredConsentPurposes } }');
    const byCode = new Map(programmes.map((p) => [p.code, p]));
    expect(byCode.get('EURP-VOL')?.requiredConsentPurposes).toEqual(['REINTEGRATION_SUPPORT']);
    expect(byCode.get('NL-REAN')?.requiredConsentPurposes).toEqual(['RETURN_ASSISTANCE']);

    const missing = await nl.gql(CREATE_CASE, {
      input: caseInput({ consent: { purposes: ['MONITORING'], givenOn: '2026-11-01', expiresOn: '2027-11-01' } }),
    });
    expect(codes(missing)).toEqual(['BAD_USER_INPUT']);
    expect(missing.errors?.[0]?.extensions.problems).toEqual([
      { path: 'consent.purposes', message: 'EURP-VOL needs REINTEGRATION_SUPPORT' },
    ]);

    const unknown = await nl.gql(CREATE_CASE, {
      input: caseInput({ consent: { purposes: ['MARKETING'], givenOn: '2026-11-01', expiresOn: '2027-11-01' } }),
    });
    expect(codes(unknown)).toEqual(['BAD_USER_INPUT']);

    const future = await nl.gql(CREATE_CASE, {
      input: caseInput({ consent: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-12-01', expiresOn: '2027-11-01' } }),
    });
    expect(future.errors?.[0]?.extensions.problems).toEqual([{ path: 'consent.givenOn', message: 'in the future' }]);

    // A programme that asks for fewer purposes refuses the others.
    const rules = (await gw.services.organisations.programme('EURP-NONVOL'))!;
    const { _id, version: _v, createdAt: _c, updatedAt: _u, ...rest } = rules;
    await gw.services.organisations.putProgramme(
      SEED_PRINCIPAL,
      { ...rest, consentPurposes: ['REINTEGRATION_SUPPORT'], requiredConsentPurposes: ['REINTEGRATION_SUPPORT'] },
      'test-nonvol-consent-purposes',
    );
    const other = await nl.gql(CREATE_CASE, {
      input: caseInput({
        programme: 'EURP-NONVOL',
        returnType: 'NON_VOLUNTARY',
        consent: { purposes: ['REINTEGRATION_SUPPORT', 'EVALUATION_RESEARCH'], givenOn: '2026-11-01', expiresOn: '2027-11-01' },
      }),
    });
    expect(other.errors?.[0]?.extensions.problems).toEqual([
      { path: 'consent.purposes', message: 'EVALUATION_RESEARCH is not a purpose of EURP-NONVOL' },
    ]);
  });

  it('both sides see the consent: purposes, dates and status', async () => {
    const flow = workflow(gw);
    const c = await flow.refer(await flow.create());
    const q = `query ($id: ID!) { case(id: $id) { ${CONSENT} } }`;
    const expected = {
      purposes: ALL_PURPOSES,
      givenOn: '2026-01-10',
      expiresOn: '2036-01-10',
      withdrawnOn: null,
      status: 'ACTIVE',
      valid: true,
    };
    expect((await flow.state.ok<{ case: { consent: ConsentView } }>(q, { id: c.id })).case.consent).toEqual(expected);
    expect((await flow.officer.ok<{ case: { consent: ConsentView } }>(q, { id: c.id })).case.consent).toEqual(expected);
  });
});

describe('withdrawal', () => {
  it('the partner stops seeing special categories, narratives and survey answers; the member state still does; both see WITHDRAWN', async () => {
    const { flow, c } = await implementedCase();
    const before = personalOf(await flow.officer.ok<View>(VIEW, { id: c.id }));
    expect(before).toEqual({
      needs: SECRET_NEEDS,
      vulnerability: { unaccompaniedMinor: true, notes: 'insulin' },
      lines: 1,
      narratives: ['First visit', SECRET_NARRATIVE],
      answers: 15,
    });

    const { withdrawConsent } = await flow.state.ok<Withdrawn>(WITHDRAW, { id: c.id, v: c.version });
    expect(withdrawConsent.consent).toMatchObject({ status: 'WITHDRAWN', withdrawnOn: '2026-11-28', valid: false });
    expect(withdrawConsent.version).toBe(c.version + 1);

    const readsBefore = await gw.services.log.lastSeq();
    const partner = await flow.officer.ok<View>(VIEW, { id: c.id });
    expect(partner.case.consent).toMatchObject({ status: 'WITHDRAWN', withdrawnOn: '2026-11-28' });
    expect(personalOf(partner)).toEqual({ needs: null, vulnerability: null, lines: 0, narratives: [], answers: 0 });
    // Nothing was opened for the partner, so no read of personal data is on the record.
    const reads = (await gw.services.log.page(readsBefore, 100)).filter((e) => e.type === 'PersonalDataRead');
    expect(reads.filter((e) => e.actor.organisation === 'P-AF-HOPE')).toEqual([]);

    const state = await flow.state.ok<View>(VIEW, { id: c.id });
    expect(state.case.consent.status).toBe('WITHDRAWN');
    expect(personalOf(state)).toEqual(before);
  });

  it('reaches the partner’s feed as ConsentWithdrawn, with the case stripped of its special categories', async () => {
    const flow = workflow(gw);
    const c = await flow.accept(await flow.refer(await flow.create(SENSITIVE)));
    const head = await gw.services.log.lastSeq();
    await flow.state.ok<Withdrawn>(WITHDRAW, { id: c.id, v: c.version });
    const FEED = `query ($after: Cursor) { changes(after: $after, first: 100) { changes { type aggregateId
      state { ... on Case { id needsAssessment ${CONSENT} } } } } }`;
    type Feed = {
      changes: {
        changes: { type: string; aggregateId: string; state: { needsAssessment: string | null; consent: ConsentView } | null }[];
      };
    };
    for (const [client, needs] of [
      [flow.officer, null],
      [flow.state, SECRET_NEEDS],
    ] as const) {
      const { changes } = await client.ok<Feed>(FEED, { after: encodeCursor(head) });
      const mine = changes.changes.filter((ch) => ch.aggregateId === c.id);
      expect(mine.map((ch) => ch.type)).toEqual(['ConsentWithdrawn']);
      expect(mine[0]?.state?.consent.status).toBe('WITHDRAWN');
      expect(mine[0]?.state?.needsAssessment).toBe(needs);
    }
  });

  it('no referral, plan submission, progress narrative or monitoring visit without consent: CONSENT_REQUIRED, nothing written', async () => {
    const flow = workflow(gw);
    const draft = await flow.create();
    const w = (await flow.state.ok<Withdrawn>(WITHDRAW, { id: draft.id, v: draft.version })).withdrawConsent;
    const refused = await flow.state.gql(REFER, { id: draft.id, v: w.version });
    expect(codes(refused)).toEqual(['CONSENT_REQUIRED']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ action: 'referral', consentStatus: 'WITHDRAWN' });

    const { impl, c } = await implementedCase();
    const drafted = await flow.draft({ id: c.id, version: c.version } as never, { components: [trainingComponent(90000)] });
    const withdrawn = (await flow.state.ok<Withdrawn>(WITHDRAW, { id: c.id, v: drafted.version })).withdrawConsent;
    const submit = await flow.officer.gql(SUBMIT, { id: c.id, v: withdrawn.version });
    expect(codes(submit)).toEqual(['CONSENT_REQUIRED']);
    const t: Tracked = { id: c.id, version: withdrawn.version };
    const post = await impl.postRaw(t, {
      kind: 'COUNSELLING',
      occurredOn: '2026-11-28',
      narrative: 'More about his health',
      language: 'en',
    });
    expect(codes(post)).toEqual(['CONSENT_REQUIRED']);
    const visit = await impl.visitRaw(t, secondVisit());
    expect(codes(visit)).toEqual(['CONSENT_REQUIRED']);
    const after = await flow.state.ok<{ case: { version: number } }>(`query ($id: ID!) { case(id: $id) { version } }`, {
      id: c.id,
    });
    expect(after.case.version).toBe(withdrawn.version);

    // Renewed, the same submission goes through.
    const renewed = (
      await flow.state.ok<Renewed>(RENEW, {
        id: c.id,
        v: withdrawn.version,
        c: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-11-28', expiresOn: '2027-11-28' },
      })
    ).renewConsent;
    expect(
      (await flow.officer.ok<{ submitPlan: { status: string } }>(SUBMIT, { id: c.id, v: renewed.version })).submitPlan,
    ).toBeTruthy();
  });

  it('only the member state that owns the case may withdraw or renew: others are FORBIDDEN or do not see the case', async () => {
    const flow = workflow(gw);
    const c = await flow.accept(await flow.refer(await flow.create()));
    const renewal = { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-11-28', expiresOn: '2027-11-28' };
    expect(codes(await flow.officer.gql(WITHDRAW, { id: c.id, v: c.version }))).toEqual(['FORBIDDEN']);
    expect(codes(await flow.officer.gql(RENEW, { id: c.id, v: c.version, c: renewal }))).toEqual(['FORBIDDEN']);
    expect(codes(await gw.as('BE', 'caseworker').gql(WITHDRAW, { id: c.id, v: c.version }))).toEqual(['NOT_FOUND']);
    expect(codes(await gw.as('BE', 'coordinator').gql(RENEW, { id: c.id, v: c.version, c: renewal }))).toEqual(['NOT_FOUND']);
    expect(codes(await gw.as('IOM-NL', 'return-counsellor').gql(WITHDRAW, { id: c.id, v: c.version }))).toEqual(['FORBIDDEN']);
    const view = await flow.state.ok<{ case: { version: number; consent: ConsentView } }>(
      `query ($id: ID!) { case(id: $id) { version ${CONSENT} } }`,
      { id: c.id },
    );
    expect(view.case).toMatchObject({ version: c.version, consent: { status: 'ACTIVE' } });

    // The owner withdraws once; a second withdrawal is refused, as is a day outside the consent.
    expect(codes(await flow.state.gql(WITHDRAW, { id: c.id, v: c.version, on: '2026-12-01' }))).toEqual(['BAD_USER_INPUT']);
    const w = (await flow.state.ok<Withdrawn>(WITHDRAW, { id: c.id, v: c.version, on: '2026-11-20' })).withdrawConsent;
    expect(w.consent.withdrawnOn).toBe('2026-11-20');
    expect(codes(await flow.state.gql(WITHDRAW, { id: c.id, v: w.version }))).toEqual(['INVALID_TRANSITION']);
  });
});

describe('renewal', () => {
  it('makes consent ACTIVE again, with new purposes and dates; the partner sees the special categories again', async () => {
    const flow = workflow(gw);
    const c = await flow.accept(await flow.refer(await flow.create(SENSITIVE)));
    const w = (await flow.state.ok<Withdrawn>(WITHDRAW, { id: c.id, v: c.version })).withdrawConsent;
    const q = `query ($id: ID!) { case(id: $id) { needsAssessment ${CONSENT} } }`;
    expect(
      (await flow.officer.ok<{ case: { needsAssessment: string | null } }>(q, { id: c.id })).case.needsAssessment,
    ).toBeNull();

    const past = await flow.state.gql(RENEW, {
      id: c.id,
      v: w.version,
      c: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-01-01', expiresOn: '2026-11-27' },
    });
    expect(codes(past)).toEqual(['BAD_USER_INPUT']);
    const short = await flow.state.gql(RENEW, {
      id: c.id,
      v: w.version,
      c: { purposes: ['SPECIAL_CATEGORY_DATA'], givenOn: '2026-11-28', expiresOn: '2027-11-28' },
    });
    expect(codes(short)).toEqual(['BAD_USER_INPUT']);

    const renewed = (
      await flow.state.ok<Renewed>(RENEW, {
        id: c.id,
        v: w.version,
        c: {
          purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA', 'MONITORING'],
          givenOn: '2026-11-28',
          expiresOn: '2027-05-28',
        },
      })
    ).renewConsent;
    const expected = {
      purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA', 'MONITORING'],
      givenOn: '2026-11-28',
      expiresOn: '2027-05-28',
      withdrawnOn: null,
      status: 'ACTIVE',
      valid: true,
    };
    expect(renewed.consent).toEqual(expected);
    const partner = await flow.officer.ok<{ case: { needsAssessment: string | null; consent: ConsentView } }>(q, { id: c.id });
    expect(partner.case).toEqual({ needsAssessment: SECRET_NEEDS, consent: expected });
  });
});

describe('expiry', () => {
  it('holds on its last day, hides the personal data the day after, and the job records ConsentExpired once for the feed', async () => {
    const { c } = await implementedCase({
      consent: { purposes: ALL_PURPOSES, givenOn: '2026-01-10', expiresOn: '2026-11-30' },
    });
    // Tokens are issued on the gateway's clock: a client per day.
    const on = (instant: string) => {
      clock.set(new Date(instant));
      return workflow(gw);
    };
    let flow = on('2026-11-30T23:00:00Z');
    expect(personalOf(await flow.officer.ok<View>(VIEW, { id: c.id })).needs).toBe(SECRET_NEEDS);

    flow = on('2026-12-01T08:00:00Z');
    // Before the job has run the partner already sees nothing personal, and the status says why.
    const early = await flow.officer.ok<View>(VIEW, { id: c.id });
    expect(early.case.consent).toMatchObject({ status: 'EXPIRED', valid: false });
    expect(early.case.version).toBe(c.version);
    expect(personalOf(early)).toEqual({ needs: null, vulnerability: null, lines: 0, narratives: [], answers: 0 });
    const narrative = { kind: 'COUNSELLING', occurredOn: '2026-12-01', narrative: 'Feels better', language: 'en' };
    expect(codes(await implementation(gw, flow).postRaw({ ...c }, narrative))).toEqual(['CONSENT_REQUIRED']);

    const head = await gw.services.log.lastSeq();
    const job = backgroundJobs(gw.services).find((j) => j.name === 'consent-expiry')!;
    expect(await gw.services.jobs.tick(job)).toBe(true);
    const events = (await gw.services.log.page(head, 100)).filter((e) => e.caseId === c.id);
    expect(events.map((e) => [e.type, e.actor.organisation, e.version])).toEqual([['ConsentExpired', 'SYSTEM', c.version + 1]]);
    // Run again (another gateway, the next hour): nothing left to expire for this case.
    await gw.services.consent.expire(SYSTEM_PRINCIPAL);
    expect((await gw.services.log.page(head, 100)).filter((e) => e.caseId === c.id)).toHaveLength(1);

    const FEED = `query ($after: Cursor) { changes(after: $after, first: 100) { changes { type aggregateId state { ... on Case { ${CONSENT} } } } } }`;
    type Feed = { changes: { changes: { type: string; aggregateId: string; state: { consent: ConsentView } | null }[] } };
    for (const client of [flow.officer, flow.state]) {
      const mine = (await client.ok<Feed>(FEED, { after: encodeCursor(head) })).changes.changes.filter(
        (ch) => ch.aggregateId === c.id,
      );
      expect(mine.map((ch) => [ch.type, ch.state?.consent.status])).toEqual([['ConsentExpired', 'EXPIRED']]);
    }
    const state = await flow.state.ok<View>(VIEW, { id: c.id });
    expect(state.case.consent.status).toBe('EXPIRED');
    expect(personalOf(state).needs).toBe(SECRET_NEEDS);
  });
});

describe('what each purpose allows', () => {
  const covering = (purposes: string[]) => ({ purposes, givenOn: '2026-01-10', expiresOn: '2028-01-10' });
  const AMOUNTS_AND_BUDGET = `query ($id: ID!) { case(id: $id) { entitlement { total { amount } cashCap { amount } }
    budget { entitlement { amount } planned { amount } } } }`;
  type AmountsAndBudget = {
    case: {
      entitlement: { total: { amount: number } | null; cashCap: { amount: number } | null };
      budget: { entitlement: { amount: number } | null; planned: { amount: number } };
    };
  };
  const COSTING = `query ($id: ID!, $plan: PlanInput!) { planCosting(caseId: $id, plan: $plan) {
    totalEur { amount } entitlement { amount } cashCap { amount } remaining { amount } problem { code message } } }`;
  type Costing = {
    planCosting: {
      totalEur: { amount: number };
      entitlement: { amount: number } | null;
      remaining: { amount: number } | null;
      problem: { code: string; message: string } | null;
    };
  };

  it('SPECIAL_CATEGORY_DATA: without it the partner sees no special category, no entitlement amount or budget figure; narratives and answers it still reads', async () => {
    const { flow, c } = await implementedCase({ consent: covering(['REINTEGRATION_SUPPORT', 'MONITORING']) });
    const partner = await flow.officer.ok<View>(VIEW, { id: c.id });
    expect(partner.case.consent).toMatchObject({ status: 'ACTIVE', purposes: ['REINTEGRATION_SUPPORT', 'MONITORING'] });
    expect(personalOf(partner)).toEqual({
      needs: null,
      vulnerability: null,
      lines: 0,
      narratives: ['First visit', SECRET_NARRATIVE],
      answers: 15,
    });
    expect((await flow.officer.ok<AmountsAndBudget>(AMOUNTS_AND_BUDGET, { id: c.id })).case).toEqual({
      entitlement: { total: null, cashCap: null },
      budget: { entitlement: null, planned: { amount: 80000 } },
    });
    // The plan costing says whether it fits, but not by how much: the figure would tell the category.
    const within = await flow.officer.ok<Costing>(COSTING, { id: c.id, plan: { components: [trainingComponent(1000)] } });
    expect(within.planCosting).toMatchObject({ entitlement: null, remaining: null, problem: null });
    const over = await flow.officer.ok<Costing>(COSTING, { id: c.id, plan: { components: [trainingComponent(230000)] } });
    expect(over.planCosting.problem).toEqual({
      code: 'BUDGET_EXCEEDED',
      message: 'The plan costs 2,300.00 EUR, more than the entitlement.',
    });
    // The member state, the controller, sees everything.
    const state = await flow.state.ok<View>(VIEW, { id: c.id });
    expect(personalOf(state)).toMatchObject({ needs: SECRET_NEEDS, lines: 1 });
    expect((await flow.state.ok<AmountsAndBudget>(AMOUNTS_AND_BUDGET, { id: c.id })).case).toEqual({
      entitlement: { total: { amount: 200000 }, cashCap: { amount: 0 } },
      budget: { entitlement: { amount: 200000 }, planned: { amount: 80000 } },
    });
    const stateCosting = await flow.state.gql<Costing>(COSTING, { id: c.id, plan: { components: [trainingComponent(250000)] } });
    // (planCosting is the partner's; the state reads the budget above)
    expect(codes(stateCosting)).toEqual(['FORBIDDEN']);
  });

  it('MONITORING: without it no monitoring visit is recorded and the partner reads no survey answers', async () => {
    const { flow, impl, c } = await implementedCase();
    const renewed = (
      await flow.state.ok<Renewed>(RENEW, {
        id: c.id,
        v: c.version,
        c: { purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA'], givenOn: '2026-11-28', expiresOn: '2027-11-28' },
      })
    ).renewConsent;
    expect(personalOf(await flow.officer.ok<View>(VIEW, { id: c.id }))).toMatchObject({
      needs: SECRET_NEEDS,
      narratives: ['First visit', SECRET_NARRATIVE],
      answers: 0,
    });
    expect(personalOf(await flow.state.ok<View>(VIEW, { id: c.id })).answers).toBe(15);
    const t: Tracked = { id: c.id, version: renewed.version };
    const visit = await impl.visitRaw(t, secondVisit());
    expect(codes(visit)).toEqual(['CONSENT_REQUIRED']);
    expect(visit.errors?.[0]?.extensions).toMatchObject({
      action: 'recordMonitoringVisit',
      purpose: 'MONITORING',
      consentStatus: 'ACTIVE',
    });
    // Progress reporting is REINTEGRATION_SUPPORT's, which the consent still covers.
    const post = await impl.postRaw(t, {
      kind: 'COUNSELLING',
      occurredOn: '2026-11-28',
      narrative: 'Still fine',
      language: 'en',
    });
    expect(post.errors).toBeUndefined();
  });

  it('RETURN_ASSISTANCE: without it the implementing organisation records no step of the return leg', async () => {
    const nl = gw.as('NL', 'caseworker');
    const made = await nl.ok<{ createCase: { id: string; version: number } }>(
      `mutation ($input: CreateCaseInput!) { createCase(input: $input) { id version } }`,
      {
        input: {
          ...caseInput({ programme: 'NL-AVRR', consent: covering(['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA']) }),
          implementingOrganisation: 'IOM-NL',
        },
      },
    );
    const STEP = `mutation ($id: ID!, $step: ReturnStepInput!, $v: Int!) {
      recordReturnStep(caseId: $id, step: $step, expectedVersion: $v) { id version } }`;
    const iom = gw.as('IOM-NL', 'return-counsellor');
    const counselling = { kind: 'COUNSELLING', on: '2026-11-20', decidedToReturn: true };
    const refused = await iom.gql(STEP, { id: made.createCase.id, step: counselling, v: made.createCase.version });
    expect(codes(refused)).toEqual(['CONSENT_REQUIRED']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ action: 'recordReturnStep', purpose: 'RETURN_ASSISTANCE' });
    const renewed = (
      await gw.as('NL', 'coordinator').ok<Renewed>(RENEW, {
        id: made.createCase.id,
        v: made.createCase.version,
        c: { purposes: ['REINTEGRATION_SUPPORT', 'RETURN_ASSISTANCE'], givenOn: '2026-11-28', expiresOn: '2027-11-28' },
      })
    ).renewConsent;
    const done = await iom.gql(STEP, { id: made.createCase.id, step: counselling, v: renewed.version });
    expect(done.errors).toBeUndefined();
  });

  it('REINTEGRATION_SUPPORT: without it the case is not referred to a partner', async () => {
    const nl = workflow(gw);
    const made = await nl.state.ok<{ createCase: { id: string; version: number } }>(
      `mutation ($input: CreateCaseInput!) { createCase(input: $input) { id version } }`,
      {
        input: {
          ...caseInput({ programme: 'NL-REAN', consent: covering(['RETURN_ASSISTANCE']) }),
          residenceApplication: 'ASYLUM_REJECTED',
          person: { familyName: 'Noreferral', givenNames: 'Karim', dateOfBirth: '1991-04-05', nationality: 'AF' },
        },
      },
    );
    const refused = await nl.state.gql(REFER, { id: made.createCase.id, v: made.createCase.version });
    expect(codes(refused)).toEqual(['CONSENT_REQUIRED']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      action: 'referral',
      purpose: 'REINTEGRATION_SUPPORT',
      consentStatus: 'ACTIVE',
    });
    expect(codes(await nl.officer.gql(`query ($id: ID!) { case(id: $id) { id } }`, { id: made.createCase.id }))).toEqual([
      'NOT_FOUND',
    ]);
  });
});

describe('evidence files', () => {
  async function download(id: string, token: string) {
    const r = await fetch(`${gw.url}/evidence/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const body = Buffer.from(await r.arrayBuffer());
    return {
      status: r.status,
      code:
        r.status === 200
          ? null
          : (JSON.parse(body.toString()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
    };
  }

  it('after withdrawal the partner neither uploads nor downloads a file (CONSENT_REQUIRED); the member state still downloads; renewal restores it', async () => {
    const { flow, impl, c } = await implementedCase();
    const file = await impl.upload(c, 'RECEIPT');
    expect((await download(file.id, flow.officer.token)).status).toBe(200);
    const version = (
      await flow.state.ok<{ case: { version: number } }>(`query ($id: ID!) { case(id: $id) { version } }`, { id: c.id })
    ).case.version;
    const w = (await flow.state.ok<Withdrawn>(WITHDRAW, { id: c.id, v: version })).withdrawConsent;
    const head = await gw.services.log.lastSeq();
    const upload = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('after withdrawal'));
    expect(upload.status).toBe(409);
    expect(upload.body.errors?.[0]?.extensions.code).toBe('CONSENT_REQUIRED');
    expect(await download(file.id, flow.officer.token)).toEqual({ status: 409, code: 'CONSENT_REQUIRED' });
    // Nothing was written for the refused upload, and no download was recorded.
    expect(await gw.services.log.lastSeq()).toBe(head);
    expect((await download(file.id, flow.state.token)).status).toBe(200);
    await flow.state.ok<Renewed>(RENEW, {
      id: c.id,
      v: w.version,
      c: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-11-28', expiresOn: '2027-11-28' },
    });
    expect((await download(file.id, flow.officer.token)).status).toBe(200);
    expect((await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('renewed'))).status).toBe(201);
  });

  it('the day after consent expired the partner neither uploads nor downloads a file', async () => {
    const { impl, c } = await implementedCase({
      consent: { purposes: ALL_PURPOSES, givenOn: '2026-01-10', expiresOn: '2026-11-30' },
    });
    const file = await impl.upload(c, 'INVOICE');
    clock.set(new Date('2026-12-01T08:00:00Z'));
    const later = workflow(gw);
    const upload = await uploadFile(gw, later.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('after expiry'));
    expect(upload.status).toBe(409);
    expect(upload.body.errors?.[0]?.extensions.code).toBe('CONSENT_REQUIRED');
    expect(await download(file.id, later.officer.token)).toEqual({ status: 409, code: 'CONSENT_REQUIRED' });
    expect((await download(file.id, later.state.token)).status).toBe(200);
  });
});
