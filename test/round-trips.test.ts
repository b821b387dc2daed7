// A page of results costs a fixed number of store round trips, whatever its size:
// DataLoaders batch what the resolvers fan out to (counted with the driver's command monitoring).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let batch = 0; batch < 5; batch += 1) {
    await Promise.all(
      Array.from({ length: 11 }, async (_, i) => {
        const arrived = await flow.arrived();
        const drafted = await flow.draft(arrived, { components: [trainingComponent(50000 + i), materialsComponent(10000)] });
        if (i % 2 === 0) await flow.approve(await flow.submit(drafted));
      }),
    );
  }
});
afterAll(async () => {
  await gw?.close();
});

export const DASHBOARD = `query Dashboard($first: Int!) {
  cases(first: $first, filter: { partner: "P-AF-HOPE" }) {
    edges { node {
      reference status version originCountry
      memberState { code name }
      partner { code name }
      programme { code name }
      entitlement { total { formatted } programme { code } }
      plan { planVersion status totalEur { amount } components { kind cost { amount currency } } }
      planInForce { planVersion }
      plans { planVersion status }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

async function commandsFor(client: ReturnType<TestGateway['as']>, first: number): Promise<string[]> {
  // Twice, keeping the leaner run: a token's organisation lookup is cached for a few
  // seconds, and its expiry may fall inside one of the runs.
  const runs = [];
  for (let i = 0; i < 2; i += 1) {
    const { names, result } = await gw.store.recorder.countDuring(() =>
      client.ok<{ cases: { edges: unknown[] } }>(DASHBOARD, { first }),
    );
    expect(result.cases.edges).toHaveLength(first);
    runs.push(names.sort());
  }
  return runs.sort((a, b) => a.length - b.length)[0]!;
}

describe('round trips per page', () => {
  it('a partner dashboard page of 50 costs the same store commands as a page of 5', async () => {
    const partner = gw.as('P-AF-HOPE', 'partner-officer');
    const five = await commandsFor(partner, 5);
    const fifty = await commandsFor(partner, 50);
    expect(fifty).toEqual(five);
    // cases + organisations + programmes + plans by id + plans by case: a small constant.
    expect(fifty.length).toBeLessThanOrEqual(6);
  });

  it('the member state’s view costs the same too', async () => {
    const state = gw.as('NL', 'coordinator');
    expect(await commandsFor(state, 50)).toEqual(await commandsFor(state, 5));
  });
});

describe('round trips for the directory', () => {
  it('organisations with their contracts cost the same for 7 organisations as for all 16', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const query = `query ($kind: OrganisationKind) { organisations(kind: $kind) { code contracts { id memberState { name } partner { name } programmes { code } } } }`;
    await admin.ok(query);
    const few = await gw.store.recorder.countDuring(() => admin.ok(query, { kind: 'MEMBER_STATE' }));
    const all = await gw.store.recorder.countDuring(() => admin.ok(query));
    expect(all.commands).toBe(few.commands);
    expect(all.commands).toBeLessThanOrEqual(4);
  });
});
