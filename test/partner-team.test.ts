// A partner in the country of origin is not told who of the member state works on a case:
// not the case's team or units (FORBIDDEN), not the changes of the team nor the steps of the
// return leg but the departure and the arrival (CaseChanged by WITHHELD in its feed, left out of
// its audit trail), and not which unit made a change it does see. Only the member state, the
// gateway, itself and the implementing organisation (which hands the person over to it) are
// named. The member state still sees all of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflow } from './helpers/factories.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let flow: ReturnType<typeof workflow>;
let caseId: string;

/** The member state's units on the case's team, none of which the partner may be told of. */
const UNITS = /NL-GEM-UTRECHT|NL-POLITIE|NL-NGO-HAVEN/;
const STEP = `mutation ($id: ID!, $step: ReturnStepInput!, $v: Int!) { recordReturnStep(caseId: $id, step: $step, expectedVersion: $v) { version } }`;
const FEED = `{ changes(first: 1000) { changes { caseId type actorOrganisation } } }`;
const TRAIL = `query ($id: ID!) { auditTrail(caseId: $id) { entries { type actor { organisation } } } }`;

type Change = { caseId: string | null; type: string; actorOrganisation: string };

async function version(): Promise<number> {
  return (await flow.state.ok<{ case: { version: number } }>('query ($id: ID!) { case(id: $id) { version } }', { id: caseId }))
    .case.version;
}

beforeAll(async () => {
  gw = await startGateway();
  flow = workflow(gw, 'NL', 'P-AF-HOPE');
  const created = await flow.state.ok<{ createCase: { id: string; version: number } }>(
    `mutation ($input: CreateCaseInput!) { createCase(input: $input) { id version } }`,
    {
      input: {
        programme: 'NL-REAN',
        originCountry: 'AF',
        returnType: 'VOLUNTARY',
        partner: 'P-AF-HOPE',
        implementingOrganisation: 'IOM-NL',
        residenceApplication: 'ASYLUM_REJECTED',
        plannedDepartureDate: '2026-01-20',
        person: { familyName: 'Karimi', givenNames: 'Nadia', dateOfBirth: '1991-04-05', nationality: 'AF' },
        household: [{ yearOfBirth: 1991, gender: 'FEMALE', relation: 'PRINCIPAL' }],
        consent: { purposes: ['RETURN_ASSISTANCE', 'REINTEGRATION_SUPPORT'], givenOn: '2026-01-10', expiresOn: '2036-01-10' },
      },
    },
  );
  caseId = created.createCase.id;
  // The partner takes the case on; only then is the team formed, so it is in the audience of
  // every change of the team.
  await flow.accept(await flow.refer({ id: caseId, version: created.createCase.version } as never));
  await flow.state.ok(
    `mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: "NL-GEM-UTRECHT", expectedVersion: $v) { version } }`,
    { id: caseId, v: await version() },
  );
  // The municipality, leading, brings in the police and an NGO; the NGO counsels the person,
  // IOM records the travel document.
  const lead = gw.as('NL-GEM-UTRECHT', 'municipal-officer');
  for (const unit of ['NL-POLITIE', 'NL-NGO-HAVEN'])
    await lead.ok(
      `mutation ($id: ID!, $unit: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: $unit, expectedVersion: $v) { version } }`,
      { id: caseId, unit, v: await version() },
    );
  await gw
    .as('NL-NGO-HAVEN', 'ngo-worker')
    .ok(STEP, { id: caseId, step: { kind: 'COUNSELLING', on: '2026-01-12', decidedToReturn: true }, v: await version() });
  // IOM takes the person home: the return leg up to the arrival, which hands them over to the partner.
  const iom = gw.as('IOM-NL', 'return-counsellor');
  for (const step of [
    { kind: 'TRAVEL_DOCUMENT', on: '2026-01-13', stage: 'APPLIED' },
    { kind: 'TRAVEL_DOCUMENT', on: '2026-01-14', stage: 'OBTAINED' },
    {
      kind: 'TICKET',
      on: '2026-01-15',
      departureDate: '2026-01-20',
      route: ['AMS', 'IST', 'KBL'],
      finalDestination: 'Herat',
      landTravelAllowance: { amount: 9000, currency: 'EUR' },
    },
    { kind: 'DEPARTURE', on: '2026-01-20', place: 'AMS' },
    { kind: 'ARRIVAL', on: '2026-01-21', place: 'KBL', metOnArrival: true },
  ])
    await iom.ok(STEP, { id: caseId, step, v: await version() });
});
afterAll(async () => {
  await gw?.close();
});

describe('the partner is not told who of the member state works on a case', () => {
  it('reads neither the team nor the units of the case, only its implementing organisation', async () => {
    for (const field of ['team { lead { code } }', 'units { code }']) {
      const answer = await flow.officer.gql(`query ($id: ID!) { case(id: $id) { id ${field} } }`, { id: caseId });
      expect(codes(answer), field).toEqual(['FORBIDDEN']);
      expect(JSON.stringify(answer)).not.toMatch(UNITS);
    }
    const seen = await flow.officer.ok<{ case: { implementingOrganisation: { code: string }; myTeamRoles: string[] } }>(
      'query ($id: ID!) { case(id: $id) { implementingOrganisation { code } myTeamRoles } }',
      { id: caseId },
    );
    expect(seen.case).toEqual({ implementingOrganisation: { code: 'IOM-NL' }, myTeamRoles: [] });
    // Nor through a list, or a case in its feed.
    const listed = await flow.officer.gql('{ cases(first: 100) { edges { node { id units { code } } } } }');
    expect(codes(listed)).toContain('FORBIDDEN');
    expect(JSON.stringify(listed)).not.toMatch(UNITS);
    const fed = await flow.officer.gql(
      '{ changes(first: 1000) { changes { state { ... on Case { team { lead { code } } } } } } }',
    );
    expect(codes(fed)).toContain('FORBIDDEN');
    expect(JSON.stringify(fed)).not.toMatch(UNITS);
  });

  it('hears of a change of the team only that the case changed, and of a unit’s change not who made it', async () => {
    const changes = (await flow.officer.ok<{ changes: { changes: Change[] } }>(FEED)).changes.changes.filter(
      (c) => c.caseId === caseId,
    );
    expect(JSON.stringify(changes)).not.toMatch(UNITS);
    expect(changes.map((c) => c.type)).not.toContain('CaseTeamFormed');
    expect(changes.map((c) => c.type)).not.toContain('CaseTeamMemberInvited');
    // Formed by the state, two invitations by the municipality, the NGO's counselling, IOM's travel
    // document and ticket: seven changes, nothing told of them.
    expect(changes.filter((c) => c.type === 'CaseChanged')).toEqual(
      Array(7).fill({ caseId, type: 'CaseChanged', actorOrganisation: 'WITHHELD' }),
    );
    expect(changes.map((c) => c.type)).not.toContain('ReturnStepRecorded');
    // The departure and the arrival (the hand-over), which the partner prepares for: told, with their maker.
    const journey = changes.filter((c) => ['Departed', 'ArrivedAndHandedOver'].includes(c.type));
    expect(journey.map((c) => [c.type, c.actorOrganisation])).toEqual([
      ['Departed', 'IOM-NL'],
      ['ArrivedAndHandedOver', 'IOM-NL'],
    ]);
    // The member state's own changes and the partner's still name their makers.
    expect(changes.map((c) => c.actorOrganisation)).toEqual(expect.arrayContaining(['NL', 'P-AF-HOPE']));

    // The member state is told everything.
    const state = (await flow.state.ok<{ changes: { changes: Change[] } }>(FEED)).changes.changes.filter(
      (c) => c.caseId === caseId,
    );
    expect(state.map((c) => c.type)).toEqual(expect.arrayContaining(['CaseTeamFormed', 'CaseTeamMemberInvited']));
    expect(state.map((c) => c.actorOrganisation)).toEqual(expect.arrayContaining(['NL-GEM-UTRECHT', 'NL-NGO-HAVEN']));
  });

  it('is told no more of the team once the case was taken from it (its feed from the start)', async () => {
    await gw.as('ERIN-NET', 'network-admin').ok(
      `mutation { createContract(input: { id: "NL-AF-TIGRIS-TEAM", memberState: "NL", partner: "P-IQ-TIGRIS",
        originCountries: ["AF"], programmes: ["EURP-VOL"], validFrom: "2026-01-01" }) { id } }`,
    );
    const referred = await flow.refer(await flow.create());
    const v = async () =>
      (await flow.state.ok<{ case: { version: number } }>('query ($id: ID!) { case(id: $id) { version } }', { id: referred.id }))
        .case.version;
    // A team formed while the referral waits for an answer, the municipality bringing in the police.
    await flow.state.ok(
      `mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: "NL-GEM-UTRECHT", expectedVersion: $v) { version } }`,
      { id: referred.id, v: await v() },
    );
    await gw
      .as('NL-GEM-UTRECHT', 'municipal-officer')
      .ok(
        `mutation ($id: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: "NL-POLITIE", expectedVersion: $v) { version } }`,
        { id: referred.id, v: await v() },
      );
    // The partner declines; the state gives the case to another partner.
    await flow.decline({ ...referred, version: await v() }, 'no capacity');
    await flow.state.ok(
      `mutation ($id: ID!, $v: Int!) { reopenCase(id: $id, partner: "P-IQ-TIGRIS", expectedVersion: $v) { id } }`,
      { id: referred.id, v: await v() },
    );
    const changes = (
      await flow.officer.ok<{ changes: { changes: (Change & { removed: boolean })[] } }>(
        `{ changes(first: 1000) { changes { caseId type actorOrganisation removed } } }`,
      )
    ).changes.changes.filter((c) => c.caseId === referred.id);
    // Every change of the case tells it to forget the case; the team's as CaseChanged by WITHHELD.
    expect(changes.every((c) => c.removed)).toBe(true);
    expect(JSON.stringify(changes)).not.toMatch(new RegExp(`${UNITS.source}|CaseTeam`));
    expect(changes.filter((c) => c.type === 'CaseChanged')).toEqual(
      Array(2).fill({ caseId: referred.id, type: 'CaseChanged', actorOrganisation: 'WITHHELD', removed: true }),
    );
    expect(changes.map((c) => c.type)).toEqual(expect.arrayContaining(['CaseReferred', 'ReferralDeclined', 'CaseReopened']));
    // The member state is still told all of it.
    const state = (await flow.state.ok<{ changes: { changes: Change[] } }>(FEED)).changes.changes.filter(
      (c) => c.caseId === referred.id,
    );
    expect(state.map((c) => c.actorOrganisation)).toContain('NL-GEM-UTRECHT');
  });

  it('finds neither the team’s changes nor a unit’s in the case’s audit trail', async () => {
    type Trail = { auditTrail: { entries: { type: string; actor: { organisation: string } }[] } };
    const partner = (await flow.officer.ok<Trail>(TRAIL, { id: caseId })).auditTrail.entries;
    expect(partner.length).toBeGreaterThan(0);
    expect(JSON.stringify(partner)).not.toMatch(new RegExp(`${UNITS.source}|CaseTeam`));
    expect(partner.map((e) => e.actor.organisation)).toContain('IOM-NL');
    const state = (await flow.state.ok<Trail>(TRAIL, { id: caseId })).auditTrail.entries;
    expect(state.map((e) => e.actor.organisation)).toEqual(expect.arrayContaining(['NL-GEM-UTRECHT', 'NL-NGO-HAVEN']));
  });
});
