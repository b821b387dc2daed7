// The five-year rule when a departure is recorded, not only at registration: two open cases of
// one person cannot both depart, a return recorded after a registration is held against its
// departure, and two departures of one person at once (through two gateways on one store)
// cannot both go through. The person is recognised by the member state's person key only.
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

const CREATE = `mutation ($input: CreateCaseInput!) { createCase(input: $input) { id version status } }`;
const REFER = `mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id version } }`;
const ACCEPT = `mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v) { id version } }`;
const STEP = `mutation ($id: ID!, $step: ReturnStepInput!, $v: Int!) {
  recordReturnStep(caseId: $id, step: $step, expectedVersion: $v) { id version status }
}`;
const ARRIVE = `mutation ($id: ID!, $d: Date!, $v: Int!) { confirmArrival(id: $id, arrivedOn: $d, expectedVersion: $v) { id version status } }`;

type Version = { id: string; version: number };
type Stepped = { recordReturnStep: Version & { status: string } };

const consent = { purposes: ['RETURN_ASSISTANCE', 'REINTEGRATION_SUPPORT'], givenOn: '2016-01-10', expiresOn: '2036-01-10' };
const person = (familyName: string, dateOfBirth = '1987-03-03') => ({
  familyName,
  givenNames: 'Omid',
  dateOfBirth,
  nationality: 'AF',
});
const rean = (identity: ReturnType<typeof person>, extra: Record<string, unknown> = {}) => ({
  programme: 'NL-REAN',
  originCountry: 'AF',
  returnType: 'VOLUNTARY',
  partner: 'P-AF-HOPE',
  plannedDepartureDate: '2026-11-20',
  household: [{ yearOfBirth: 1987, gender: 'MALE', relation: 'PRINCIPAL' }],
  residenceApplication: 'ASYLUM_REJECTED',
  person: identity,
  consent,
  ...extra,
});
const reasons = (r: { errors?: { extensions: Record<string, unknown> }[] }) =>
  (r.errors?.[0]?.extensions.reasons as { code: string }[] | undefined)?.map((x) => x.code);

/** A REAN case of this person registered, referred, accepted and ticketed: ready to depart. */
async function readyToDepart(on: TestGateway, identity: ReturnType<typeof person>): Promise<Version> {
  const flow = workflow(on);
  const created = (await flow.state.ok<{ createCase: Version }>(CREATE, { input: rean(identity) })).createCase;
  const referred = (await flow.state.ok<{ referCase: Version }>(REFER, { id: created.id, v: created.version })).referCase;
  const accepted = (await flow.officer.ok<{ respondToReferral: Version }>(ACCEPT, { id: referred.id, v: referred.version }))
    .respondToReferral;
  const ticket = {
    kind: 'TICKET',
    on: '2016-01-11',
    departureDate: '2026-11-20',
    route: ['AMS', 'KBL'],
    finalDestination: 'Herat',
  };
  return (await flow.state.ok<Stepped>(STEP, { id: accepted.id, v: accepted.version, step: ticket })).recordReturnStep;
}

const depart = (on: TestGateway, c: Version, day: string) =>
  workflow(on).state.gql<Stepped>(STEP, { id: c.id, v: c.version, step: { kind: 'DEPARTURE', on: day, place: 'AMS' } });

describe('the five-year rule when a departure is recorded', () => {
  it('two open cases of one person: the first departs, the second is refused, naming the rule and nothing of the first', async () => {
    const identity = person('Jalali');
    const first = await readyToDepart(gw, identity);
    const second = await readyToDepart(gw, identity);
    const gone = await depart(gw, first, '2026-11-20');
    expect(gone.errors).toBeUndefined();
    expect(gone.data?.recordReturnStep.status).toBe('DEPARTED');

    const again = await depart(gw, second, '2026-11-21');
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(reasons(again)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
    const message = again.errors?.[0]?.message ?? '';
    expect(message).toContain('within 5 years');
    // Neither the other case nor its day is told.
    expect(message).not.toContain(first.id);
    expect(message).not.toContain('2026-11-20');
    // Nor does an arrival without a departure step (or a confirmed arrival) get round it.
    const arrival = { kind: 'ARRIVAL', on: '2026-11-21', place: 'KBL', metOnArrival: true };
    const arrived = await workflow(gw).state.gql(STEP, { id: second.id, v: second.version, step: arrival });
    expect(reasons(arrived)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
    const confirmed = await workflow(gw).officer.gql(ARRIVE, { id: second.id, d: '2026-11-21', v: second.version });
    expect(reasons(confirmed)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
    // The refused case is where it was: nothing recorded.
    const read = await workflow(gw).state.ok<{ case: { status: string; version: number } }>(
      `query ($id: ID!) { case(id: $id) { status version } }`,
      { id: second.id },
    );
    expect(read.case).toEqual({ status: 'ACCEPTED', version: second.version });
  });

  it('a case registered earlier cannot depart once a return of the person within the years was recorded since', async () => {
    const identity = person('Mansoori');
    const earlier = await readyToDepart(gw, identity);
    // Registered after that one, for a return three years ago (an arrival within the years).
    const nl = workflow(gw).state;
    const late = await nl.gql(CREATE, {
      input: rean(identity, { plannedDepartureDate: '2023-05-01', arrivedOn: '2023-05-02' }),
    });
    expect(late.errors).toBeUndefined();
    const refused = await depart(gw, earlier, '2026-11-20');
    expect(reasons(refused)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
  });

  it('a departure recorded late, before another one of the person within the years, is refused too', async () => {
    const identity = person('Barakzai');
    const first = await readyToDepart(gw, identity);
    const second = await readyToDepart(gw, identity);
    expect((await depart(gw, first, '2026-11-20')).errors).toBeUndefined();
    // Recorded now, for a day four years before the departure already recorded.
    const earlier = await depart(gw, second, '2022-11-21');
    expect(reasons(earlier)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
  });

  it('a person whose other assisted departure is outside the years departs again', async () => {
    const identity = person('Nazari');
    const first = await readyToDepart(gw, identity);
    const second = await readyToDepart(gw, identity);
    expect((await depart(gw, first, '2020-06-01')).errors).toBeUndefined();
    const later = await depart(gw, second, '2026-11-20');
    expect(later.errors).toBeUndefined();
    expect(later.data?.recordReturnStep.status).toBe('DEPARTED');
    // Another person (another date of birth) is never taken for them.
    const other = await readyToDepart(gw, person('Nazari', '1988-03-03'));
    expect((await depart(gw, other, '2026-11-21')).errors).toBeUndefined();
  });

  it('two departures of one person at once, through two gateways on one store: exactly one goes through', async () => {
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      for (const [round, name] of ['Sadat', 'Hotak', 'Ghilzai'].entries()) {
        const identity = person(name);
        const [a, b] = await Promise.all([readyToDepart(gw, identity), readyToDepart(other, identity)]);
        const results = await Promise.all([depart(gw, a, '2026-11-20'), depart(other, b, '2026-11-20')]);
        const through = results.filter((r) => r.errors === undefined);
        expect(through, `round ${round}`).toHaveLength(1);
        expect(reasons(results.find((r) => r.errors)!), `round ${round}`).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
      }
    } finally {
      await other.close();
    }
  });

  it('a departure that lost the race to another write of its case does not hold the person: their other case departs', async () => {
    let lost = 0;
    for (let round = 0; round < 6 && lost < 2; round += 1) {
      const identity = person(`Popalzai${'X'.repeat(round)}`);
      const first = await readyToDepart(gw, identity);
      const second = await readyToDepart(gw, identity);
      // The departure claims the person, then loses its version to a counselling session.
      const counselling = { kind: 'COUNSELLING', on: '2026-11-01', decidedToReturn: true };
      const [departed, counselled] = await Promise.all([
        depart(gw, first, '2026-11-20'),
        workflow(gw).state.gql(STEP, { id: first.id, v: first.version, step: counselling }),
      ]);
      if (departed.errors === undefined || counselled.errors !== undefined) continue; // the departure won: try again
      expect(codes(departed)).toEqual(['CONFLICT']);
      lost += 1;
      const other = await depart(gw, second, '2026-11-21');
      expect(other.errors, `round ${round}`).toBeUndefined();
    }
    expect(lost).toBeGreaterThan(0);
  });

  it('two registrations after the return of one person at once: exactly one goes through', async () => {
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      const identity = person('Stanekzai');
      const input = rean(identity, { plannedDepartureDate: '2025-05-01', arrivedOn: '2025-05-02' });
      const results = await Promise.all([
        workflow(gw).state.gql(CREATE, { input }),
        workflow(other).state.gql(CREATE, { input }),
      ]);
      expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
      expect(reasons(results.find((r) => r.errors)!)).toEqual(['ASSISTED_DEPARTURE_WITHIN_YEARS']);
    } finally {
      await other.close();
    }
  });

  it('keeps only ids, days and versions: no identity attribute in the lists of departures', async () => {
    const docs = await (await gw.raw()).collection('departure_lists').find({}).toArray();
    expect(docs.length).toBeGreaterThan(0);
    const text = JSON.stringify(docs);
    for (const value of ['Jalali', 'Nazari', 'Omid', '1987-03-03']) expect(text).not.toContain(value);
  });
});
