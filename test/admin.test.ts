// Network administration through GraphQL: organisations and contracts, with versions,
// idempotency keys and the event log behind every write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../src/events/log.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const CREATE_ORG = `mutation ($input: CreateOrganisationInput!, $key: String) {
  createOrganisation(input: $input, idempotencyKey: $key) { code kind name countries active version }
}`;
const UPDATE_ORG = `mutation ($code: ID!, $input: UpdateOrganisationInput!, $v: Int!, $key: String) {
  updateOrganisation(code: $code, input: $input, expectedVersion: $v, idempotencyKey: $key) { code name countries active version }
}`;
const CREATE_CONTRACT = `mutation ($input: CreateContractInput!, $key: String) {
  createContract(input: $input, idempotencyKey: $key) { id memberState { code } partner { code } originCountries programmes { code } validFrom validTo version activeOn }
}`;
const END_CONTRACT = `mutation ($id: ID!, $end: Date!, $reason: String!, $v: Int!) {
  endContract(id: $id, endDate: $end, reason: $reason, expectedVersion: $v) { id validTo endedAt endReason version }
}`;

describe('organisations', () => {
  it('a network administrator adds a partner, which then appears in the directory', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { createOrganisation } = await admin.ok<{ createOrganisation: Record<string, unknown> }>(CREATE_ORG, {
      input: { code: 'P-SO-DAWN', kind: 'PARTNER', name: 'Dawn Reintegration', countries: ['SO'] },
    });
    expect(createOrganisation).toEqual({
      code: 'P-SO-DAWN',
      kind: 'PARTNER',
      name: 'Dawn Reintegration',
      countries: ['SO'],
      active: true,
      version: 1,
    });
    const seen = await gw
      .as('NL', 'caseworker')
      .ok<{ organisation: { name: string } }>('{ organisation(code: "P-SO-DAWN") { name } }');
    expect(seen.organisation.name).toBe('Dawn Reintegration');
  });

  it('refuses a duplicate code, a bad country and a member state whose code is not ISO alpha-2', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const dup = await admin.gql(CREATE_ORG, { input: { code: 'NL', kind: 'MEMBER_STATE', name: 'Again', countries: ['NL'] } });
    expect(codes(dup)).toEqual(['BAD_USER_INPUT']);
    const badCountry = await admin.gql(CREATE_ORG, {
      input: { code: 'P-X1', kind: 'PARTNER', name: 'X', countries: ['Somalia'] },
    });
    expect(codes(badCountry)).toEqual(['BAD_USER_INPUT']);
    expect(badCountry.errors?.[0]?.extensions.problems).toEqual([expect.objectContaining({ path: 'countries.0' })]);
    const badState = await admin.gql(CREATE_ORG, { input: { code: 'NLD', kind: 'MEMBER_STATE', name: 'X', countries: ['NL'] } });
    expect(codes(badState)).toEqual(['BAD_USER_INPUT']);
    // The codes the gateway writes as actors of its own (system writes, withheld actors) are no organisation's.
    for (const code of ['SYSTEM', 'WITHHELD']) {
      const reserved = await admin.gql(CREATE_ORG, { input: { code, kind: 'PARTNER', name: 'X', countries: ['SO'] } });
      expect(codes(reserved), code).toEqual(['BAD_USER_INPUT']);
      expect(reserved.errors?.[0]?.extensions.problems).toEqual([
        expect.objectContaining({ path: 'code', message: 'reserved by the gateway' }),
      ]);
    }
  });

  it('only network administrators manage organisations', async () => {
    for (const [org, role] of [
      ['NL', 'coordinator'],
      ['P-AF-HOPE', 'partner-officer'],
      ['EMN-REG', 'reg-analyst'],
    ] as const) {
      const r = await gw
        .as(org, role)
        .gql(CREATE_ORG, { input: { code: `P-EVIL-${org}`, kind: 'PARTNER', name: 'Evil', countries: ['AF'] } });
      expect(codes(r)).toEqual(['FORBIDDEN']);
    }
    const upd = await gw.as('NL', 'coordinator').gql(UPDATE_ORG, { code: 'P-AF-HOPE', input: { active: false }, v: 1 });
    expect(codes(upd)).toEqual(['FORBIDDEN']);
  });

  it('an update with a stale version is a CONFLICT that names the current version', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const first = await admin.ok<{ updateOrganisation: { version: number; name: string } }>(UPDATE_ORG, {
      code: 'P-ET-HORN',
      input: { name: 'Horn of Africa Reintegration Services' },
      v: 1,
    });
    expect(first.updateOrganisation).toMatchObject({ version: 2, name: 'Horn of Africa Reintegration Services' });
    const stale = await admin.gql(UPDATE_ORG, { code: 'P-ET-HORN', input: { name: 'Lost update' }, v: 1 });
    expect(codes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors?.[0]?.extensions.currentVersion).toBe(2);
  });

  it('of 20 concurrent updates with the same expected version exactly one wins, and the log has no gap', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => admin.gql(UPDATE_ORG, { code: 'P-PK-INDUS', input: { name: `Indus ${i}` }, v: 1 })),
    );
    const winners = results.filter((r) => !r.errors);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => codes(r)[0] === 'CONFLICT')).toHaveLength(19);
    const now = await admin.ok<{ organisation: { name: string; version: number } }>(
      '{ organisation(code: "P-PK-INDUS") { name version } }',
    );
    expect(now.organisation).toEqual({
      name: (winners[0]!.data as { updateOrganisation: { name: string } }).updateOrganisation.name,
      version: 2,
    });
    const history = await gw.services.log.history('P-PK-INDUS');
    expect(history.map((e) => e.version)).toEqual([1, 2]);
    const chain = await verifyChain(gw.services.log);
    expect(chain.broken).toBeUndefined();
    expect(chain.checked).toBe(await gw.services.log.lastSeq());
  });

  it('a retried request with the same idempotency key writes once and returns the first result', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const input = { code: 'P-SD-NILE', kind: 'PARTNER', name: 'Nile Partners', countries: ['SD'] };
    const before = await gw.services.log.lastSeq();
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => admin.gql(CREATE_ORG, { input, key: 'create-nile-0001' })),
    );
    for (const a of attempts) expect(a.errors).toBeUndefined();
    expect(new Set(attempts.map((a) => JSON.stringify(a.data))).size).toBe(1);
    expect(await gw.services.log.lastSeq()).toBe(before + 1);
    const later = await admin.gql(CREATE_ORG, { input, key: 'create-nile-0001' });
    expect(later.data).toEqual(attempts[0]!.data);
  });

  it('the same idempotency key with a different input is refused', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    await admin.ok(CREATE_ORG, {
      input: { code: 'P-ER-RED', kind: 'PARTNER', name: 'Red Sea', countries: ['ER'] },
      key: 'create-red-0001',
    });
    const reused = await admin.gql(CREATE_ORG, {
      input: { code: 'P-ER-RED2', kind: 'PARTNER', name: 'Other', countries: ['ER'] },
      key: 'create-red-0001',
    });
    expect(codes(reused)).toEqual(['BAD_USER_INPUT']);
    expect(reused.errors?.[0]?.message).toMatch(/idempotency key/);
  });
});

describe('contracts', () => {
  it('a network administrator contracts a partner, both parties see it, others do not', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { createContract } = await admin.ok<{ createContract: Record<string, unknown> }>(CREATE_CONTRACT, {
      input: {
        id: 'BE-IQ-2026',
        memberState: 'BE',
        partner: 'P-IQ-TIGRIS',
        originCountries: ['IQ'],
        programmes: ['EURP-VOL'],
        validFrom: '2026-01-01',
        validTo: '2027-12-31',
      },
    });
    expect(createContract).toEqual({
      id: 'BE-IQ-2026',
      memberState: { code: 'BE' },
      partner: { code: 'P-IQ-TIGRIS' },
      originCountries: ['IQ'],
      programmes: [{ code: 'EURP-VOL' }],
      validFrom: '2026-01-01',
      validTo: '2027-12-31',
      version: 1,
      activeOn: expect.any(Boolean),
    });
    const ids = async (org: string, role: 'caseworker' | 'partner-officer') =>
      (await gw.as(org, role).ok<{ contracts: { id: string }[] }>('{ contracts { id } }')).contracts.map((c) => c.id);
    expect(await ids('BE', 'caseworker')).toContain('BE-IQ-2026');
    expect(await ids('P-IQ-TIGRIS', 'partner-officer')).toContain('BE-IQ-2026');
    expect(await ids('NL', 'caseworker')).not.toContain('BE-IQ-2026');
    expect(await ids('P-AF-HOPE', 'partner-officer')).not.toContain('BE-IQ-2026');
  });

  it('refuses unknown parties and programmes, parties of the wrong kind, and reversed dates', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const bad = await admin.gql(CREATE_CONTRACT, {
      input: { memberState: 'P-AF-HOPE', partner: 'NL', originCountries: ['AF'], programmes: ['NOPE'], validFrom: '2026-01-01' },
    });
    expect(codes(bad)).toEqual(['BAD_USER_INPUT']);
    expect((bad.errors?.[0]?.extensions.problems as { path: string }[]).map((p) => p.path).sort()).toEqual([
      'memberState',
      'partner',
      'programmes',
    ]);
    // A national programme of another member state: no case of BE could be registered under it.
    const national = await admin.gql(CREATE_CONTRACT, {
      input: {
        memberState: 'BE',
        partner: 'P-AF-HOPE',
        originCountries: ['AF'],
        programmes: ['NL-AVRR'],
        validFrom: '2026-01-01',
      },
    });
    expect(codes(national)).toEqual(['BAD_USER_INPUT']);
    expect(national.errors?.[0]?.extensions.problems).toEqual([{ path: 'programmes', message: 'NL-AVRR is not open to BE' }]);
    const reversed = await admin.gql(CREATE_CONTRACT, {
      input: {
        memberState: 'NL',
        partner: 'P-AF-HOPE',
        originCountries: ['AF'],
        programmes: ['EURP-VOL'],
        validFrom: '2026-01-01',
        validTo: '2025-01-01',
      },
    });
    expect(codes(reversed)).toEqual(['BAD_USER_INPUT']);
  });

  it('ending a contract sets its last day; a stale version conflicts; others may not end it', async () => {
    const forbidden = await gw
      .as('NL', 'coordinator')
      .gql(END_CONTRACT, { id: 'NL-NG-2026', end: '2026-12-31', reason: 'x', v: 1 });
    expect(codes(forbidden)).toEqual(['FORBIDDEN']);
    const admin = gw.as('ERIN-NET', 'network-admin');
    const ended = await admin.ok<{ endContract: Record<string, unknown> }>(END_CONTRACT, {
      id: 'NL-NG-2026',
      end: '2026-12-31',
      reason: 'tender renewed',
      v: 1,
    });
    expect(ended.endContract).toMatchObject({ id: 'NL-NG-2026', validTo: '2026-12-31', endReason: 'tender renewed', version: 2 });
    const stale = await admin.gql(END_CONTRACT, { id: 'NL-NG-2026', end: '2026-06-30', reason: 'again', v: 1 });
    expect(codes(stale)).toEqual(['CONFLICT']);
    const missing = await admin.gql(END_CONTRACT, { id: 'NO-SUCH', end: '2026-06-30', reason: 'x', v: 1 });
    expect(codes(missing)).toEqual(['NOT_FOUND']);
  });
});
