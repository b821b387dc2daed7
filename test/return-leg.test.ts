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
    }>('{ organisations(memberState: "NL", kind: IMPLEMENTING_ORGANISATION) { code kind memberState { code } } }');
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
      consent: { purposes: ['RETURN_ASSISTANCE', 'REINTEGRATION_SUPPORT'], givenOn: '2026-01-10', expiresOn: '2036-01-10' },
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

const STEP = `mutation ($id: ID!, $step: ReturnStepInput!, $v: Int!) {
  recordReturnStep(caseId: $id, step: $step, expectedVersion: $v) { id version status arrivedOn }
}`;
const LEG = `query ($id: ID!) { case(id: $id) {
  status version arrivedOn allowedActions
  returnSupport {
    counselling { heldOn decidedToReturn }
    travelDocument { appliedOn obtainedOn reimbursedOn cost { amount } }
    ticket { departureDate route finalDestination landTravelAllowance { amount } }
    departure { on place } transit { on place } arrival { on place metOnArrival }
    guidance { on group note } guidanceCount
  }
  arrivalHandover { arrivedOn place metOnArrival finalDestination landTravelAllowance { amount } }
} }`;

type Step = { recordReturnStep: { version: number; status: string; arrivedOn: string | null } };
type Leg = {
  case: {
    status: string;
    version: number;
    arrivedOn: string | null;
    allowedActions: string[];
    returnSupport: {
      counselling: unknown[];
      travelDocument: { appliedOn: string; obtainedOn: string; reimbursedOn: string; cost: { amount: number } } | null;
      ticket: { route: string[]; finalDestination: string } | null;
      departure: { on: string; place: string } | null;
      transit: unknown[];
      arrival: unknown;
      guidance: { group: string; note: string }[] | null;
      guidanceCount: number;
    } | null;
    arrivalHandover: {
      arrivedOn: string;
      place: string;
      metOnArrival: boolean;
      finalDestination: string;
      landTravelAllowance: { amount: number };
    } | null;
  };
};

describe('the return leg before departure', () => {
  it('a REAN case from counselling to the arrival hand-over, the partner told what it needs and no more', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const iom = gw.as('IOM-NL', 'return-counsellor');
    const created = await nl.state.ok<{ createCase: { id: string; version: number; status: string } }>(
      `mutation ($input: CreateCaseInput!) { createCase(input: $input) { id version status } }`,
      {
        input: {
          programme: 'NL-REAN',
          originCountry: 'AF',
          returnType: 'VOLUNTARY',
          partner: 'P-AF-HOPE',
          implementingOrganisation: 'IOM-NL',
          plannedDepartureDate: '2026-11-25',
          residenceApplication: 'ASYLUM_REJECTED',
          person: { familyName: 'Ahmadzai', givenNames: 'Jawad', dateOfBirth: '1990-02-03', nationality: 'AF' },
          household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
          vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: false, medicalNeeds: true, notes: 'diabetes' },
          consent: { purposes: ['RETURN_ASSISTANCE', 'REINTEGRATION_SUPPORT'], givenOn: '2026-01-10', expiresOn: '2036-01-10' },
        },
      },
    );
    const { id } = created.createCase;
    let { version } = created.createCase;
    const step = async (s: Record<string, unknown>, client = iom) => {
      const r = (await client.ok<Step>(STEP, { id, step: s, v: version })).recordReturnStep;
      version = r.version;
      return r;
    };
    const attempt = (s: Record<string, unknown>, client = iom) => client.gql(STEP, { id, step: s, v: version });

    expect((await iom.ok<Leg>(LEG, { id })).case.allowedActions).toContain('RECORD_RETURN_STEP');
    await step({ kind: 'COUNSELLING', on: '2026-10-01' });
    await step({ kind: 'COUNSELLING', on: '2026-10-08', decidedToReturn: true });
    await step({ kind: 'TRAVEL_DOCUMENT', on: '2026-10-09', stage: 'APPLIED' });
    await step({ kind: 'TRAVEL_DOCUMENT', on: '2026-10-30', stage: 'OBTAINED' });
    expect(codes(await attempt({ kind: 'TRAVEL_DOCUMENT', on: '2026-10-31', stage: 'COST_REIMBURSED' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    await step({
      kind: 'TRAVEL_DOCUMENT',
      on: '2026-10-31',
      stage: 'COST_REIMBURSED',
      amount: { amount: 6500, currency: 'EUR' },
    });
    expect(
      codes(await attempt({ kind: 'TICKET', on: '2026-11-02', departureDate: '2026-11-25', finalDestination: 'Herat' })),
    ).toEqual(['BAD_USER_INPUT']);
    await step({
      kind: 'TICKET',
      on: '2026-11-02',
      departureDate: '2026-11-25',
      route: ['AMS', 'IST', 'KBL'],
      finalDestination: 'Herat',
      landTravelAllowance: { amount: 9000, currency: 'EUR' },
    });
    await step({
      kind: 'INDIVIDUAL_GUIDANCE',
      on: '2026-11-03',
      group: 'HEALTH_PROBLEMS',
      note: 'insulin for the journey arranged',
    });

    // Not before the partner accepted; a partner records no step; a transit needs a departure first.
    expect(codes(await attempt({ kind: 'DEPARTURE', on: '2026-11-25', place: 'AMS' }))).toEqual(['INVALID_TRANSITION']);
    version = (await nl.refer({ id, version } as never)).version;
    version = (await nl.accept({ id, version } as never)).version;
    expect(codes(await attempt({ kind: 'DEPARTURE', on: '2026-11-25', place: 'AMS' }, nl.officer))).toEqual(['FORBIDDEN']);
    expect(codes(await attempt({ kind: 'TRANSIT', on: '2026-11-25', place: 'IST' }))).toEqual(['INVALID_TRANSITION']);
    expect(codes(await attempt({ kind: 'DEPARTURE', on: '2099-01-01', place: 'AMS' }))).toEqual(['BAD_USER_INPUT']);

    expect((await step({ kind: 'DEPARTURE', on: '2026-11-25', place: 'AMS' })).status).toBe('DEPARTED');
    await step({ kind: 'TRANSIT', on: '2026-11-25', place: 'IST' });
    expect(codes(await attempt({ kind: 'ARRIVAL', on: '2026-11-24', place: 'KBL', metOnArrival: true }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const arrived = await step({ kind: 'ARRIVAL', on: '2026-11-26', place: 'Kabul airport (KBL)', metOnArrival: true });
    expect(arrived).toMatchObject({ status: 'ARRIVED', arrivedOn: '2026-11-26' });

    // The member state and IOM see the whole leg, guidance included (special category, audited).
    const state = (await nl.state.ok<Leg>(LEG, { id })).case;
    expect(state.returnSupport).toMatchObject({
      counselling: [{}, {}],
      travelDocument: { appliedOn: '2026-10-09', obtainedOn: '2026-10-30', reimbursedOn: '2026-10-31', cost: { amount: 6500 } },
      ticket: { route: ['AMS', 'IST', 'KBL'], finalDestination: 'Herat' },
      departure: { on: '2026-11-25', place: 'AMS' },
      transit: [{ on: '2026-11-25', place: 'IST' }],
      guidance: [{ group: 'HEALTH_PROBLEMS', note: 'insulin for the journey arranged' }],
      guidanceCount: 1,
    });
    // The partner: the hand-over, not the return leg.
    const partner = (await nl.officer.ok<Leg>(LEG, { id })).case;
    expect(partner.status).toBe('ARRIVED');
    expect(partner.returnSupport).toBeNull();
    expect(partner.arrivalHandover).toEqual({
      arrivedOn: '2026-11-26',
      place: 'Kabul airport (KBL)',
      metOnArrival: true,
      finalDestination: 'Herat',
      landTravelAllowance: { amount: 9000 },
    });
    expect(partner.allowedActions).toContain('SAVE_DRAFT_PLAN');
    expect(partner.allowedActions).not.toContain('RECORD_RETURN_STEP');

    // The guidance note is sealed at rest, in the case and in the event log.
    const db = await gw.raw();
    const raw = JSON.stringify(await db.collection('cases').findOne({ _id: id as never }));
    expect(raw).not.toContain('insulin');
    const events = JSON.stringify(await db.collection('events').find({ caseId: id }).toArray());
    expect(events).not.toContain('insulin');
  }, 60_000);
});
