// The return leg and the member state's implementing organisation (IOM in the Netherlands):
// an organisation of the state that sees only the cases its state assigns to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const ASSIGN = `mutation ($id: ID!, $org: ID, $v: Int!) {
  assignImplementingOrganisation(id: $id, organisation: $org, expectedVersion: $v) {
    id version implementingOrganisation { code } units { code kind memberState { code } }
  }
}`;
const READ = `query ($id: ID!) { case(id: $id) { id reference implementingOrganisation { code } vulnerability { medicalNeeds notes } needsAssessment } }`;
const LIST = `{ cases(first: 100) { edges { node { id } } } }`;

type Assigned = {
  assignImplementingOrganisation: { id: string; version: number; implementingOrganisation: { code: string } | null };
};

describe('implementing organisations', () => {
  it('belong to a member state: the directory names it, and creating one without it (or a partner with one) is refused', async () => {
    const nl = gw.as('NL', 'caseworker');
    const { organisations } = await nl.ok<{
      organisations: { code: string; kind: string; memberState: { code: string } | null }[];
    }>('{ organisations(memberState: "NL") { code kind memberState { code } } }');
    expect(organisations).toEqual([{ code: 'IOM-NL', kind: 'IMPLEMENTING_ORGANISATION', memberState: { code: 'NL' } }]);
    const { organisation } = await nl.ok<{ organisation: { memberState: null } }>(
      '{ organisation(code: "P-AF-HOPE") { memberState { code } } }',
    );
    expect(organisation.memberState).toBeNull();

    const admin = gw.as('ERIN-NET', 'network-admin');
    const create = `mutation ($input: CreateOrganisationInput!) { createOrganisation(input: $input) { code memberState { code } } }`;
    const base = { code: 'IOM-SE', kind: 'IMPLEMENTING_ORGANISATION', name: 'IOM Sweden', countries: ['SE'] };
    expect(codes(await admin.gql(create, { input: base }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await admin.gql(create, { input: { ...base, memberState: 'P-AF-HOPE' } }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await admin.gql(create, { input: { ...base, memberState: 'XX' } }))).toEqual(['BAD_USER_INPUT']);
    const partner = { code: 'P-XX-NEW', kind: 'PARTNER', name: 'New', countries: ['AF'], memberState: 'NL' };
    expect(codes(await admin.gql(create, { input: partner }))).toEqual(['BAD_USER_INPUT']);
    const made = await admin.ok<{ createOrganisation: { code: string; memberState: { code: string } } }>(create, {
      input: { ...base, memberState: 'SE' },
    });
    expect(made.createOrganisation).toEqual({ code: 'IOM-SE', memberState: { code: 'SE' } });
  });

  it('a return counsellor sees a case only while its member state assigns it, with the special categories it needs', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const iom = gw.as('IOM-NL', 'return-counsellor');
    const iomBe = gw.as('IOM-BE', 'return-counsellor');
    const created = await nl.create({
      vulnerability: {
        unaccompaniedMinor: false,
        victimOfTrafficking: false,
        medicalNeeds: true,
        notes: 'insulin on the journey',
      },
    });
    const other = await nl.create();

    // Not assigned: it does not exist for the counsellor.
    expect(codes(await iom.gql(READ, { id: created.id }))).toEqual(['NOT_FOUND']);
    const before = await iom.ok<{ cases: { edges: { node: { id: string } }[] } }>(LIST);
    expect(before.cases.edges.map((e) => e.node.id)).not.toContain(created.id);

    // Only the member state assigns, and only its own implementing organisation.
    expect(codes(await iom.gql(ASSIGN, { id: created.id, org: 'IOM-NL', v: created.version }))).toEqual(['FORBIDDEN']);
    expect(codes(await nl.state.gql(ASSIGN, { id: created.id, org: 'IOM-BE', v: created.version }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await nl.state.gql(ASSIGN, { id: created.id, org: 'P-AF-HOPE', v: created.version }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(codes(await gw.as('BE', 'caseworker').gql(ASSIGN, { id: created.id, org: 'IOM-BE', v: created.version }))).toEqual([
      'NOT_FOUND',
    ]);
    const assigned = (await nl.state.ok<Assigned>(ASSIGN, { id: created.id, org: 'IOM-NL', v: created.version }))
      .assignImplementingOrganisation;
    expect(assigned.implementingOrganisation).toEqual({ code: 'IOM-NL' });

    const seen = await iom.ok<{ case: { reference: string; vulnerability: { notes: string }; needsAssessment: string } }>(READ, {
      id: created.id,
    });
    expect(seen.case.reference).toBe(created.reference);
    expect(seen.case.vulnerability.notes).toBe('insulin on the journey');
    const listed = await iom.ok<{ cases: { edges: { node: { id: string } }[] } }>(LIST);
    expect(listed.cases.edges.map((e) => e.node.id)).toContain(created.id);
    expect(listed.cases.edges.map((e) => e.node.id)).not.toContain(other.id);

    // Another state's implementing organisation and the partner (not yet referred) see nothing.
    expect(codes(await iomBe.gql(READ, { id: created.id }))).toEqual(['NOT_FOUND']);
    expect(codes(await nl.officer.gql(READ, { id: created.id }))).toEqual(['NOT_FOUND']);
    // A counsellor cannot act as the member state.
    const refer = `mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id } }`;
    expect(codes(await iom.gql(refer, { id: created.id, v: assigned.version }))).toEqual(['FORBIDDEN']);

    // Taken back: gone at once.
    await nl.state.ok(ASSIGN, { id: created.id, org: null, v: assigned.version });
    expect(codes(await iom.gql(READ, { id: created.id }))).toEqual(['NOT_FOUND']);
    const after = await iom.ok<{ cases: { edges: { node: { id: string } }[] } }>(LIST);
    expect(after.cases.edges.map((e) => e.node.id)).not.toContain(created.id);
  });

  it('a token naming an implementing organisation with a member-state role is refused', async () => {
    const r = await gw.gql('{ me { roles } }', {}, { token: gw.token('IOM-NL', 'caseworker') });
    expect(codes(r)).toEqual(['UNAUTHENTICATED']);
    const ok = await gw.gql<{ me: { roles: string[] } }>(
      '{ me { roles } }',
      {},
      { token: gw.token('IOM-NL', 'return-counsellor') },
    );
    expect(ok.data?.me.roles).toEqual(['return-counsellor']);
  });

  it('a case registered with its implementing organisation is the counsellor’s from the start', async () => {
    const nl = gw.as('NL', 'caseworker');
    const input = {
      programme: 'NL-AVRR',
      originCountry: 'MA',
      returnType: 'VOLUNTARY',
      implementingOrganisation: 'IOM-NL',
      household: [{ yearOfBirth: 1988, gender: 'FEMALE', relation: 'PRINCIPAL' }],
      consent: { purpose: 'return support', givenOn: '2026-01-10', expiresOn: '2028-01-10' },
    };
    const made = await nl.ok<{ createCase: { id: string } }>(
      `mutation ($input: CreateCaseInput!) { createCase(input: $input) { id } }`,
      { input },
    );
    const seen = await gw.as('IOM-NL', 'return-counsellor').ok<{ case: { implementingOrganisation: { code: string } } }>(READ, {
      id: made.createCase.id,
    });
    expect(seen.case.implementingOrganisation.code).toBe('IOM-NL');
    const wrong = await nl.gql(`mutation ($input: CreateCaseInput!) { createCase(input: $input) { id } }`, {
      input: { ...input, implementingOrganisation: 'IOM-BE' },
    });
    expect(codes(wrong)).toEqual(['BAD_USER_INPUT']);
  });
});
