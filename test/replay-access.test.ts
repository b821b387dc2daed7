// A retried request (the same idempotency key and input) is answered from the log, but only
// with what its caller may see now: an organisation that lost the case since its first attempt
// — a unit its state took the case from, a unit taken off the team, a partner the case was
// given away from — gets NOT_FOUND, exactly as a fresh request would, and nothing is written
// again; what it still may see is shown under the policy as it is now.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflow } from './helpers/factories.ts';
import { codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
  // A second Afghan partner of the Netherlands, to give a declined case to.
  const admin = gw.as('ERIN-NET', 'network-admin');
  await admin.ok(
    'mutation { createOrganisation(input: { code: "P-AF-DAWN", kind: PARTNER, name: "Dawn", countries: ["AF"] }) { code } }',
  );
  await admin.ok(`mutation { createContract(input: { id: "NL-AF-DAWN", memberState: "NL", partner: "P-AF-DAWN", originCountries: ["AF"],
    programmes: ["EURP-VOL"], validFrom: "2024-01-01", validTo: "2030-12-31" }) { id } }`);
});
afterAll(async () => {
  await gw?.close();
});

const SECRET = 'replay-secret: severe trauma, needs a psychologist';

const ASSIGN = `mutation ($id: ID!, $org: ID, $v: Int!) {
  assignImplementingOrganisation(id: $id, organisation: $org, expectedVersion: $v) { version } }`;
/** The tester's mutation: a counselling step, answered with the case's personal content. */
const COUNSEL = `mutation ($id: ID!, $v: Int!, $k: String) {
  recordReturnStep(caseId: $id, step: { kind: COUNSELLING, on: "2026-10-01", decidedToReturn: true }, expectedVersion: $v, idempotencyKey: $k) {
    id version household { yearOfBirth } returnSupport { counselling { heldOn } } } }`;
const READ = `query ($id: ID!) { case(id: $id) { id version } }`;
const FORM = `mutation ($id: ID!, $lead: ID, $v: Int!) { formCaseTeam(caseId: $id, lead: $lead, expectedVersion: $v) { version } }`;
const INVITE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }`;
const REMOVE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { removeFromCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }`;

type Counselled = { recordReturnStep: { id: string; version: number; household: unknown[]; returnSupport: unknown } };

/** A Dutch case assigned to IOM-NL, with the version it is at. */
async function assignedToIom() {
  const nl = workflow(gw, 'NL', 'P-AF-HOPE');
  const created = await nl.create({ needsAssessment: SECRET });
  const { assignImplementingOrganisation } = await nl.state.ok<{ assignImplementingOrganisation: { version: number } }>(ASSIGN, {
    id: created.id,
    org: 'IOM-NL',
    v: created.version,
  });
  return { nl, id: created.id, version: assignImplementingOrganisation.version };
}

/** The events of a case in the log (a replay must add none). */
async function eventsOf(id: string): Promise<number> {
  return (await gw.services.log.history(id)).length;
}

/** An answer that gives nothing of the case: NOT_FOUND and no data. */
function expectNotFound(r: GqlResponse) {
  expect(codes(r)).toEqual(['NOT_FOUND']);
  expect(r.data ?? null).toBeNull();
  expect(JSON.stringify(r)).not.toContain('yearOfBirth');
}

describe('a replayed write after the caller lost the case', () => {
  it('the implementing organisation whose case was taken back gets NOT_FOUND, as a fresh request would, and nothing is written', async () => {
    const { nl, id, version } = await assignedToIom();
    const iom = gw.as('IOM-NL', 'return-counsellor');
    const vars = { id, v: version, k: 'iom-replay-1' };
    const first = await iom.ok<Counselled>(COUNSEL, vars);
    expect(first.recordReturnStep.version).toBe(version + 1);
    // While it still has the case, the retry is answered with the first answer.
    expect((await iom.ok<Counselled>(COUNSEL, vars)).recordReturnStep).toEqual(first.recordReturnStep);

    await nl.state.ok(ASSIGN, { id, org: null, v: first.recordReturnStep.version });
    expect(codes(await iom.gql(READ, { id }))).toEqual(['NOT_FOUND']);
    const before = await eventsOf(id);
    expectNotFound(await iom.gql(COUNSEL, vars));
    // A fresh request (another key) answers the same.
    expectNotFound(await iom.gql(COUNSEL, { ...vars, k: 'iom-replay-fresh' }));
    expect(await eventsOf(id)).toBe(before);
  });

  it('also when the retry reaches the log without its idempotency record (lost in a crash, or purged)', async () => {
    const { nl, id, version } = await assignedToIom();
    const iom = gw.as('IOM-NL', 'return-counsellor');
    const vars = { id, v: version, k: 'iom-replay-lost-record' };
    const first = await iom.ok<Counselled>(COUNSEL, vars);
    const db = await gw.raw();
    expect((await db.collection('idempotency').deleteOne({ _id: 'IOM-NL:iom-replay-lost-record' as never })).deletedCount).toBe(
      1,
    );
    await nl.state.ok(ASSIGN, { id, org: null, v: first.recordReturnStep.version });
    const before = await eventsOf(id);
    expectNotFound(await iom.gql(COUNSEL, vars));
    expect(await eventsOf(id)).toBe(before);
  });

  it('a unit taken off the case team gets NOT_FOUND for its earlier write', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const created = await nl.create({ needsAssessment: SECRET });
    let v = (await nl.state.ok<{ formCaseTeam: { version: number } }>(FORM, { id: created.id, lead: null, v: created.version }))
      .formCaseTeam.version;
    v = (await nl.state.ok<{ inviteToCaseTeam: { version: number } }>(INVITE, { id: created.id, unit: 'NL-NGO-HAVEN', v }))
      .inviteToCaseTeam.version;
    const ngo = gw.as('NL-NGO-HAVEN', 'ngo-worker');
    const COUNSEL_NGO = `mutation ($id: ID!, $v: Int!, $k: String) {
      recordReturnStep(caseId: $id, step: { kind: COUNSELLING, on: "2026-10-01", decidedToReturn: true }, expectedVersion: $v, idempotencyKey: $k) {
        id version household { yearOfBirth } } }`;
    const vars = { id: created.id, v, k: 'ngo-replay-1' };
    const first = await ngo.ok<{ recordReturnStep: { version: number } }>(COUNSEL_NGO, vars);
    await nl.state.ok(REMOVE, { id: created.id, unit: 'NL-NGO-HAVEN', v: first.recordReturnStep.version });
    expect(codes(await ngo.gql(READ, { id: created.id }))).toEqual(['NOT_FOUND']);
    const before = await eventsOf(created.id);
    expectNotFound(await ngo.gql(COUNSEL_NGO, vars));
    expect(await eventsOf(created.id)).toBe(before);
  });

  it('a partner the case was given away from gets NOT_FOUND for its earlier answer to the referral', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create({ needsAssessment: SECRET }));
    const DECLINE = `mutation ($id: ID!, $v: Int!, $k: String) {
      respondToReferral(id: $id, decision: DECLINE, reason: "no capacity", expectedVersion: $v, idempotencyKey: $k) {
        id version status household { yearOfBirth } } }`;
    const vars = { id: referred.id, v: referred.version, k: 'hope-decline-1' };
    const first = await flow.officer.ok<{ respondToReferral: { version: number } }>(DECLINE, vars);
    await flow.state.ok(
      `mutation ($id: ID!, $v: Int!) { reopenCase(id: $id, partner: "P-AF-DAWN", expectedVersion: $v) { id } }`,
      {
        id: referred.id,
        v: first.respondToReferral.version,
      },
    );
    expect(codes(await flow.officer.gql(READ, { id: referred.id }))).toEqual(['NOT_FOUND']);
    const before = await eventsOf(referred.id);
    expectNotFound(await flow.officer.gql(DECLINE, vars));
    expect(await eventsOf(referred.id)).toBe(before);
    // The new partner sees it.
    expect((await gw.as('P-AF-DAWN', 'partner-officer').ok<{ case: { id: string } }>(READ, { id: referred.id })).case.id).toBe(
      referred.id,
    );
  });

  it('an organisation deactivated since is refused altogether', async () => {
    const { id, version } = await assignedToIom();
    const iom = gw.as('IOM-NL', 'return-counsellor');
    const vars = { id, v: version, k: 'iom-replay-deactivated' };
    await iom.ok<Counselled>(COUNSEL, vars);
    const admin = gw.as('ERIN-NET', 'network-admin');
    const UPDATE = `mutation ($active: Boolean!, $v: Int!) { updateOrganisation(code: "IOM-NL", input: { active: $active }, expectedVersion: $v) { version } }`;
    const { organisation } = await admin.ok<{ organisation: { version: number } }>(
      '{ organisation(code: "IOM-NL") { version } }',
    );
    const off = await admin.ok<{ updateOrganisation: { version: number } }>(UPDATE, { active: false, v: organisation.version });
    try {
      const r = await iom.gql(COUNSEL, vars);
      expect(codes(r)).toEqual(['UNAUTHENTICATED']);
      expect(r.data ?? null).toBeNull();
    } finally {
      await admin.ok(UPDATE, { active: true, v: off.updateOrganisation.version });
    }
  });
});

describe('a replayed write that the caller may still see', () => {
  it('shows the special categories only while the caller may see them now (a partner after consent was withdrawn)', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create({ needsAssessment: SECRET }));
    const ACCEPT = `mutation ($id: ID!, $v: Int!, $k: String) {
      respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v, idempotencyKey: $k) { id version status needsAssessment } }`;
    const vars = { id: referred.id, v: referred.version, k: 'hope-accept-1' };
    const first = await flow.officer.ok<{ respondToReferral: { version: number; needsAssessment: string | null } }>(ACCEPT, vars);
    expect(first.respondToReferral.needsAssessment).toBe(SECRET);
    await flow.state.ok(`mutation ($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { version } }`, {
      id: referred.id,
      v: first.respondToReferral.version,
    });
    const now = await flow.officer.ok<{ case: { needsAssessment: string | null } }>(
      `query ($id: ID!) { case(id: $id) { needsAssessment } }`,
      { id: referred.id },
    );
    expect(now.case.needsAssessment).toBeNull();
    const replayed = await flow.officer.ok<{
      respondToReferral: { version: number; status: string; needsAssessment: string | null };
    }>(ACCEPT, vars);
    // The first answer (its version and status), without what the partner may no longer see.
    expect(replayed.respondToReferral).toEqual({ ...first.respondToReferral, needsAssessment: null });
  });

  it('gives a unit the fields of its role on the team now, not of the role it had (a lead handed over)', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const created = await nl.create({ needsAssessment: SECRET });
    const formed = await nl.state.ok<{ formCaseTeam: { version: number } }>(FORM, {
      id: created.id,
      lead: 'NL-DTV',
      v: created.version,
    });
    const dtv = gw.as('NL-DTV', 'agency-officer');
    const INVITE_NEEDS = `mutation ($id: ID!, $v: Int!, $k: String) {
      inviteToCaseTeam(caseId: $id, unit: "NL-POLITIE", expectedVersion: $v, idempotencyKey: $k) { id version needsAssessment } }`;
    const vars = { id: created.id, v: formed.formCaseTeam.version, k: 'dtv-invite-1' };
    const first = await dtv.ok<{ inviteToCaseTeam: { version: number; needsAssessment: string | null } }>(INVITE_NEEDS, vars);
    expect(first.inviteToCaseTeam.needsAssessment).toBe(SECRET);
    // The state takes the lead itself and invites the return service back: on the team, without the lead's fields.
    const handed = await nl.state.ok<{ formCaseTeam: { version: number } }>(FORM, {
      id: created.id,
      lead: null,
      v: first.inviteToCaseTeam.version,
    });
    await nl.state.ok(INVITE, { id: created.id, unit: 'NL-DTV', v: handed.formCaseTeam.version });
    const NEEDS = `query ($id: ID!) { case(id: $id) { id needsAssessment } }`;
    expect(codes(await dtv.gql(NEEDS, { id: created.id }))).toEqual(['FORBIDDEN']);
    const replayed = await dtv.gql(INVITE_NEEDS, vars);
    expect(codes(replayed)).toEqual(['FORBIDDEN']);
    expect(JSON.stringify(replayed)).not.toContain(SECRET);
  });
});
