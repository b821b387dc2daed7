import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

type Org = { code: string; kind: string; name: string; countries: string[] };
type Contract = {
  id: string;
  memberState: { code: string };
  partner: { code: string };
  originCountries: string[];
  validTo: string | null;
};

describe('organisations', () => {
  it('lists the seeded network: seven member states, partners in at least six origin countries, the REG and the network', async () => {
    const nl = gw.as('NL', 'caseworker');
    const { organisations } = await nl.ok<{ organisations: Org[] }>('{ organisations { code kind name countries } }');
    const byKind = (k: string) => organisations.filter((o) => o.kind === k);
    expect(
      byKind('MEMBER_STATE')
        .map((o) => o.code)
        .sort(),
    ).toEqual(['AT', 'BE', 'DE', 'FR', 'NL', 'NO', 'SE']);
    expect(new Set(byKind('PARTNER').flatMap((o) => o.countries)).size).toBeGreaterThanOrEqual(6);
    expect(byKind('EXPERTS_GROUP')).toHaveLength(1);
    expect(byKind('NETWORK')).toHaveLength(1);
  });

  it('filters organisations by kind', async () => {
    const { organisations } = await gw
      .as('NL', 'caseworker')
      .ok<{ organisations: Org[] }>('{ organisations(kind: PARTNER) { code kind } }');
    expect(organisations.length).toBeGreaterThanOrEqual(6);
    expect(organisations.every((o) => o.kind === 'PARTNER')).toBe(true);
  });

  it('finds one organisation by code and answers NOT_FOUND for an unknown code', async () => {
    const client = gw.as('P-AF-HOPE', 'partner-officer');
    const found = await client.ok<{ organisation: Org }>('{ organisation(code: "NL") { code kind name } }');
    expect(found.organisation).toEqual({ code: 'NL', kind: 'MEMBER_STATE', name: 'Netherlands' });
    const missing = await client.gql('{ organisation(code: "XX") { code } }');
    expect(codes(missing)).toEqual(['NOT_FOUND']);
    expect(missing.data?.organisation).toBeNull();
  });

  it('lists the programmes with their entitlement rules in minor units', async () => {
    const { programmes } = await gw.as('NL', 'caseworker').ok<{
      programmes: {
        code: string;
        perAdult: { amount: number; currency: string; formatted: string };
        cashCap: { amount: number };
      }[];
    }>('{ programmes { code perAdult { amount currency formatted } cashCap { amount } } }');
    const avrr = programmes.find((p) => p.code === 'NL-AVRR');
    expect(avrr?.perAdult).toEqual({ amount: 180000, currency: 'EUR', formatted: '1,800.00 EUR' });
    expect(avrr?.cashCap.amount).toBe(30000);
    expect(programmes.find((p) => p.code === 'EURP-VOL')?.perAdult.amount).toBe(200000);
  });
});

describe('contracts', () => {
  const query = `query ($memberState: ID, $partner: ID, $originCountry: String, $activeOn: Date) {
    contracts(memberState: $memberState, partner: $partner, originCountry: $originCountry, activeOn: $activeOn) {
      id memberState { code } partner { code } originCountries validTo
    }
  }`;

  it('a network administrator filters by member state, partner and origin country', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const all = (await admin.ok<{ contracts: Contract[] }>(query)).contracts;
    expect(all.length).toBeGreaterThan(10);

    const nl = (await admin.ok<{ contracts: Contract[] }>(query, { memberState: 'NL' })).contracts;
    expect(nl.length).toBeGreaterThan(0);
    expect(nl.every((c) => c.memberState.code === 'NL')).toBe(true);

    const hope = (await admin.ok<{ contracts: Contract[] }>(query, { partner: 'P-AF-HOPE' })).contracts;
    expect(hope.map((c) => c.memberState.code).sort()).toEqual(['AT', 'BE', 'NL', 'SE']);

    const iraq = (await admin.ok<{ contracts: Contract[] }>(query, { originCountry: 'IQ' })).contracts;
    expect(iraq.map((c) => c.id).sort()).toEqual(['DE-IQ-2026', 'NL-IQ-2026', 'NO-IQ-2026']);
  });

  it('activeOn leaves out contracts not yet started or already over', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const afghanistan = async (activeOn: string) =>
      (await admin.ok<{ contracts: Contract[] }>(query, { originCountry: 'AF', activeOn })).contracts.map((c) => c.id).sort();
    // AT-AF ended at the end of 2025; BE-AF starts in June 2024.
    expect(await afghanistan('2024-03-01')).toEqual(['AT-AF-2026', 'NL-AF-2026', 'SE-AF-2026']);
    expect(await afghanistan('2025-12-31')).toEqual(['AT-AF-2026', 'BE-AF-2026', 'NL-AF-2026', 'SE-AF-2026']);
    expect(await afghanistan('2026-01-01')).toEqual(['BE-AF-2026', 'NL-AF-2026', 'SE-AF-2026']);
  });

  it('rejects a malformed activeOn date with BAD_USER_INPUT', async () => {
    const r = await gw.as('ERIN-NET', 'network-admin').gql(query, { activeOn: '2026-02-30' });
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
  });

  it('a member state sees only its own contracts, a partner only its own', async () => {
    const se = (await gw.as('SE', 'caseworker').ok<{ contracts: Contract[] }>(query)).contracts;
    expect(se.map((c) => c.id).sort()).toEqual(['SE-AF-2026', 'SE-ET-2026']);
    // Asking for another state's contracts gives nothing, not an error that confirms them.
    const seAsksNl = (await gw.as('SE', 'caseworker').ok<{ contracts: Contract[] }>(query, { memberState: 'NL' })).contracts;
    expect(seAsksNl).toEqual([]);
    const horn = (await gw.as('P-ET-HORN', 'partner-officer').ok<{ contracts: Contract[] }>(query)).contracts;
    expect(horn.map((c) => c.id).sort()).toEqual(['NO-ET-2026', 'SE-ET-2026']);
  });

  it('shows an open-ended contract with a null validTo', async () => {
    const nl = (await gw.as('NL', 'coordinator').ok<{ contracts: Contract[] }>(query, { partner: 'P-MA-ATLAS' })).contracts;
    expect(nl).toEqual([expect.objectContaining({ id: 'NL-MA-2026', validTo: null })]);
  });
});
