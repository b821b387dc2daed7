// A national programme (the Dutch AVRR, REAN and HRT) spends one member state's budget: only that
// state registers cases under it. The EU programmes are open to every member state. Through the
// real GraphQL API, as another member state would try it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED_PRINCIPAL } from '../src/seed/demo.ts';
import { clockAt, codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, type CaseView } from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
});
afterAll(async () => {
  await gw?.close();
});

const person = (familyName: string) => ({ familyName, givenNames: 'Test Person', dateOfBirth: '1988-05-01', nationality: 'AF' });

/** An input each national programme's own rules accept (REAN and HRT check the person and the period). */
const inputFor = (programme: string, familyName: string) => ({
  ...caseInput({ programme }),
  ...(programme === 'NL-REAN'
    ? { residenceApplication: 'ASYLUM_REJECTED', person: person(familyName) }
    : programme === 'NL-HRT'
      ? {
          plannedDepartureDate: '2017-03-10',
          plannedArrivalDate: '2017-03-11',
          arrivedOn: '2017-03-11',
          residenceApplication: 'ASYLUM_REJECTED',
          person: person(familyName),
        }
      : {}),
});

type Problems = { path: string; message: string }[];
const problemsOf = (r: GqlResponse) => r.errors?.[0]?.extensions.problems as Problems | undefined;
type Created = { createCase: CaseView };
const MY_CASES = '{ cases(first: 100) { edges { node { id } } } }';
type MyCases = { cases: { edges: { node: { id: string } }[] } };

describe('who may use a programme', () => {
  it('Programme.memberStates names the national programmes’ state and is empty for the EU programmes', async () => {
    for (const [org, role] of [
      ['SE', 'caseworker'],
      ['P-AF-HOPE', 'partner-officer'],
    ] as const) {
      const { programmes } = await gw
        .as(org, role)
        .ok<{ programmes: { code: string; memberStates: string[] }[] }>('{ programmes { code memberStates } }');
      expect(Object.fromEntries(programmes.map((p) => [p.code, p.memberStates]))).toEqual({
        'NL-AVRR': ['NL'],
        'NL-REAN': ['NL'],
        'NL-HRT': ['NL'],
        'EURP-VOL': [],
        'EURP-NONVOL': [],
      });
    }
  });

  it.each(['NL-AVRR', 'NL-REAN', 'NL-HRT'])(
    'Sweden cannot register a case under %s (BAD_USER_INPUT on programme), and nothing is written',
    async (programme) => {
      for (const role of ['caseworker', 'coordinator'] as const) {
        const se = gw.as('SE', role);
        const before = await gw.services.log.lastSeq();
        const r = await se.gql(CREATE_CASE, { input: inputFor(programme, `se-${role}`), key: `se-${programme}-${role}` });
        expect(codes(r)).toEqual(['BAD_USER_INPUT']);
        expect(r.errors?.[0]?.message).toContain(programme);
        expect(r.errors?.[0]?.message).toContain('SE');
        expect(problemsOf(r)).toEqual([{ path: 'programme', message: 'not open to SE' }]);
        expect(r.data?.createCase ?? null).toBeNull();
        expect(await gw.services.log.lastSeq()).toBe(before);
        expect((await se.ok<MyCases>(MY_CASES)).cases.edges).toEqual([]);
      }
    },
  );

  it.each(['NL-AVRR', 'NL-REAN', 'NL-HRT'])('the Netherlands registers a case under its own %s', async (programme) => {
    const nl = gw.as('NL', 'caseworker');
    const { createCase } = await nl.ok<Created>(CREATE_CASE, { input: inputFor(programme, `nl-${programme}`) });
    expect(createCase.memberState.code).toBe('NL');
    const { case: c } = await nl.ok<{ case: { programme: { code: string } } }>(
      'query ($id: ID!) { case(id: $id) { programme { code } } }',
      { id: createCase.id },
    );
    expect(c.programme.code).toBe(programme);
  });

  it('Sweden registers cases under the EU programmes, open to every member state', async () => {
    const se = gw.as('SE', 'caseworker');
    const vol = await se.ok<Created>(CREATE_CASE, { input: inputFor('EURP-VOL', 'se-vol') });
    expect(vol.createCase.memberState.code).toBe('SE');
    const nonVol = await se.ok<Created>(CREATE_CASE, {
      input: { ...caseInput({ programme: 'EURP-NONVOL', returnType: 'NON_VOLUNTARY' }) },
    });
    expect(nonVol.createCase.status).toBe('DRAFT');
  });

  it('a case of another state registered under a national programme before the rule stays readable and workable', async () => {
    // The programme as it was stored before it named its state (open to all), then as configured now.
    const stored = (await gw.services.organisations.programme('NL-AVRR'))!;
    const { _id, version: _v, createdAt: _c, updatedAt: _u, ...rules } = stored;
    expect(rules.memberStates).toEqual(['NL']);
    await gw.services.organisations.putProgramme(SEED_PRINCIPAL, { ...rules, memberStates: [] }, 'test-avrr-open');
    const se = gw.as('SE', 'caseworker');
    const earlier = (await se.ok<Created>(CREATE_CASE, { input: inputFor('NL-AVRR', 'se-earlier') })).createCase;
    await gw.services.organisations.putProgramme(SEED_PRINCIPAL, rules, 'test-avrr-nl-again');

    // New registrations are refused again ...
    const refused = await se.gql(CREATE_CASE, { input: inputFor('NL-AVRR', 'se-later') });
    expect(problemsOf(refused)).toEqual([{ path: 'programme', message: 'not open to SE' }]);

    // ... while the earlier case reads as before, under its programme, and takes its changes.
    const READ =
      'query ($id: ID!) { case(id: $id) { version programme { code memberStates } entitlement { total { amount } } } }';
    type Read = {
      case: { version: number; programme: { code: string; memberStates: string[] }; entitlement: { total: { amount: number } } };
    };
    const read = (await se.ok<Read>(READ, { id: earlier.id })).case;
    expect(read.programme).toEqual({ code: 'NL-AVRR', memberStates: ['NL'] });
    expect(read.entitlement.total.amount).toBe(180000);
    const { updateCase } = await se.ok<{ updateCase: { version: number } }>(
      `mutation ($id: ID!, $v: Int!, $input: UpdateCaseInput!) { updateCase(id: $id, expectedVersion: $v, input: $input) { version } }`,
      {
        id: earlier.id,
        v: read.version,
        input: {
          household: [
            { yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' },
            { yearOfBirth: 1992, gender: 'FEMALE', relation: 'SPOUSE' },
          ],
        },
      },
    );
    expect(updateCase.version).toBe(read.version + 1);
    expect((await se.ok<Read>(READ, { id: earlier.id })).case.entitlement.total.amount).toBe(2 * 180000);
    // Still the Swedish case only: the Netherlands, whose programme it is, does not see it.
    expect(codes(await gw.as('NL', 'caseworker').gql(READ, { id: earlier.id }))).toEqual(['NOT_FOUND']);
  });
});

describe('a programme stored before programmes named their member states', () => {
  it('reads as open to every member state, in the directory and in the change feed', async () => {
    // As an earlier version of the gateway wrote it: the rules without `memberStates`.
    const {
      _id,
      version: _v,
      createdAt: _c,
      updatedAt: _u,
      memberStates: _m,
      ...rules
    } = (await gw.services.organisations.programme('EURP-VOL'))!;
    await gw.services.organisations.putProgramme(SEED_PRINCIPAL, { ...rules, code: 'OLD-PROG' } as never, 'test-old-programme');
    const raw = await (await gw.raw()).collection('programmes').findOne({ _id: 'OLD-PROG' as never });
    expect(raw && 'memberStates' in raw).toBe(false);

    const se = gw.as('SE', 'caseworker');
    const { programmes } = await se.ok<{ programmes: { code: string; memberStates: string[] }[] }>(
      '{ programmes { code memberStates } }',
    );
    expect(programmes.find((p) => p.code === 'OLD-PROG')?.memberStates).toEqual([]);
    const FEED = '{ changes(first: 1000) { changes { kind aggregateId state { ... on Programme { code memberStates } } } } }';
    type Feed = {
      changes: { changes: { kind: string; aggregateId: string; state: { code: string; memberStates: string[] } }[] };
    };
    const { changes } = await se.ok<Feed>(FEED);
    expect(changes.changes.filter((c) => c.aggregateId === 'OLD-PROG').map((c) => c.state)).toEqual([
      { code: 'OLD-PROG', memberStates: [] },
    ]);
    const { createCase } = await se.ok<Created>(CREATE_CASE, { input: inputFor('OLD-PROG', 'se-old') });
    expect(createCase.memberState.code).toBe('SE');
  });
});
