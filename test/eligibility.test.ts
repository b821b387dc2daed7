// Eligibility at registration and the programmes' amounts: REAN's exclusions and its
// first-period contribution, HRT for rejected asylum seekers in its period, ages counted on the
// departure day by month of birth, and the five-year rule through the pseudonymous person key.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PRINCIPAL } from '../src/seed/demo.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const CREATE = `mutation ($input: CreateCaseInput!) { createCase(input: $input) {
  id version status
  household { relation age }
  eligibility { eligible firstPeriodContribution reasons { code refusal } }
  entitlement { total { amount } cashCap { amount } firstPeriodContribution { amount } referenceDay lines { category persons each { amount } } }
} }`;

type Created = {
  createCase: {
    id: string;
    version: number;
    household: { relation: string; age: number }[];
    eligibility: { eligible: boolean; firstPeriodContribution: boolean; reasons: { code: string; refusal: boolean }[] };
    entitlement: {
      total: { amount: number };
      cashCap: { amount: number };
      firstPeriodContribution: { amount: number };
      referenceDay: string;
      lines: { category: string; persons: number; each: { amount: number } }[];
    };
  };
};

const consent = { purposes: ['RETURN_ASSISTANCE', 'REINTEGRATION_SUPPORT'], givenOn: '2016-01-10', expiresOn: '2036-01-10' };
const person = (familyName: string, givenNames = 'Ahmad Shah', dateOfBirth = '1990-04-12', nationality = 'AF') => ({
  familyName,
  givenNames,
  dateOfBirth,
  nationality,
});
const rean = (extra: Record<string, unknown>) => ({
  programme: 'NL-REAN',
  originCountry: 'AF',
  returnType: 'VOLUNTARY',
  partner: 'P-AF-HOPE',
  plannedDepartureDate: '2026-12-20',
  household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
  residenceApplication: 'ASYLUM_REJECTED',
  consent,
  ...extra,
});
const reasons = (r: { errors?: { extensions: Record<string, unknown> }[] }) =>
  (r.errors?.[0]?.extensions.reasons as { code: string }[] | undefined)?.map((x) => x.code);

describe('HRT', () => {
  it('pays by age on the departure day: an adult, an unaccompanied minor, and a child who turns 18 a month after departure', async () => {
    const nl = gw.as('NL', 'caseworker');
    const { createCase } = await nl.ok<Created>(CREATE, {
      input: {
        programme: 'NL-HRT',
        originCountry: 'AF',
        returnType: 'VOLUNTARY',
        partner: 'P-AF-HOPE',
        plannedDepartureDate: '2017-03-10',
        arrivedOn: '2017-03-11',
        residenceApplication: 'ASYLUM_REJECTED',
        person: person('Rahimi', 'Zahra', '2000-03-02'),
        vulnerability: { unaccompaniedMinor: true, victimOfTrafficking: false, medicalNeeds: false },
        household: [
          { yearOfBirth: 2000, birthMonth: '2000-03', gender: 'FEMALE', relation: 'PRINCIPAL' },
          { yearOfBirth: 1995, birthMonth: '1995-08', gender: 'MALE', relation: 'SIBLING' },
          // Turns 18 in April 2017: counted by year alone they would be an adult already.
          { yearOfBirth: 1999, birthMonth: '1999-04', gender: 'MALE', relation: 'SIBLING' },
        ],
        consent,
      },
    });
    expect(createCase.eligibility).toEqual({ eligible: true, firstPeriodContribution: false, reasons: [] });
    expect(createCase.entitlement.referenceDay).toBe('2017-03-10');
    expect(createCase.household.map((m) => m.age)).toEqual([17, 21, 17]);
    const lines = Object.fromEntries(createCase.entitlement.lines.map((l) => [l.category, [l.persons, l.each.amount]]));
    expect(lines).toEqual({ ADULT: [1, 175000], MINOR: [1, 88000], UNACCOMPANIED_MINOR: [1, 175000] });
    expect(createCase.entitlement.total.amount).toBe(175000 + 175000 + 88000);
    // Its cash part, from the configuration.
    expect(createCase.entitlement.cashCap.amount).toBe(50000);
    // The month of birth is sealed at rest.
    const raw = JSON.stringify(await (await gw.raw()).collection('cases').findOne({ _id: createCase.id as never }));
    expect(raw).not.toContain('1999-04');
    expect(raw).not.toContain('Rahimi');
  });

  it('refuses someone whose asylum application was not rejected, and a departure after its period, with the reasons', async () => {
    const nl = gw.as('NL', 'caseworker');
    const hrt = (extra: Record<string, unknown>) => ({
      ...rean({ programme: 'NL-HRT', plannedDepartureDate: '2017-02-01', person: person('Popal', 'Nasir', '1984-01-01') }),
      ...extra,
    });
    const pending = await nl.gql(CREATE, { input: hrt({ residenceApplication: 'ASYLUM_PENDING' }) });
    expect(codes(pending)).toEqual(['BAD_USER_INPUT']);
    expect(reasons(pending)).toEqual(['ASYLUM_NOT_REJECTED']);
    const late = await nl.gql(CREATE, { input: hrt({ plannedDepartureDate: '2026-12-20' }) });
    expect(reasons(late)).toEqual(['OUTSIDE_PROGRAMME_PERIOD']);
    expect(late.errors?.[0]?.message).toContain('until 2017-06-30');
  });
});

describe('REAN', () => {
  it('refuses nationals of an excluded country with the reason', async () => {
    const r = await gw
      .as('NL', 'caseworker')
      .gql(CREATE, { input: rean({ person: person('Smith', 'John', '1980-02-02', 'US') }) });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(reasons(r)).toEqual(['NATIONALITY_EXCLUDED']);
  });

  it('needs the identity attributes for the five-year rule', async () => {
    const r = await gw.as('NL', 'caseworker').gql(CREATE, { input: rean({}) });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    expect(r.errors?.[0]?.extensions.problems).toEqual([{ path: 'person', message: 'required for this programme' }]);
  });

  it('gives no first-period contribution to someone who never applied for residence, the rest stays open', async () => {
    const nl = gw.as('NL', ['caseworker', 'coordinator']);
    const { createCase } = await nl.ok<Created>(CREATE, {
      input: rean({ residenceApplication: 'NEVER_APPLIED', person: person('Noori', 'Farid', '1992-05-05') }),
    });
    expect(createCase.eligibility).toEqual({
      eligible: true,
      firstPeriodContribution: false,
      reasons: [{ code: 'NO_FIRST_PERIOD_CONTRIBUTION', refusal: false }],
    });
    expect(createCase.entitlement.firstPeriodContribution.amount).toBe(0);
    const pay = await nl.gql(
      `mutation ($id: ID!, $v: Int!) { recordReturnStep(caseId: $id, expectedVersion: $v, step: { kind: FIRST_PERIOD_CONTRIBUTION, on: "2026-11-01", amount: { amount: 10000, currency: "EUR" } }) { id } }`,
      { id: createCase.id, v: createCase.version },
    );
    expect(codes(pay)).toEqual(['INVALID_TRANSITION']);
  });

  it('counts the first-period contribution against the entitlement', async () => {
    const nl = gw.as('NL', ['caseworker', 'coordinator']);
    const { createCase } = await nl.ok<Created>(CREATE, {
      input: rean({
        person: person('Sultani', 'Mariam', '1988-09-09'),
        arrivedOn: '2026-11-02',
        plannedDepartureDate: '2026-11-01',
        household: [
          { yearOfBirth: 1988, gender: 'FEMALE', relation: 'PRINCIPAL' },
          { yearOfBirth: 2015, gender: 'MALE', relation: 'CHILD' },
        ],
      }),
    });
    expect(createCase.entitlement.firstPeriodContribution.amount).toBe(20000 + 4000);
    const pay = (amount: number, v: number) =>
      nl.gql<{ recordReturnStep: { version: number } }>(
        `mutation ($id: ID!, $v: Int!, $a: Int!) { recordReturnStep(caseId: $id, expectedVersion: $v, step: { kind: FIRST_PERIOD_CONTRIBUTION, on: "2026-11-02", amount: { amount: $a, currency: "EUR" } }) { version } }`,
        { id: createCase.id, v, a: amount },
      );
    // Registered after the return: the case must be referred and accepted before anything is paid.
    const refer = await nl.ok<{ referCase: { version: number } }>(
      `mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { version } }`,
      { id: createCase.id, v: createCase.version },
    );
    const accepted = await gw
      .as('P-AF-HOPE', 'partner-officer')
      .ok<{ respondToReferral: { version: number } }>(
        `mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v) { version } }`,
        { id: createCase.id, v: refer.referCase.version },
      );
    const over = await pay(24001, accepted.respondToReferral.version);
    expect(codes(over)).toEqual(['BUDGET_EXCEEDED']);
    const paid = await pay(24000, accepted.respondToReferral.version);
    expect(paid.errors).toBeUndefined();
  });
});

describe('the five-year rule', () => {
  it('finds the same person registered again in the same member state, however the name is written', async () => {
    const nl = gw.as('NL', 'caseworker');
    // An earlier assisted return, three years before the new departure.
    await nl.ok<Created>(CREATE, {
      input: rean({ person: person('Karimi', 'Ahmad Shah'), plannedDepartureDate: '2023-06-01', arrivedOn: '2023-06-02' }),
    });
    const again = await nl.gql(CREATE, { input: rean({ person: person('KARIMÍ', '  shah ahmad ') }) });
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(reasons(again)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
    expect(again.errors?.[0]?.message).toContain('2023-06-02');
    // Another person (another date of birth) is not taken for them.
    const other = await nl.gql(CREATE, { input: rean({ person: person('Karimi', 'Ahmad Shah', '1991-04-12') }) });
    expect(other.errors).toBeUndefined();
  });

  it('lets a person whose assisted departure is more than five years old go again', async () => {
    const nl = gw.as('NL', 'caseworker');
    await nl.ok<Created>(CREATE, {
      input: rean({
        person: person('Wardak', 'Bilal', '1979-07-07'),
        plannedDepartureDate: '2020-01-10',
        arrivedOn: '2020-01-11',
      }),
    });
    const again = await nl.gql(CREATE, { input: rean({ person: person('Wardak', 'Bilal', '1979-07-07') }) });
    expect(again.errors).toBeUndefined();
  });

  it('does not find the person across member states: each state keys with its own key', async () => {
    const identity = person('Haidari', 'Yusuf', '1985-10-10');
    await gw.as('NL', 'caseworker').ok<Created>(CREATE, {
      input: rean({ person: identity, plannedDepartureDate: '2025-01-10', arrivedOn: '2025-01-11' }),
    });
    // Belgium's own return programme with the five-year rule (NL-REAN is the Netherlands' only).
    const { _id, version: _v, createdAt: _c, updatedAt: _u, ...rules } = (await gw.services.organisations.programme('NL-REAN'))!;
    await gw.services.organisations.putProgramme(
      SEED_PRINCIPAL,
      { ...rules, code: 'BE-REAB', name: 'REAB (Belgium)', memberStates: ['BE'] },
      'test-be-reab',
    );
    const inBelgium = await gw
      .as('BE', 'caseworker')
      .gql<Created>(CREATE, { input: rean({ programme: 'BE-REAB', person: identity }) });
    expect(inBelgium.errors).toBeUndefined();
    const keys = await (await gw.raw()).collection('person_keys').find({}).toArray();
    const nlKeys = new Set(keys.filter((k) => k.memberState === 'NL').map((k) => k.personKey));
    const beKeys = keys.filter((k) => k.memberState === 'BE').map((k) => k.personKey);
    expect(beKeys.length).toBeGreaterThan(0);
    expect(beKeys.some((k) => nlKeys.has(k))).toBe(false);
    // No identity attribute is kept anywhere, in the clear.
    const db = await gw.raw();
    for (const name of ['cases', 'events', 'person_keys', 'idempotency']) {
      const text = JSON.stringify(await db.collection(name).find({}).toArray());
      expect(text, name).not.toContain('Haidari');
      expect(text, name).not.toContain('1985-10-10');
    }
  });
});
