// Case teams: a member state's municipality leads a team of the state's units on one case
// (local cooperation, "de gemeente heeft de regie"); each unit sees exactly the fields and
// takes exactly the actions its role has in the policy's table, sees no case it is not on,
// and loses the case at once — feed and subscriptions included — when taken off the team.
import { makeExecutableSchema } from '@graphql-tools/schema';
import { getNamedType, isCompositeType, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleSeesField, type TeamRole } from '../src/auth/case-team.ts';
import { loadTypeDefs } from '../src/graphql/schema.ts';
import { workflow } from './helpers/factories.ts';
import { codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';
import { wsClient, type Received } from './helpers/ws.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
  // A unit of another member state, to be refused.
  await gw
    .as('ERIN-NET', 'network-admin')
    .ok(
      'mutation { createOrganisation(input: { code: "BE-POLITIE", kind: AGENCY, agency: POLICE, name: "Police fédérale", countries: ["BE"], memberState: "BE" }) { code } }',
    );
});
afterAll(async () => {
  await gw?.close();
});

type Client = ReturnType<TestGateway['as']>;
const SECRET_NEEDS = 'team-secret: needs trauma counselling';

const FORM = `mutation ($id: ID!, $lead: ID, $v: Int!) { formCaseTeam(caseId: $id, lead: $lead, expectedVersion: $v) {
  id version team { lead { code } members { organisation { code } role } } units { code } } }`;
const INVITE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { id version } }`;
const REMOVE = `mutation ($id: ID!, $unit: ID!, $v: Int!) { removeFromCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { id version } }`;
const COUNSEL = `mutation ($id: ID!, $v: Int!) { recordReturnStep(caseId: $id, step: { kind: COUNSELLING, on: "2026-11-02", decidedToReturn: true },
  expectedVersion: $v) { id version } }`;
const VERSION = 'query ($id: ID!) { case(id: $id) { version } }';

const units = {
  municipality: () => gw.as('NL-GEM-UTRECHT', 'municipal-officer'),
  police: () => gw.as('NL-POLITIE', 'agency-officer'),
  ngo: () => gw.as('NL-NGO-HAVEN', 'ngo-worker'),
};

async function versionOf(client: Client, id: string): Promise<number> {
  return (await client.ok<{ case: { version: number } }>(VERSION, { id })).case.version;
}

/** A Dutch case with a team: led by Utrecht, with the police and an NGO it invited. */
async function dutchCaseWithTeam() {
  const nl = workflow(gw, 'NL', 'P-AF-HOPE');
  const created = await nl.create({
    needsAssessment: SECRET_NEEDS,
    vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: true, medicalNeeds: false, notes: 'team-secret' },
  });
  const formed = await nl.state.ok<{ formCaseTeam: { version: number; team: unknown; units: { code: string }[] } }>(FORM, {
    id: created.id,
    lead: 'NL-GEM-UTRECHT',
    v: created.version,
  });
  expect(formed.formCaseTeam.team).toEqual({
    lead: { code: 'NL-GEM-UTRECHT' },
    members: [{ organisation: { code: 'NL-GEM-UTRECHT' }, role: 'MUNICIPALITY' }],
  });
  const municipality = units.municipality();
  let v = formed.formCaseTeam.version;
  for (const unit of ['NL-POLITIE', 'NL-NGO-HAVEN']) {
    v = (await municipality.ok<{ inviteToCaseTeam: { version: number } }>(INVITE, { id: created.id, unit, v })).inviteToCaseTeam
      .version;
  }
  return { nl, id: created.id, reference: created.reference, version: v };
}

// ---- the Case type's fields, from the schema ----------------------------------------------

const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
/** Each field of a type with the smallest selection that asks for it. */
function fieldsOf(typeName: string): { name: string; selection: string }[] {
  const type = schema.getType(typeName) as GraphQLObjectType;
  return Object.values(type.getFields()).map((f) => ({
    name: f.name,
    selection: isCompositeType(getNamedType(f.type)) ? `${f.name} { __typename }` : f.name,
  }));
}

const seesByTable = (roles: TeamRole[], field: string) => roles.some((role) => roleSeesField(role, field));

function expectAnswer(response: GqlResponse, allowed: boolean, what: string): void {
  if (allowed) expect(response.errors, `${what} should be visible`).toBeUndefined();
  else expect(codes(response), `${what} should be refused`).toEqual(['FORBIDDEN']);
}

describe('case teams', () => {
  it('a municipality forms a team with the police and an NGO; each sees exactly its role’s fields of the case', async () => {
    const { id } = await dutchCaseWithTeam();
    // A step of the return leg, so the return support has something in it.
    await units.ngo().ok(COUNSEL, { id, v: await versionOf(units.municipality(), id) });
    const expected: [keyof typeof units, TeamRole[]][] = [
      ['municipality', ['MUNICIPALITY', 'LEAD']],
      ['police', ['POLICE']],
      ['ngo', ['CIVIL_SOCIETY']],
    ];
    const caseFields = fieldsOf('Case');
    const legFields = fieldsOf('ReturnSupport');
    expect(caseFields.length).toBeGreaterThan(40);
    for (const [who, roles] of expected) {
      const client = units[who]();
      const mine = await client.ok<{ case: { myTeamRoles: TeamRole[] } }>('query ($id: ID!) { case(id: $id) { myTeamRoles } }', {
        id,
      });
      expect(new Set(mine.case.myTeamRoles), who).toEqual(new Set(roles));
      for (const field of caseFields) {
        const r = await client.gql(`query ($id: ID!) { case(id: $id) { ${field.selection} } }`, { id });
        expectAnswer(r, seesByTable(roles, field.name), `${who}: Case.${field.name}`);
      }
      if (!seesByTable(roles, 'returnSupport')) continue;
      for (const field of legFields) {
        const r = await client.gql(`query ($id: ID!) { case(id: $id) { returnSupport { ${field.selection} } } }`, { id });
        expectAnswer(r, seesByTable(roles, `returnSupport.${field.name}`), `${who}: ReturnSupport.${field.name}`);
      }
    }
    // The table's examples, read back as values.
    const police = await units
      .police()
      .ok<{ case: Record<string, unknown> }>(
        'query ($id: ID!) { case(id: $id) { reference status plannedDepartureDate returnSupport { departure { on } } } }',
        { id },
      );
    expect(police.case.status).toBe('DRAFT');
    for (const field of ['needsAssessment', 'vulnerability { notes }', 'entitlement { total { amount } }', 'household { age }']) {
      const r = await units.police().gql(`query ($id: ID!) { case(id: $id) { id ${field} } }`, { id });
      expect(codes(r), field).toEqual(['FORBIDDEN']);
      expect(JSON.stringify(r)).not.toContain('team-secret');
    }
    const ngo = await units
      .ngo()
      .ok<{ case: { returnSupport: { counselling: { decidedToReturn: boolean }[] } } }>(
        'query ($id: ID!) { case(id: $id) { returnSupport { counselling { heldOn decidedToReturn } } } }',
        { id },
      );
    expect(ngo.case.returnSupport.counselling).toEqual([{ heldOn: '2026-11-02', decidedToReturn: true }]);
    expect(
      codes(await units.ngo().gql('query ($id: ID!) { case(id: $id) { entitlement { total { amount } } } }', { id })),
    ).toEqual(['FORBIDDEN']);
    const lead = await units
      .municipality()
      .ok<{ case: { needsAssessment: string; vulnerability: { notes: string } } }>(
        'query ($id: ID!) { case(id: $id) { needsAssessment vulnerability { notes } } }',
        { id },
      );
    expect(lead.case).toEqual({ needsAssessment: SECRET_NEEDS, vulnerability: { notes: 'team-secret' } });
  });

  it('a document first run by callers the gate never refuses is still gated for a unit (compiled once per variant)', async () => {
    const { nl, id } = await dutchCaseWithTeam();
    // One text, so the gateway holds one parsed document and compiles it for each variant.
    const DOC = 'query Held($id: ID!) { case(id: $id) { reference needsAssessment household { age } } }';
    for (let i = 0; i < 3; i += 1) {
      const state = await nl.state.ok<{ case: { needsAssessment: string } }>(DOC, { id });
      expect(state.case.needsAssessment).toBe(SECRET_NEEDS);
    }
    const police = await units.police().gql(DOC, { id });
    expect(codes(police)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(JSON.stringify(police)).not.toContain('team-secret');
    // And the other way round: the lead's answer (gated, allowed) does not open it for the police either.
    expect((await units.municipality().ok<{ case: { needsAssessment: string } }>(DOC, { id })).case.needsAssessment).toBe(
      SECRET_NEEDS,
    );
    expect(codes(await units.police().gql(DOC, { id }))).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect((await nl.state.gql(DOC, { id })).errors).toBeUndefined();
  });

  it('each unit does only what its role allows, and every team change is a case event in the audit trail', async () => {
    const { nl, id } = await dutchCaseWithTeam();
    const v = () => versionOf(nl.state, id);
    // The police records nothing; it neither invites nor removes.
    expect(codes(await units.police().gql(COUNSEL, { id, v: await v() }))).toEqual(['FORBIDDEN']);
    expect(codes(await units.police().gql(INVITE, { id, unit: 'NL-IND', v: await v() }))).toEqual(['FORBIDDEN']);
    expect(codes(await units.ngo().gql(REMOVE, { id, unit: 'NL-POLITIE', v: await v() }))).toEqual(['FORBIDDEN']);
    // Nor may a unit form a team or take its state's place.
    expect(codes(await units.municipality().gql(FORM, { id, lead: 'NL-DTV', v: await v() }))).toEqual(['FORBIDDEN']);
    // The NGO records counselling; the police is not offered the return leg.
    const actions = async (c: Client) =>
      (await c.ok<{ case: { allowedActions: string[] } }>('query ($id: ID!) { case(id: $id) { allowedActions } }', { id })).case
        .allowedActions;
    expect(await actions(units.ngo())).toContain('RECORD_RETURN_STEP');
    expect(await actions(units.police())).not.toContain('RECORD_RETURN_STEP');
    await units.ngo().ok(COUNSEL, { id, v: await v() });
    // The state itself manages the team too: the immigration service joins, with its role from what it is.
    await nl.state.ok(INVITE, { id, unit: 'NL-IND', v: await v() });
    const { case: c } = await nl.state.ok<{ case: { team: { members: { organisation: { code: string }; role: string }[] } } }>(
      'query ($id: ID!) { case(id: $id) { team { members { organisation { code } role } } } }',
      { id },
    );
    expect(c.team.members.map((m) => [m.organisation.code, m.role])).toEqual([
      ['NL-GEM-UTRECHT', 'MUNICIPALITY'],
      ['NL-POLITIE', 'POLICE'],
      ['NL-NGO-HAVEN', 'CIVIL_SOCIETY'],
      ['NL-IND', 'IMMIGRATION_SERVICE'],
    ]);
    expect(codes(await nl.state.gql(INVITE, { id, unit: 'NL-IND', v: await v() }))).toEqual(['BAD_USER_INPUT']);
    const { auditTrail } = await nl.state.ok<{ auditTrail: { entries: { type: string; actor: { organisation: string } }[] } }>(
      'query ($id: ID!) { auditTrail(caseId: $id) { entries { type actor { organisation } } } }',
      { id },
    );
    expect(auditTrail.entries.map((e) => [e.type, e.actor.organisation]).filter(([t]) => t!.startsWith('CaseTeam'))).toEqual([
      ['CaseTeamFormed', 'NL'],
      ['CaseTeamMemberInvited', 'NL-GEM-UTRECHT'],
      ['CaseTeamMemberInvited', 'NL-GEM-UTRECHT'],
      ['CaseTeamMemberInvited', 'NL'],
    ]);
  });

  it('units of another member state, implementing organisations and units that may not lead are refused', async () => {
    const { nl, id } = await dutchCaseWithTeam();
    const v = await versionOf(nl.state, id);
    for (const unit of ['BE-POLITIE', 'IOM-NL', 'P-AF-HOPE', 'NL', 'NO-SUCH-UNIT']) {
      expect(codes(await units.municipality().gql(INVITE, { id, unit, v })), unit).toEqual(['BAD_USER_INPUT']);
      expect(codes(await nl.state.gql(INVITE, { id, unit, v })), unit).toEqual(['BAD_USER_INPUT']);
    }
    for (const lead of ['NL-POLITIE', 'NL-NGO-HAVEN', 'BE-POLITIE']) {
      expect(codes(await nl.state.gql(FORM, { id, lead, v })), lead).toEqual(['BAD_USER_INPUT']);
    }
    // Another state cannot reach the case at all; Belgium's police sees nothing of it.
    expect(codes(await gw.as('BE', 'caseworker').gql(INVITE, { id, unit: 'BE-POLITIE', v }))).toEqual(['NOT_FOUND']);
    expect(codes(await gw.as('BE-POLITIE', 'agency-officer').gql(VERSION, { id }))).toEqual(['NOT_FOUND']);
    expect(await versionOf(nl.state, id)).toBe(v);
  });

  it('a unit never sees a case it is not on: by id, in lists, in the feed', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const other = await nl.create({ needsAssessment: 'not-on-the-team' });
    const { id } = await dutchCaseWithTeam();
    for (const [who, make] of Object.entries(units)) {
      const client = make();
      expect(codes(await client.gql(VERSION, { id: other.id })), who).toEqual(['NOT_FOUND']);
      const { cases } = await client.ok<{ cases: { edges: { node: { id: string } }[] } }>(
        '{ cases(first: 100) { edges { node { id } } } }',
      );
      const listed = cases.edges.map((e) => e.node.id);
      expect(listed, who).toContain(id);
      expect(listed, who).not.toContain(other.id);
      const feed = JSON.stringify(await client.ok('{ changes(first: 1000) { changes { aggregateId caseId } } }'));
      expect(feed, who).toContain(id);
      expect(feed, who).not.toContain(other.id);
    }
    // An agency of the state not on the team sees neither.
    const coa = gw.as('NL-COA', 'agency-officer');
    expect(codes(await coa.gql(VERSION, { id }))).toEqual(['NOT_FOUND']);
    expect(
      JSON.stringify(await coa.ok('{ changes(first: 1000) { changes { aggregateId } } cases { edges { node { id } } } }')),
    ).not.toContain(id);
  });

  it('a removed unit is refused at once: the case, its list, its feed and its subscriptions', async () => {
    const { nl, id } = await dutchCaseWithTeam();
    const police = units.police();
    const socket = wsClient(gw, police.token);
    const CHANGE = 'cursor aggregateId caseId type removed state { __typename ... on Case { id status } }';
    const { changes: start } = await police.ok<{ changes: { endCursor: string } }>('{ changes(first: 0) { endCursor } }');
    const caseEvents = socket.subscribe(
      `subscription ($id: ID!, $after: Cursor) { caseEvents(caseId: $id, after: $after) { ${CHANGE} } }`,
      { id, after: start.endCursor },
    );
    const feed = socket.subscribe(`subscription ($after: Cursor) { myFeed(after: $after) { ${CHANGE} } }`, {
      after: start.endCursor,
    });
    type Change = { aggregateId: string; caseId: string | null; type: string; removed: boolean; state: unknown };
    const of = (r: Received[], field: string) => r.map((x) => (x.data as Record<string, Change>)[field]!);
    // Both subscriptions carry the case while the police is on the team: the case's new state
    // after the NGO's counselling, the change itself withheld (the police does not see counselling).
    await units.ngo().ok(COUNSEL, { id, v: await versionOf(nl.state, id) });
    const counselled = (c: Change) => c.caseId === id && c.type === 'CaseChanged' && c.state !== null;
    await caseEvents.until((r) => of(r, 'caseEvents').some(counselled));
    await feed.until((r) => of(r, 'myFeed').some(counselled));
    expect(of(caseEvents.received, 'caseEvents').map((c) => c.type)).not.toContain('ReturnStepRecorded');

    await units.municipality().ok(REMOVE, { id, unit: 'NL-POLITIE', v: await versionOf(nl.state, id) });
    // At once: by id, in lists, any action.
    expect(codes(await police.gql(VERSION, { id }))).toEqual(['NOT_FOUND']);
    const { cases } = await police.ok<{ cases: { edges: { node: { id: string } }[] } }>(
      '{ cases(first: 100) { edges { node { id } } } }',
    );
    expect(cases.edges.map((e) => e.node.id)).not.toContain(id);
    expect(codes(await police.gql(COUNSEL, { id, v: await versionOf(nl.state, id) }))).toEqual(['NOT_FOUND']);
    // The subscription to the case is told, then ends.
    await caseEvents.ended();
    const last = of(caseEvents.received, 'caseEvents').at(-1)!;
    expect(last).toMatchObject({ type: 'CaseTeamMemberRemoved', removed: true, state: null });
    // The feed from the start holds no event of the case but the one that took the police off it.
    const page = await police.ok<{ changes: { changes: Change[] } }>(`{ changes(first: 1000) { changes { ${CHANGE} } } }`);
    expect(page.changes.changes.filter((c) => c.caseId === id)).toEqual([
      expect.objectContaining({ type: 'CaseTeamMemberRemoved', removed: true, state: null }),
    ]);
    // The open feed subscription hears of the removal, and of the case nothing after it.
    await units.ngo().ok(COUNSEL, { id, v: await versionOf(nl.state, id) });
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { organisation } = await admin.ok<{ organisation: { version: number } }>('{ organisation(code: "AT") { version } }');
    await admin.ok(
      'mutation ($v: Int!) { updateOrganisation(code: "AT", input: { name: "Austria" }, expectedVersion: $v) { code } }',
      {
        v: organisation.version,
      },
    );
    await feed.until((r) => of(r, 'myFeed').some((c) => c.aggregateId === 'AT'));
    const seen = of(feed.received, 'myFeed');
    const removal = seen.findIndex((c) => c.type === 'CaseTeamMemberRemoved');
    expect(removal).toBeGreaterThanOrEqual(0);
    expect(seen[removal]).toMatchObject({ removed: true, state: null });
    expect(seen.slice(removal + 1).filter((c) => c.caseId === id)).toEqual([]);
    // The others on the team still see the case, and the state can take the police back.
    expect(await versionOf(units.ngo(), id)).toBeGreaterThan(0);
    await nl.state.ok(INVITE, { id, unit: 'NL-POLITIE', v: await versionOf(nl.state, id) });
    expect(await versionOf(police, id)).toBeGreaterThan(0);
    await socket.close();
  });

  it('tokens of a unit carry only its kind’s role', async () => {
    const r = await gw.gql('{ me { roles } }', {}, { token: gw.token('NL-POLITIE', 'caseworker') });
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    const ok = await gw.gql<{ me: { roles: string[] } }>(
      '{ me { roles } }',
      {},
      { token: gw.token('NL-NGO-HAVEN', 'ngo-worker') },
    );
    expect(ok.data?.me.roles).toEqual(['ngo-worker']);
  });
});
