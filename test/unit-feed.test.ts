// What a member state's unit learns of a case through every path but `case(id)` itself — the
// change feed, subscriptions, `overdue`, the work list, webhooks — is exactly what its role on
// the case's team may see on the case (src/auth/case-team.ts): no file, plan, progress,
// budget or final report of a case for any unit; deadlines only for the roles that see
// `Case.deadlines`; and the type and actor of a change only when the role sees what it was about.
// One Dutch case, worked by its partner, with a team (Utrecht leading, the police, an NGO)
// and IOM as its implementing organisation; each unit asks as an attacker would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import type { ManualClock } from '../src/clock.ts';
import { samplePdf } from '../src/seed/sample-files.ts';
import { trainingComponent, workflow, type CaseView } from './helpers/factories.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { uploadFile } from './helpers/implementation.ts';
import { encodeCursor } from '../src/modules/feed/cursor.ts';
import { wsClient } from './helpers/ws.ts';

let gw: TestGateway;
let clock: ManualClock;
let caseId: string;
let evidenceSha: string;
let flow: ReturnType<typeof workflow>;

const FILENAME = 'hiv-test-result.pdf';
const PLAN_SECRET = 'plan-secret: asthma treatment first';

const FORM = `mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: "NL-GEM-UTRECHT", expectedVersion: $v) { id version } }`;
const INVITE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { id version } }`;
const REMOVE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { removeFromCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { id version } }`;
const ASSIGN = `mutation ($id: ID!, $v: Int!) { assignImplementingOrganisation(id: $id, organisation: "IOM-NL", expectedVersion: $v) { id version } }`;

const FEED = `{ changes(first: 1000) { changes { kind caseId type actorOrganisation removed
  state { __typename
    ... on Evidence { id filename kind size sha256 }
    ... on Case { id status } } } } }`;

const units = {
  iom: () => gw.as('IOM-NL', 'return-counsellor'),
  municipality: () => gw.as('NL-GEM-UTRECHT', 'municipal-officer'),
  police: () => gw.as('NL-POLITIE', 'agency-officer'),
  ngo: () => gw.as('NL-NGO-HAVEN', 'ngo-worker'),
};

type Change = {
  kind: string;
  caseId: string | null;
  type: string;
  actorOrganisation: string | null;
  removed: boolean;
  state: Record<string, unknown> | null;
};

async function feedOf(client: ReturnType<TestGateway['as']>): Promise<Change[]> {
  const page = await client.ok<{ changes: { changes: Change[] } }>(FEED);
  return page.changes.changes.filter((c) => c.caseId === caseId);
}

async function current(): Promise<CaseView> {
  return (await flow.state.ok<{ case: CaseView }>('query ($id: ID!) { case(id: $id) { id version } }', { id: caseId })).case;
}

beforeAll(async () => {
  clock = clockAt('2026-03-02T09:00:00Z');
  gw = await startGateway({ clock });
  flow = workflow(gw, 'NL', 'P-AF-HOPE');
  const created = await flow.create();
  caseId = created.id;
  let v = (await flow.state.ok<{ formCaseTeam: { version: number } }>(FORM, { id: caseId, v: created.version })).formCaseTeam
    .version;
  for (const unit of ['NL-POLITIE', 'NL-NGO-HAVEN']) {
    v = (await flow.state.ok<{ inviteToCaseTeam: { version: number } }>(INVITE, { id: caseId, unit, v })).inviteToCaseTeam
      .version;
  }
  await flow.state.ok(ASSIGN, { id: caseId, v });
  const arrived = await flow.arrive(await flow.accept(await flow.refer(await current())), '2026-03-02');
  // The partner's file on the case, named for what it holds.
  const upload = await uploadFile(gw, flow.officer.token, { caseId, kind: 'RECEIPT', filename: FILENAME }, samplePdf('lab'));
  expect(upload.status).toBe(201);
  evidenceSha = upload.body.evidence!.sha256;
  // The partner's plan: health data in its summary.
  await flow.submit(
    await flow.draft(
      { ...arrived, version: (await current()).version },
      {
        summary: PLAN_SECRET,
        components: [trainingComponent(80000)],
      },
    ),
  );
  // Seven weeks on: arrival support and the plan's approval are late; the job records them.
  clock.set(new Date('2026-04-20T09:00:00Z'));
  expect(await gw.services.deadlines.recordMissed(SYSTEM_PRINCIPAL)).toBeGreaterThan(0);
  flow = workflow(gw, 'NL', 'P-AF-HOPE'); // tokens issued on the new day
});
afterAll(async () => {
  await gw?.close();
});

describe('a unit’s feed shows what its team role sees on the case, nothing more', () => {
  it('no unit is told of a file: not its metadata, not that it was uploaded', async () => {
    for (const [who, make] of Object.entries(units)) {
      const changes = await feedOf(make());
      expect(changes.length, who).toBeGreaterThan(0);
      const text = JSON.stringify(changes);
      expect(text, who).not.toContain(FILENAME);
      expect(text, who).not.toContain(evidenceSha);
      expect(
        changes.filter((c) => c.kind === 'EVIDENCE' || c.type === 'EvidenceUploaded'),
        who,
      ).toEqual([]);
    }
    // The parties to the file still are.
    for (const client of [flow.state, flow.officer]) {
      const evidence = (await feedOf(client)).find((c) => c.type === 'EvidenceUploaded');
      expect(evidence?.state).toMatchObject({ __typename: 'Evidence', filename: FILENAME, sha256: evidenceSha });
    }
  });

  it('a unit taken off the team keeps no entry of the case’s files, only the change that removed it', async () => {
    const ngo = units.ngo();
    await units.municipality().ok(REMOVE, { id: caseId, unit: 'NL-NGO-HAVEN', v: (await current()).version });
    try {
      const changes = await feedOf(ngo);
      expect(changes).toEqual([expect.objectContaining({ type: 'CaseTeamMemberRemoved', removed: true, state: null })]);
    } finally {
      await flow.state.ok(INVITE, { id: caseId, unit: 'NL-NGO-HAVEN', v: (await current()).version });
    }
  });

  it('a lead handed over and invited back reads the case’s earlier states with the fields of its role now, not the lead’s', async () => {
    const LEAD = `mutation ($id: ID!, $lead: ID, $v: Int!) { formCaseTeam(caseId: $id, lead: $lead, expectedVersion: $v) { version } }`;
    const created = await flow.create();
    const id = created.id;
    const led = await flow.state.ok<{ formCaseTeam: { version: number } }>(LEAD, { id, lead: 'NL-DTV', v: created.version });
    const referred = await flow.refer({ ...created, version: led.formCaseTeam.version });
    // The state takes the lead itself and invites the return service back, as a member without the lead's fields.
    const handed = await flow.state.ok<{ formCaseTeam: { version: number } }>(LEAD, { id, lead: null, v: referred.version });
    await flow.state.ok(INVITE, { id, unit: 'NL-DTV', v: handed.formCaseTeam.version });
    const dtv = gw.as('NL-DTV', 'agency-officer');
    const LEADS_ONLY = 'partner { code } consent { status purposes }';
    expect(codes(await dtv.gql(`query ($id: ID!) { case(id: $id) { id ${LEADS_ONLY} } }`, { id }))).toEqual([
      'FORBIDDEN',
      'FORBIDDEN',
    ]);
    const feed = await dtv.gql<{ changes: { changes: { caseId: string; version: number }[] } }>(
      `{ changes(first: 1000) { changes { caseId version state { ... on Case { id ${LEADS_ONLY} } } } } }`,
    );
    const ofCase = feed.data!.changes.changes.filter((c) => c.caseId === id);
    expect(ofCase.map((c) => c.version)).toEqual([2, 3, 4, 5]);
    expect(JSON.stringify(ofCase)).not.toMatch(/P-AF-HOPE|ACTIVE|REINTEGRATION_SUPPORT/);
    expect(new Set(codes(feed))).toEqual(new Set(['FORBIDDEN']));
  });

  it('the lead reads no plan through the feed or a subscription, as it reads none on the case', async () => {
    const municipality = units.municipality();
    const PLAN = 'plan { summary status components { title } totalEur { amount } } planInForce { summary } plans { summary }';
    const byCase = await municipality.gql(`query ($id: ID!) { case(id: $id) { id ${PLAN} } }`, { id: caseId });
    expect(JSON.stringify(byCase)).not.toContain('plan-secret');
    const feed = await municipality.gql(`{ changes(first: 1000) { changes { type state { ... on Case { id ${PLAN} } } } } }`);
    expect(JSON.stringify(feed)).not.toContain('plan-secret');
    // The two paths agree, field by field.
    expect(codes(feed).every((code) => codes(byCase).includes(code))).toBe(true);
    for (const field of ['budget { planned { amount } }', 'finalReport { __typename }', 'evidence { filename }']) {
      const one = await municipality.gql(`query ($id: ID!) { case(id: $id) { id ${field} } }`, { id: caseId });
      const fed = await municipality.gql(`{ changes(first: 1000) { changes { state { ... on Case { id ${field} } } } } }`);
      expect(JSON.stringify(fed), field).not.toContain(FILENAME);
      expect(new Set(codes(fed)), field).toEqual(new Set(codes(one)));
    }

    const socket = wsClient(gw, municipality.token);
    try {
      const sub = socket.subscribe(
        `subscription ($id: ID!, $after: Cursor) { caseEvents(caseId: $id, after: $after) { type state { ... on Case { id ${PLAN} } } } }`,
        { id: caseId, after: encodeCursor(0) },
      );
      await sub.until((r) => r.length >= 8);
      expect(JSON.stringify(sub.received)).not.toContain('plan-secret');
      expect(JSON.stringify(sub.received)).not.toContain('80000');
      sub.stop();
    } finally {
      await socket.client.dispose();
    }
  });

  it('the police learns no deadline, no plan event and not who the partner is, through overdue, the feed or the work list', async () => {
    const police = units.police();
    // The table: the police does not see the case's deadlines nor its partner.
    expect(codes(await police.gql('query ($id: ID!) { case(id: $id) { deadlines { kind } } }', { id: caseId }))).toEqual([
      'FORBIDDEN',
    ]);
    expect(codes(await police.gql('query ($id: ID!) { case(id: $id) { partner { code } } }', { id: caseId }))).toEqual([
      'FORBIDDEN',
    ]);
    const overdue = await police.ok<{ overdue: unknown[] }>(
      '{ overdue { deadline { kind description waitingOn { code } } daysLate case { reference } } }',
    );
    expect(overdue.overdue).toEqual([]);
    const work = await police.ok<{ workList: { deadline: unknown }[] }>('{ workList { deadline { kind } daysLate overdue } }');
    expect(work.workList.filter((w) => w.deadline !== null)).toEqual([]);

    const changes = await feedOf(police);
    expect(changes.length).toBeGreaterThan(0);
    const types = changes.map((c) => c.type);
    for (const hidden of ['PlanDraftSaved', 'PlanSubmitted', 'DeadlineMissed', 'EvidenceUploaded'])
      expect(types, hidden).not.toContain(hidden);
    // Changes it sees the subject of but not the maker of (the partner accepted): the maker is withheld.
    expect(types).toContain('ReferralAccepted');
    expect(changes.map((c) => c.actorOrganisation)).not.toContain('P-AF-HOPE');
    expect(changes.find((c) => c.type === 'ReferralAccepted')?.actorOrganisation).toBe('WITHHELD');
    // What it may see it still hears of: the team's changes, the case's state after each change.
    expect(types).toContain('CaseTeamMemberInvited');
    expect(changes.every((c) => c.state === null || c.state.__typename === 'Case')).toBe(true);
  });

  it('a role granted the deadlines (the implementing organisation) still sees them, in overdue and the feed', async () => {
    const iom = units.iom();
    const overdue = await iom.ok<{ overdue: { case: { reference: string }; deadline: { kind: string } }[] }>(
      '{ overdue { case { reference } deadline { kind } } }',
    );
    expect(overdue.overdue.map((o) => o.deadline.kind)).toContain('ARRIVAL_SUPPORT');
    expect((await feedOf(iom)).map((c) => c.type)).toContain('DeadlineMissed');
  });

  it('the implementing organisation’s audit trail of the case leaves out the plan and the files, as its feed does', async () => {
    const { auditTrail } = await units
      .iom()
      .ok<{ auditTrail: { entries: { type: string; actor: { organisation: string } }[] } }>(
        'query ($id: ID!) { auditTrail(caseId: $id) { entries { type actor { organisation } } } }',
        { id: caseId },
      );
    const types = auditTrail.entries.map((e) => e.type);
    expect(types).toContain('CaseReferred');
    expect(types).toContain('DeadlineMissed');
    for (const hidden of ['PlanDraftSaved', 'PlanSubmitted', 'EvidenceUploaded']) expect(types, hidden).not.toContain(hidden);
  });

  it('webhooks of a unit carry the same changes as its feed', async () => {
    const police = units.police();
    await police.ok('mutation { registerWebhook(url: "https://police.example.org/erin", events: ["*"]) { endpoint { id } } }');
    // Something new on the case after the endpoint exists, of each kind: a plan event, a file, a team change.
    const officer = flow.officer;
    await uploadFile(gw, officer.token, { caseId, kind: 'RECEIPT', filename: FILENAME }, samplePdf('lab-2'));
    await flow.approve(await current());
    await flow.state.ok(INVITE, { id: caseId, unit: 'NL-IND', v: (await current()).version });
    const head = (await gw.services.feed.eventsAfter(0, 100_000)).at(-1)!._id;
    await gw.services.webhookDelivery.dispatch();
    while ((await (await gw.raw()).collection('webhook_dispatch').findOne({}))!.seq < head)
      await gw.services.webhookDelivery.dispatch();
    const { webhookDeliveries } = await police.ok<{
      webhookDeliveries: { deliveries: { eventType: string; aggregateId: string }[] };
    }>('{ webhookDeliveries(first: 100) { deliveries { eventType aggregateId } } }');
    const types = webhookDeliveries.deliveries.map((d) => d.eventType);
    expect(types).toContain('CaseTeamMemberInvited');
    for (const hidden of ['PlanApproved', 'EvidenceUploaded']) expect(types, hidden).not.toContain(hidden);
  });
});
