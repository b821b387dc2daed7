// The demo data set: cases in every status, idempotent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../src/events/log.ts';
import { seedBulkCases } from '../src/seed/bulk.ts';
import type { CaseDoc } from '../src/modules/cases/case.model.ts';
import { readDemoNetwork, readProgrammes, seedDemo } from '../src/seed/demo.ts';
import { programmeOpenTo } from '../src/modules/organisations/organisation.model.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ seed: false });
});
afterAll(async () => {
  await gw?.close();
});

describe('demo network', () => {
  it('names in each contract only programmes open to its member state', () => {
    const programmes = new Map(readProgrammes().map((p) => [p.code, p]));
    const misfits = readDemoNetwork().contracts.flatMap((c) =>
      c.programmes
        .filter((code) => !programmes.has(code) || !programmeOpenTo(programmes.get(code)!, c.memberState))
        .map((code) => `${c.id}: ${code}`),
    );
    expect(misfits).toEqual([]);
    expect(programmes.get('NL-AVRR')?.memberStates).toEqual(['NL']);
    expect(programmes.get('EURP-VOL')?.memberStates).toEqual([]);
  });
});

describe('demo seed', () => {
  it('loads the network, the rates and cases in every workflow status; a second run adds nothing', async () => {
    const first = await seedDemo(gw.services);
    expect(first.created).toMatchObject({ organisations: 25, contracts: 18, programmes: 5 });
    expect(first.created.cases).toBeGreaterThanOrEqual(11);
    const seqAfterFirst = await gw.services.log.lastSeq();

    const second = await seedDemo(gw.services);
    expect(second.created).toEqual({});
    expect(await gw.services.log.lastSeq()).toBe(seqAfterFirst);
    expect((await verifyChain(gw.services.log)).broken).toBeUndefined();

    const statuses = new Set<string>();
    for (const [org, role] of [
      ['NL', 'caseworker'],
      ['BE', 'caseworker'],
      ['DE', 'caseworker'],
      ['FR', 'caseworker'],
      ['SE', 'caseworker'],
      ['NO', 'caseworker'],
      ['AT', 'caseworker'],
    ] as const) {
      const { cases } = await gw
        .as(org, role)
        .ok<{ cases: { edges: { node: { status: string } }[] } }>('{ cases(first: 100) { edges { node { status } } } }');
      for (const e of cases.edges) statuses.add(e.node.status);
    }
    for (const s of [
      'DRAFT',
      'REFERRED',
      'ACCEPTED',
      'DECLINED',
      'EXPIRED',
      'DEPARTED',
      'ARRIVED',
      'PLAN_SUBMITTED',
      'CHANGES_REQUESTED',
      'PLAN_APPROVED',
      'CLOSED',
    ]) {
      expect(statuses, s).toContain(s);
    }

    // The research body has one extract of this quarter, approved by both officers; it is built
    // by the first seed run after the quarter is over (no case can join it then).
    const { extractRequests } = await gw.as('R-EVAL', 'researcher').ok<{
      extractRequests: { status: string; periodTo: string; parts: { status: string }[]; file: unknown }[];
    }>('{ extractRequests { status periodTo parts { status } file { rows } } }');
    expect(extractRequests).toHaveLength(1);
    expect(extractRequests[0]).toMatchObject({
      status: 'APPROVED',
      parts: [{ status: 'APPROVED' }, { status: 'APPROVED' }],
      file: null,
    });
    expect(extractRequests[0]!.periodTo >= new Date().toISOString().slice(0, 7)).toBe(true);

    // Utrecht leads a case team with the police, the immigration service and an NGO; the police sees that one case.
    const team = `{ cases { edges { node { myTeamRoles team { lead { code } members { organisation { code } role } } } } } }`;
    type Teams = { cases: { edges: { node: { myTeamRoles: string[]; team: { lead: { code: string } } } }[] } };
    const { cases: led } = await gw.as('NL-GEM-UTRECHT', 'municipal-officer').ok<Teams>(team);
    expect(led.edges).toHaveLength(1);
    expect(led.edges[0]!.node.team.lead.code).toBe('NL-GEM-UTRECHT');
    expect(led.edges[0]!.node.myTeamRoles.sort()).toEqual(['LEAD', 'MUNICIPALITY']);
    const { cases: policed } = await gw
      .as('NL-POLITIE', 'agency-officer')
      .ok<Teams>('{ cases { edges { node { myTeamRoles } } } }');
    expect(policed.edges.map((e) => e.node.myTeamRoles)).toEqual([['POLICE']]);
  }, 120_000);
});

describe('bulk seed', () => {
  it('generates realistic cases with plans in batches, and a second run adds nothing', async () => {
    // Contracts that name another state's national programme, as a store may hold them from before
    // the administration refused them: the bulk cases keep to the programmes open to their member
    // state, as registration does.
    const contracts = (await gw.raw()).collection('contracts');
    const template = await contracts.findOne({ memberState: 'SE' });
    expect(template).not.toBeNull();
    for (const [id, partner, country, programmes] of [
      ['SE-AF-NL-ONLY', 'P-AF-HOPE', 'AF', ['NL-AVRR', 'NL-REAN']],
      ['SE-IQ-MIXED', 'P-IQ-TIGRIS', 'IQ', ['NL-AVRR', 'EURP-VOL']],
    ] as const) {
      await contracts.insertOne({
        ...template!,
        _id: id as never,
        partner,
        originCountries: [country],
        programmes: [...programmes],
        validFrom: '2024-01-01',
      });
    }
    const done: number[] = [];
    const first = await seedBulkCases(gw.services, 230, { batchSize: 50, onProgress: (n) => done.push(n) });
    expect(first).toEqual({ created: 230, existing: 0 });
    expect(done).toEqual([50, 100, 150, 200, 230]);
    const seq = await gw.services.log.lastSeq();
    expect(await seedBulkCases(gw.services, 230, { batchSize: 100 })).toEqual({ created: 0, existing: 230 });
    expect(await gw.services.log.lastSeq()).toBe(seq);
    expect((await verifyChain(gw.services.log)).broken).toBeUndefined();

    const db = await gw.raw();
    const cases = await db
      .collection('cases')
      .find({ _id: { $regex: '^bulk-' } as never })
      .toArray();
    expect(cases).toHaveLength(230);
    expect(new Set(cases.map((c) => c.reference)).size).toBe(230);
    const statuses = new Set(cases.map((c) => c.status as string));
    expect(statuses.size).toBeGreaterThanOrEqual(8);
    expect(new Set(cases.map((c) => c.memberState as string)).size).toBe(7);
    expect(new Set(cases.map((c) => (c.household as unknown[]).length)).size).toBeGreaterThanOrEqual(4);
    const national = new Map(readProgrammes().map((p) => [p.code, p.memberStates]));
    const foreign = cases.filter((c) => {
      const states = national.get(c.programme as string) ?? [];
      return states.length > 0 && !states.includes(c.memberState as string);
    });
    expect(foreign.map((c) => `${c.memberState as string} ${c.programme as string}`)).toEqual([]);
    const mixed = cases.filter((c) => c.memberState === 'SE' && c.originCountry === 'IQ' && c.partner === 'P-IQ-TIGRIS');
    expect(mixed.length).toBeGreaterThan(0);
    expect(new Set(mixed.map((c) => c.programme))).toEqual(new Set(['EURP-VOL']));

    // Plans stay within the entitlement, in several currencies.
    const plans = await db
      .collection('plans')
      .find({ caseId: { $regex: '^bulk-' } })
      .toArray();
    expect(plans.length).toBeGreaterThan(100);
    // The entitlement's amounts are sealed (special category), as for any case: the gateway opens them.
    expect(cases.filter((c) => 'total' in (c.entitlement as object))).toEqual([]);
    const totals = await Promise.all(cases.map((c) => gw.services.sealing.openEntitlement(c as unknown as CaseDoc)));
    const entitlement = new Map(cases.map((c, i) => [c._id, totals[i]!.total]));
    for (const p of plans) expect(p.totalEur as number).toBeLessThanOrEqual(entitlement.get(p.caseId)!);
    expect(
      new Set(plans.flatMap((p) => (p.components as { cost: { currency: string } }[]).map((c) => c.cost.currency))).size,
    ).toBeGreaterThan(2);

    // They are ordinary cases to the API.
    const { cases: page } = await gw
      .as('NL', 'coordinator')
      .ok<{ cases: { edges: { node: { reference: string; plan: { totalEur: { amount: number } } | null } }[] } }>(
        '{ cases(first: 100, filter: { status: [PLAN_APPROVED] }) { edges { node { reference plan { totalEur { amount } } } } } }',
      );
    expect(page.edges.length).toBeGreaterThan(0);
  }, 120_000);
});
