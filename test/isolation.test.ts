// The isolation suite. It enumerates every query and mutation field of the schema and
// requires a probe for each, so a field added later without one fails here. Each probe
// acts as organisations other than the owner of some data and proves they get nothing
// of it: not in answers, not through errors, not by changing it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { Role } from '../src/auth/principal.ts';
import { loadTypeDefs } from '../src/graphql/schema.ts';
import { codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';

type Outsider = { org: string; role: Role };
type Probe = {
  /** Who may not see the owner's data through this field. */
  outsiders: Outsider[];
  /** Sends the attempt as one outsider; returns the response to inspect. */
  attempt: (as: ReturnType<TestGateway['as']>) => Promise<GqlResponse>;
  /** Codes an outsider may get instead of data (absent: any answer must just hold no owner data). */
  refusals?: string[];
};

let gw: TestGateway;

// The owner: Sweden and its contracted partners. These strings appear only in their data.
const OWNER = { memberState: 'SE', partners: ['P-ET-HORN', 'P-AF-HOPE'] };
const OWNER_MARKERS = ['SE-AF-2026', 'SE-ET-2026'];

const NOT_SWEDEN: Outsider[] = [
  { org: 'NL', role: 'caseworker' },
  { org: 'NL', role: 'coordinator' },
  { org: 'P-IQ-TIGRIS', role: 'partner-officer' },
  { org: 'EMN-REG', role: 'reg-analyst' },
];
const NON_ADMINS: Outsider[] = [...NOT_SWEDEN, { org: 'SE', role: 'coordinator' }, { org: 'P-ET-HORN', role: 'partner-officer' }];

function expectNoOwnerData(response: GqlResponse): void {
  const text = JSON.stringify({ data: response.data, errors: response.errors });
  for (const marker of OWNER_MARKERS) expect(text, `leaked ${marker}`).not.toContain(marker);
}

const probes: Record<string, Probe> = {
  'Query.ping': { outsiders: NOT_SWEDEN, attempt: (c) => c.gql('{ ping }') },
  'Query.me': { outsiders: NOT_SWEDEN, attempt: (c) => c.gql('{ me { subject organisation { code contracts { id } } } }') },
  'Query.organisations': {
    outsiders: NOT_SWEDEN,
    attempt: (c) => c.gql('{ organisations { code contracts { id memberState { code } } } }'),
  },
  'Query.organisation': {
    outsiders: NOT_SWEDEN,
    attempt: (c) => c.gql('{ organisation(code: "SE") { code contracts { id partner { code contracts { id } } } } }'),
  },
  'Query.contracts': {
    outsiders: NOT_SWEDEN,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        '{ a: contracts(memberState: "SE") { id } b: contracts(partner: "P-ET-HORN") { id } c: contracts(originCountry: "ET") { id } }',
      ),
  },
  'Query.programmes': { outsiders: NOT_SWEDEN, attempt: (c) => c.gql('{ programmes { code } }') },
  'Mutation.ping': { outsiders: NOT_SWEDEN, attempt: (c) => c.gql('mutation { ping }') },
  'Mutation.createOrganisation': {
    outsiders: NON_ADMINS,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        'mutation { createOrganisation(input: { code: "P-ET-HORN2", kind: PARTNER, name: "x", countries: ["ET"] }) { code } }',
      ),
  },
  'Mutation.updateOrganisation': {
    outsiders: NON_ADMINS,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        'mutation { updateOrganisation(code: "SE", input: { active: false }, expectedVersion: 1) { code contracts { id } } }',
      ),
  },
  'Mutation.createContract': {
    outsiders: NON_ADMINS,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        'mutation { createContract(input: { memberState: "NL", partner: "P-ET-HORN", originCountries: ["ET"], programmes: ["EURP-VOL"], validFrom: "2026-01-01" }) { id partner { contracts { id } } } }',
      ),
  },
  'Mutation.endContract': {
    outsiders: NON_ADMINS,
    refusals: ['FORBIDDEN', 'NOT_FOUND'],
    attempt: (c) =>
      c.gql('mutation { endContract(id: "SE-ET-2026", endDate: "2026-12-31", reason: "x", expectedVersion: 1) { id } }'),
  },
};

beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

function rootFields(): string[] {
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
  const fields: string[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (type) for (const name of Object.keys(type.getFields())) fields.push(`${type.name}.${name}`);
  }
  return fields.sort();
}

describe('isolation between organisations', () => {
  it('every query, mutation and subscription field of the schema has a probe', () => {
    const missing = rootFields().filter((f) => !(f in probes) && !f.startsWith('Subscription.'));
    expect(missing, 'add an isolation probe for these fields').toEqual([]);
  });

  const cases = Object.entries(probes).flatMap(([field, probe]) => probe.outsiders.map((o) => [field, o, probe] as const));

  it.each(cases)('%s: %o gets nothing of the owner’s data', async (_field, outsider, probe) => {
    const response = await probe.attempt(gw.as(outsider.org, outsider.role));
    expectNoOwnerData(response);
    const errorCodes = codes(response);
    if (errorCodes.length > 0)
      expect(probe.refusals ?? [], `unexpected error ${errorCodes.join(', ')}`).toEqual(expect.arrayContaining(errorCodes));
  });

  it('after all attempts the owner’s data is unchanged', async () => {
    const { contracts } = await gw
      .as(OWNER.memberState, 'coordinator')
      .ok<{ contracts: { id: string; version: number; endedAt: string | null }[] }>('{ contracts { id version endedAt } }');
    expect(contracts).toEqual([
      { id: 'SE-AF-2026', version: 1, endedAt: null },
      { id: 'SE-ET-2026', version: 1, endedAt: null },
    ]);
    const se = await gw
      .as('SE', 'caseworker')
      .ok<{ organisation: { active: boolean; version: number } }>('{ organisation(code: "SE") { active version } }');
    expect(se.organisation).toEqual({ active: true, version: 1 });
  });
});
