// The change feed as member-state systems use it: the reference client in examples/
// follows the feed while several organisations write at random, concurrently; at the end
// each organisation's copy is exactly what it may see through the ordinary queries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATE, SyncClient } from '../examples/sync-client.ts';
import { mayReadInFeed } from '../src/auth/policy.ts';
import type { Principal, Role } from '../src/auth/principal.ts';
import { decodeCursor, encodeCursor } from '../src/modules/feed/cursor.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow, type CaseView } from './helpers/factories.ts';

let gw: TestGateway;
beforeAll(async () => {
  // Blocks of a few events: most of the log is read from sealed segments.
  gw = await startGateway({ env: { ERIN_FEED_BLOCK_SIZE: '7' } });
});
afterAll(async () => {
  await gw?.close();
});

/** A small seeded generator, so a failing run can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CASE_STATE = `id reference status version memberState { code } partner { code } originCountry needsAssessment
  plan { planVersion status totalEur { amount } } planInForce { planVersion status } updatedAt`;

/** Everything an organisation may see, through the ordinary queries, keyed like the sync client's copy. */
async function visibleTo(client: ReturnType<TestGateway['as']>): Promise<Map<string, unknown>> {
  const seen = new Map<string, unknown>();
  const directory = await client.ok<{
    organisations: { code: string }[];
    programmes: { code: string }[];
    exchangeRates: { currency: string; validFrom: string }[];
  }>(
    `{ organisations { __typename code kind name active version }
       programmes { __typename code name active perAdult { amount } }
       exchangeRates { __typename currency rate validFrom version } }`,
  );
  for (const o of directory.organisations) seen.set(`ORGANISATION:${o.code}`, o);
  for (const p of directory.programmes) seen.set(`PROGRAMME:${p.code}`, p);
  for (const r of directory.exchangeRates) seen.set(`EXCHANGE_RATE:${r.currency}:${r.validFrom}`, r);
  const contracts = await client.gql<{ contracts: { id: string }[] }>(
    '{ contracts { __typename id version memberState { code } contractor: partner { code } validTo endedAt } }',
  );
  for (const c of contracts.data?.contracts ?? []) seen.set(`CONTRACT:${c.id}`, c);
  let after: string | null = null;
  for (;;) {
    const page: {
      data?: { cases: { edges: { node: CaseView }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } | null;
    } = await client.gql(
      `query ($after: String) { cases(first: 100, after: $after) { edges { node { __typename ${CASE_STATE} } } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    if (!page.data) break; // roles without case.read (network administrators)
    for (const { node } of page.data.cases.edges) seen.set(`CASE:${node.id}`, node);
    if (!page.data.cases.pageInfo.hasNextPage) break;
    after = page.data.cases.pageInfo.endCursor;
  }
  return seen;
}

function copyOf(client: SyncClient): Map<string, unknown> {
  return new Map([...client.records].map(([key, record]) => [key, record.state]));
}

describe('change feed sync', () => {
  it('the reference client’s copy equals exactly what each organisation may see, after random concurrent writes', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    // A second partner for Afghan returns from the Netherlands, so cases can be reassigned.
    await admin.ok(
      `mutation { createContract(input: { id: "NL-AF-TIGRIS", memberState: "NL", partner: "P-IQ-TIGRIS", originCountries: ["AF"],
        programmes: ["EURP-VOL"], validFrom: "2026-01-01" }) { id } }`,
    );

    const followers: [string, Role][] = [
      ['NL', 'caseworker'],
      ['BE', 'coordinator'],
      ['DE', 'caseworker'],
      ['P-AF-HOPE', 'partner-officer'],
      ['P-IQ-TIGRIS', 'partner-officer'],
      ['P-MA-ATLAS', 'partner-officer'],
      ['ERIN-NET', 'network-admin'],
    ];
    const clients = followers.map(([org, role]) => {
      const token = gw.token(org, role);
      return {
        org,
        role,
        sync: new SyncClient({ url: `${gw.url}/graphql`, token: () => token, pageSize: 7, state: DEFAULT_STATE }),
      };
    });

    // Writers: each case is walked through a random life by its state and its partner.
    const routes = [
      { state: 'NL', partner: 'P-AF-HOPE', country: 'AF', alternative: 'P-IQ-TIGRIS' },
      { state: 'NL', partner: 'P-IQ-TIGRIS', country: 'IQ' },
      { state: 'NL', partner: 'P-MA-ATLAS', country: 'MA', programme: 'NL-AVRR' },
      { state: 'BE', partner: 'P-AF-HOPE', country: 'AF' },
      { state: 'BE', partner: 'P-MA-ATLAS', country: 'MA' },
      { state: 'DE', partner: 'P-IQ-TIGRIS', country: 'IQ' },
    ];
    // Each case draws from its own sequence, so the run is the same whatever the interleaving;
    // the first cases take every branch that matters (drafts, reassignment, closure).
    const walk = async (i: number) => {
      const rng = random(20261128 + i);
      const next = () => (i === 0 ? 0.5 : i === 1 ? 0.2 : rng());
      const route = i === 1 ? routes[0]! : routes[Math.floor(rng() * routes.length)]!;
      const flow = workflow(gw, route.state, route.partner);
      let c = await flow.create({
        originCountry: route.country,
        programme: route.programme ?? 'EURP-VOL',
        needsAssessment: `needs of case ${i}`,
      });
      if (next() < 0.15) return; // stays a draft, the state's alone
      c = await flow.refer(c);
      if (next() < 0.3) {
        c = await flow.decline(c, 'no capacity this month');
        if (route.alternative && next() < 0.7) {
          // Reassigned: the first partner must drop the case from its copy.
          const moved = await flow.state.ok<{ reopenCase: CaseView }>(
            `mutation ($id: ID!, $v: Int!, $p: ID) { reopenCase(id: $id, partner: $p, expectedVersion: $v) { id version } }`,
            { id: c.id, v: c.version, p: route.alternative },
          );
          const other = workflow(gw, route.state, route.alternative);
          c = await other.accept({ ...c, version: moved.reopenCase.version });
          return;
        }
        if (next() < 0.5) await flow.close(c, 'OPTED_OUT');
        return;
      }
      c = await flow.accept(c);
      if (next() < 0.2) return;
      c = await flow.arrive(c);
      c = await flow.draft(c, { components: [trainingComponent(40_000 + i)] });
      if (next() < 0.3) return;
      c = await flow.submit(c);
      c = next() < 0.7 ? await flow.approve(c) : await flow.requestChanges(c, 'add a materials line');
      if (next() < 0.3) await flow.close(c, 'SUPPORT_PERIOD_ENDED');
    };

    let writing = true;
    const following = clients.map(async ({ sync }) => {
      while (writing) {
        await sync.syncOnce();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    const writers = Array.from({ length: 18 }, (_, i) => walk(i));
    const adminWrites = (async () => {
      await admin.ok(
        'mutation { updateOrganisation(code: "P-MA-ATLAS", input: { name: "Atlas Return Support Morocco" }, expectedVersion: 1) { code } }',
      );
      await admin.ok(
        'mutation { endContract(id: "BE-MA-2026", endDate: "2027-06-30", reason: "renewal", expectedVersion: 1) { id } }',
      );
      await admin.ok(
        'mutation { setExchangeRate(input: { currency: "MAD", rate: "10.9", validFrom: "2026-11-01" }) { currency } }',
      );
    })();
    await Promise.all([...writers, adminWrites]);
    writing = false;
    await Promise.all(following);

    for (const { org, role, sync } of clients) {
      await sync.syncOnce();
      const expected = await visibleTo(gw.as(org, role));
      expect(copyOf(sync), `${org}'s copy`).toEqual(expected);
    }
    // The test is only worth something if the feed had cases to sync and took one away.
    const hope = clients.find((c) => c.org === 'P-AF-HOPE')!.sync;
    expect([...hope.records.keys()].filter((k) => k.startsWith('CASE:')).length).toBeGreaterThan(0);
    const reassigned = (await gw.services.log.page(0, 100_000)).filter((e) => e.type === 'CaseReopened');
    expect(reassigned.length).toBeGreaterThan(0);
  }, 180_000);

  it('a client paging through two gateways that both take writes, one restarting, gets each change once, in order, and each case as it is', async () => {
    const ENV = { ERIN_FEED_BLOCK_SIZE: '7' };
    const another = () => startGateway({ dbName: gw.dbName, seed: false, dataDir: gw.dataDir, env: ENV });
    let second = await another();
    type Page = {
      endCursor: string;
      hasMore: boolean;
      changes: { cursor: string; kind: string; aggregateId: string; version: number; removed: boolean; state: unknown }[];
    };
    const PAGE = `query ($after: Cursor) { changes(after: $after, first: 3) { endCursor hasMore
      changes { cursor kind aggregateId version removed state { __typename ... on Case { ${CASE_STATE} } } } } }`;
    const readers = [
      { org: 'NL', role: 'caseworker' as Role, kind: 'MEMBER_STATE' as const },
      { org: 'P-AF-HOPE', role: 'partner-officer' as Role, kind: 'PARTNER' as const },
    ].map((r) => ({
      ...r,
      token: gw.token(r.org, r.role),
      after: null as string | null,
      seqs: [] as number[],
      copy: new Map<string, { version: number; state: unknown }>(),
    }));
    let turn = 0;
    /** One page, from each gateway in turn (one restarting answers nothing: the page is asked again). */
    const page = async (reader: (typeof readers)[number]): Promise<boolean> => {
      const on = turn++ % 2 ? second : gw;
      const r = await on.gql<{ changes: Page }>(PAGE, { after: reader.after }, { token: reader.token }).catch(() => null);
      if (!r?.data) return true;
      for (const c of r.data.changes.changes) {
        reader.seqs.push(decodeCursor(c.cursor)!);
        if (c.kind !== 'CASE') continue;
        if (c.removed) reader.copy.delete(c.aggregateId);
        else if (c.version >= (reader.copy.get(c.aggregateId)?.version ?? 0))
          reader.copy.set(c.aggregateId, { version: c.version, state: c.state });
      }
      reader.after = r.data.changes.endCursor;
      return r.data.changes.hasMore;
    };
    let writing = true;
    const following = readers.map(async (reader) => {
      while (writing) if (!(await page(reader))) await new Promise((resolve) => setTimeout(resolve, 10));
    });
    const walk = async (on: TestGateway, i: number) => {
      const flow = workflow(on, 'NL', 'P-AF-HOPE');
      const c = await flow.arrive(await flow.accept(await flow.refer(await flow.create({ needsAssessment: `paged ${i}` }))));
      await flow.submit(await flow.draft(c, { components: [trainingComponent(30_000 + i)] }));
    };
    try {
      await Promise.all([0, 1, 2].map((i) => walk(i % 2 ? second : gw, i)));
      await second.close({ keepData: true });
      second = await another();
      await Promise.all([3, 4, 5].map((i) => walk(i % 2 ? second : gw, i)));
    } finally {
      writing = false;
      await Promise.all(following);
    }
    try {
      const raw = await gw.raw();
      const log = await raw.collection('events').find({}).sort({ _id: 1 }).toArray();
      for (const reader of readers) {
        while (await page(reader));
        const who: Principal = {
          subject: 't',
          issuer: 't',
          organisation: { code: reader.org, kind: reader.kind, name: reader.org },
          roles: [],
        };
        const mayRead = log.filter((e) =>
          mayReadInFeed(who, { audience: e.audience as string[], caseId: e.caseId as string | null }),
        );
        expect(reader.seqs, reader.org).toEqual(mayRead.map((e) => Number(e._id)));
        const cases = [...(await visibleTo(gw.as(reader.org, reader.role)))].filter(([key]) => key.startsWith('CASE:'));
        expect(new Map([...reader.copy].map(([id, { state }]) => [`CASE:${id}`, state])), reader.org).toEqual(new Map(cases));
      }
    } finally {
      await second.close({ keepData: true });
    }
  }, 120_000);

  it('a page holds at most 1000 changes and the cursor resumes exactly after the last one', async () => {
    const nl = gw.as('NL', 'caseworker');
    const big = await nl.gql('query { changes(first: 1001) { endCursor } }');
    expect(codes(big)).toEqual(['BAD_USER_INPUT']);
    const all = await nl.ok<{ changes: { changes: { cursor: string }[]; endCursor: string; hasMore: boolean } }>(
      'query { changes(first: 1000) { changes { cursor } endCursor hasMore } }',
    );
    expect(all.changes.changes.length).toBeGreaterThan(10);
    const first = await nl.ok<{ changes: { changes: { cursor: string }[]; endCursor: string } }>(
      'query { changes(first: 5) { changes { cursor } endCursor } }',
    );
    const rest = await nl.ok<{ changes: { changes: { cursor: string }[] } }>(
      'query ($after: Cursor) { changes(after: $after, first: 1000) { changes { cursor } } }',
      { after: first.changes.endCursor },
    );
    expect([...first.changes.changes, ...rest.changes.changes].map((c) => c.cursor)).toEqual(
      all.changes.changes.map((c) => c.cursor),
    );
  });

  it('a page of none says whether changes wait, and keeps the cursor before them', async () => {
    const nl = gw.as('NL', 'caseworker');
    const PAGE = 'query ($after: Cursor) { changes(after: $after, first: 0) { changes { cursor } endCursor hasMore } }';
    type Page = { changes: { changes: unknown[]; endCursor: string; hasMore: boolean } };
    const start = await nl.ok<Page>(PAGE, { after: encodeCursor(0) });
    expect(start.changes).toEqual({ changes: [], endCursor: encodeCursor(0), hasMore: true });
    // At the end of what NL may see, nothing waits: the cursor may move to the head.
    const all = await nl.ok<{ changes: { endCursor: string; hasMore: boolean } }>(
      'query { changes(first: 1000) { endCursor hasMore } }',
    );
    expect(all.changes.hasMore).toBe(false);
    const atEnd = await nl.ok<Page>(PAGE, { after: all.changes.endCursor });
    expect(atEnd.changes).toEqual({ changes: [], endCursor: all.changes.endCursor, hasMore: false });
    // A change NL may see: the next empty page says so, from the same cursor.
    await workflow(gw, 'NL', 'P-AF-HOPE').create();
    const next = await nl.ok<Page>(PAGE, { after: all.changes.endCursor });
    expect(next.changes).toEqual({ changes: [], endCursor: all.changes.endCursor, hasMore: true });
  });

  it('a cursor that is not one of the feed’s is refused as bad input, also one past the end of the log', async () => {
    const nl = gw.as('NL', 'caseworker');
    const r = await nl.gql('query { changes(after: "not-a-cursor") { endCursor } }');
    expect(codes(r)).toEqual(['BAD_USER_INPUT']);
    // Past the head (another deployment's, or kept across a restore from a backup): taken as it
    // is, every change that later takes a number up to it would be skipped.
    const head = await gw.services.log.lastSeq();
    const PAGE = 'query ($after: Cursor) { changes(after: $after) { endCursor changes { cursor } } }';
    const past = await nl.gql(PAGE, { after: encodeCursor(head + 5) });
    expect(codes(past)).toEqual(['BAD_USER_INPUT']);
    const atHead = await nl.ok<{ changes: { endCursor: string; changes: unknown[] } }>(PAGE, { after: encodeCursor(head) });
    expect(atHead.changes).toEqual({ endCursor: encodeCursor(head), changes: [] });
  });

  it('the Return Experts Group has no feed, and network administrators see no case in theirs', async () => {
    expect(codes(await gw.as('EMN-REG', 'reg-analyst').gql('{ changes { endCursor } }'))).toEqual(['FORBIDDEN']);
    const flow = workflow(gw, 'SE', 'P-ET-HORN');
    await flow.refer(await flow.create({ originCountry: 'ET' }));
    const admin = await gw
      .as('ERIN-NET', 'network-admin')
      .ok<{ changes: { changes: { kind: string }[] } }>('{ changes(first: 1000) { changes { kind } } }');
    expect(admin.changes.changes.map((c) => c.kind)).not.toContain('CASE');
  });

  it('a partner whose case was given to another partner is told to delete it, without its content', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    await admin.gql(
      `mutation { createContract(input: { id: "NL-AF-TIGRIS", memberState: "NL", partner: "P-IQ-TIGRIS", originCountries: ["AF"],
        programmes: ["EURP-VOL"], validFrom: "2026-01-01" }) { id } }`,
    );
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const declined = await flow.decline(
      await flow.refer(await flow.create({ needsAssessment: 'private to the parties' })),
      'full',
    );
    const hope = new SyncClient({ url: `${gw.url}/graphql`, token: () => flow.officer.token });
    await hope.syncOnce();
    expect(hope.records.has(`CASE:${declined.id}`)).toBe(true);
    await flow.state.ok(
      `mutation ($id: ID!, $v: Int!) { reopenCase(id: $id, partner: "P-IQ-TIGRIS", expectedVersion: $v) { id } }`,
      {
        id: declined.id,
        v: declined.version,
      },
    );
    const after = await flow.officer.ok<{ changes: { changes: { aggregateId: string; removed: boolean; state: unknown }[] } }>(
      'query ($after: Cursor) { changes(after: $after) { changes { aggregateId removed state { __typename } } } }',
      { after: hope.cursor },
    );
    expect(after.changes.changes.filter((c) => c.aggregateId === declined.id)).toEqual([
      { aggregateId: declined.id, removed: true, state: null },
    ]);
    await hope.syncOnce();
    expect(hope.records.has(`CASE:${declined.id}`)).toBe(false);
    // Nor does replaying the feed from the start give the partner that case's history.
    const replay = new SyncClient({ url: `${gw.url}/graphql`, token: () => flow.officer.token });
    await replay.syncOnce();
    expect(replay.records.has(`CASE:${declined.id}`)).toBe(false);
    expect(JSON.stringify([...replay.records.values()])).not.toContain('private to the parties');
  });

  it('a partner is given a case referred to it while the case’s document is still behind the referral', async () => {
    // The log is ahead of the documents until an event's projection is written (in flight on the
    // writing gateway, or cut short by a crash until it is repaired): here the case is put back
    // to its stored version before the referral, as a reader on another gateway may find it.
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const created = await flow.create({ needsAssessment: 'referred while behind' });
    const hope = new SyncClient({ url: `${gw.url}/graphql`, token: () => flow.officer.token });
    await hope.syncOnce();
    const referred = await flow.refer(created);
    const raw = await gw.raw();
    const before = (await gw.services.log.findVersion('case', created.id, created.version))!.changes.find(
      (ch) => ch.collection === 'cases',
    )!.doc;
    const projected = await raw.collection('cases').findOne({ _id: created.id as never });
    await raw.collection('cases').replaceOne({ _id: created.id as never }, before);
    try {
      await hope.syncOnce();
    } finally {
      await raw.collection('cases').replaceOne({ _id: created.id as never }, projected!);
    }
    expect(hope.records.get(`CASE:${created.id}`)).toMatchObject({
      version: referred.version,
      state: { id: created.id, status: 'REFERRED', needsAssessment: 'referred while behind' },
    });
  });

  it('a case’s new partner does not see it before it is referred to it', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const declined = await flow.decline(await flow.refer(await flow.create()), 'full');
    await flow.state.ok(
      `mutation ($id: ID!, $v: Int!) { updateCase(id: $id, input: { partner: "P-IQ-TIGRIS" }, expectedVersion: $v) { id } }`,
      { id: declined.id, v: declined.version },
    );
    const tigris = gw.as('P-IQ-TIGRIS', 'partner-officer');
    expect(codes(await tigris.gql('query ($id: ID!) { case(id: $id) { id } }', { id: declined.id }))).toEqual(['NOT_FOUND']);
    // And the partner it was taken from no longer sees it, and its feed says so.
    expect(codes(await flow.officer.gql('query ($id: ID!) { case(id: $id) { id } }', { id: declined.id }))).toEqual([
      'NOT_FOUND',
    ]);
    const feed = await flow.officer.ok<{ changes: { changes: { aggregateId: string; type: string; removed: boolean }[] } }>(
      '{ changes(first: 1000) { changes { aggregateId type removed } } }',
    );
    expect(feed.changes.changes.filter((c) => c.aggregateId === declined.id).at(-1)).toEqual({
      aggregateId: declined.id,
      type: 'CaseUpdated',
      removed: true,
    });
  });
});
