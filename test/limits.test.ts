// Protection against expensive or abusive use: query cost, page size and request rate.
import { getIntrospectionQuery, getNamedType, isCompositeType, isListType, isNonNullType, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, uniqueDbName, type TestGateway } from './helpers/gateway.ts';
import { gatewaySchema } from './helpers/schema-inputs.ts';
import { wsClient } from './helpers/ws.ts';
import { caseInput } from './helpers/factories.ts';
import { hasRedis, REDIS_URL } from './helpers/redis.ts';
import WebSocket from 'ws';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { ERIN_MAX_QUERY_COST: '300', ERIN_RATE_LIMIT: '40' } });
});
afterAll(async () => {
  await gw?.close();
});

describe('limits', () => {
  it('a query that would cost more than the limit is refused before it runs, with its cost', async () => {
    const heavy = `{ cases(first: 100) { edges { node { reference plans { components { id kind cost { amount } } } memberState { contracts { id } } } } } }`;
    const r = await gw.as('NL', 'caseworker').gql(heavy);
    expect(codes(r)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(r.errors?.[0]?.extensions).toMatchObject({ limit: 300 });
    expect(r.errors?.[0]?.extensions.cost).toBeGreaterThan(300);
    const light = await gw.as('NL', 'caseworker').gql(`{ cases(first: 10) { edges { node { reference } } } }`);
    expect(light.errors).toBeUndefined();
  });

  it('the cost follows the page size and the @include of the variables, whatever the ids', async () => {
    const client = gw.as('NL', 'caseworker');
    const query = `query ($n: Int, $heavy: Boolean!, $id: ID!) { case(id: $id) { reference }
      cases(first: $n) { edges { node { reference plans @include(if: $heavy) { components { id kind cost { amount } } } } } } }`;
    const ask = (n: number, heavy: boolean, id: string) => client.gql(query, { n, heavy, id });
    // The same document, asked for different ids: estimated once, never refused for its id.
    for (const id of ['case-a', 'case-b']) expect(codes(await ask(10, false, id))).not.toContain('QUERY_TOO_COMPLEX');
    expect(codes(await ask(100, true, 'case-a'))).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes(await ask(10, false, 'case-c'))).not.toContain('QUERY_TOO_COMPLEX');
    expect(codes(await ask(100, true, 'case-d'))).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it('a page larger than 100 is refused', async () => {
    const r = await gw.as('NL', 'caseworker').gql(`{ cases(first: 101) { edges { node { reference } } } }`);
    expect(codes(r)[0]).toMatch(/BAD_USER_INPUT|QUERY_TOO_COMPLEX/);
  });

  it('too many requests from one token get 429 RATE_LIMITED, and another caller is not affected', async () => {
    const noisy = gw.as('P-AF-HOPE', 'partner-officer', 'noisy-user');
    const statuses: number[] = [];
    let limited;
    for (let i = 0; i < 45; i += 1) {
      const r = await noisy.gql('{ ping }');
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(limited?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED' });
    expect(limited?.headers.get('ratelimit')).toBeTruthy();
    const other = await gw.as('P-AF-HOPE', 'partner-officer', 'calm-user').gql('{ ping }');
    expect(other.status).toBe(200);
  });
});

/** Sends `{ ping }` with this Authorization header and answers the status. */
async function ping(authorization: string | undefined): Promise<number> {
  const response = await fetch(`${gw.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query: '{ ping }' }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Waits until the condition holds (the test's timeout bounds the wait). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

const tally = (statuses: number[]) => statuses.reduce<Record<number, number>>((t, s) => ({ ...t, [s]: (t[s] ?? 0) + 1 }), {});

describe('limits that cannot be side-stepped', () => {
  it('the rate limit is per verified caller: Bearer, bEaReR and extra spaces are one client', async () => {
    const token = gw.token('P-AF-HOPE', 'partner-officer', { subject: 'spelling-user' });
    const spellings = [`Bearer ${token}`, `bEaReR ${token}`, `Bearer    ${token}`, `BEARER ${token}  `];
    const statuses: number[] = [];
    for (let i = 0; i < 45; i += 1) statuses.push(await ping(spellings[i % spellings.length]));
    expect(tally(statuses)).toEqual({ 200: 40, 429: 5 });
  });

  it('fresh tokens for the same organisation and subject share its limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i += 1) {
      const token = gw.token('NL', 'caseworker', { subject: 'token-minter', issuedAt: Math.floor(Date.now() / 1000) - i });
      statuses.push(await ping(`Bearer ${token}`));
    }
    expect(tally(statuses)).toEqual({ 200: 40, 429: 5 });
  });

  it('unauthenticated requests are limited per address, whatever junk token each carries', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i += 1) statuses.push(await ping(`Bearer junk.${i}.${Math.random().toString(36).slice(2)}`));
    expect(tally(statuses)).toEqual({ 401: 40, 429: 5 });
    // A verified caller from the same address keeps its own limit.
    expect(await ping(`Bearer ${gw.token('NL', 'coordinator', { subject: 'after-junk' })}`)).toBe(200);
  });

  it('each write of a mutation document counts on the rate limit: aliased writes past it run none of them', async () => {
    const writer = gw.as('NL', 'caseworker', 'bulk-writer');
    const before = await gw.services.log.lastSeq();
    // 45 writes in one request (aliases, and more through a fragment spread): over the limit of 40.
    const aliased = Array.from({ length: 40 }, (_, i) => `w${i}: createCase(input: $i) { id }`).join(' ');
    const more = Array.from({ length: 5 }, (_, i) => `x${i}: createCase(input: $i) { id }`).join(' ');
    const bulk = await writer.gql(
      `mutation ($i: CreateCaseInput!) { ${aliased} ...More } fragment More on Mutation { ${more} }`,
      {
        i: caseInput(),
      },
    );
    expect(bulk.status).toBe(429);
    expect(codes(bulk)).toEqual(['RATE_LIMITED']);
    expect(bulk.data ?? null).toBeNull();
    expect(await gw.services.log.lastSeq()).toBe(before);

    // Three writes (a skipped one and a repeated key do not run, so do not count) are three requests.
    const few = gw.as('NL', 'caseworker', 'few-writes');
    const three = await few.gql(
      `mutation ($i: CreateCaseInput!, $no: Boolean!) { a: createCase(input: $i) { id } b: createCase(input: $i) { id }
        c: createCase(input: $i) { id } c: createCase(input: $i) { id } d: createCase(input: $i) @include(if: $no) { id } }`,
      { i: caseInput(), no: false },
    );
    expect(three.errors).toBeUndefined();
    expect(await gw.services.log.lastSeq()).toBe(before + 3);
    const statuses: number[] = [];
    for (let i = 0; i < 38; i += 1) statuses.push((await few.gql('{ ping }')).status);
    expect(tally(statuses)).toEqual({ 200: 37, 429: 1 });
  });

  it('each root field of a query counts on the rate limit: a hundred aliased reads are not one request', async () => {
    const reader = gw.as('NL', 'caseworker', 'alias-reader');
    // 45 case lookups in one document, within the cost limit: each would read the store on its own.
    const lists = Array.from({ length: 45 }, (_, i) => `c${i}: case(id: "case-${i}") { id }`).join(' ');
    const before = gw.store.recorder.count;
    const many = await reader.gql(`{ ${lists} }`);
    expect(many.status).toBe(429);
    expect(codes(many)).toEqual(['RATE_LIMITED']);
    expect(gw.store.recorder.count - before).toBe(0);

    // Two root fields (introspection's do not count) are two requests.
    const two = gw.as('NL', 'caseworker', 'two-fields');
    expect((await two.gql('{ __typename ping me { subject } }')).errors).toBeUndefined();
    const statuses: number[] = [];
    for (let i = 0; i < 39; i += 1) statuses.push((await two.gql('{ ping }')).status);
    expect(tally(statuses)).toEqual({ 200: 38, 429: 1 });
  });

  it('each subscription started over WebSocket counts on the rate limit HTTP shares, however soon it is stopped', async () => {
    const token = gw.token('NL', 'caseworker', { subject: 'subscription-churn' });
    const socket = new WebSocket(`${gw.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: { id?: string; type: string; payload?: { extensions?: { code?: string } }[] }[] = [];
    try {
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      socket.on('message', (m: Buffer) => messages.push(JSON.parse(m.toString('utf8'))));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
      await until(() => messages.some((m) => m.type === 'connection_ack'));
      // Started and stopped 45 times, one after the other: never more than one open, so the cap
      // per connection never applies. From early in the feed, so a started one answers at once.
      const { changes } = await gw
        .as('NL', 'caseworker', 'cursor-reader')
        .ok<{ changes: { endCursor: string; hasMore: boolean } }>('{ changes(first: 1) { endCursor hasMore } }');
      expect(changes.hasMore).toBe(true);
      const first: Record<string, string> = {};
      let readsOfRefused = 0;
      for (let i = 0; i < 45; i += 1) {
        const id = `s${i}`;
        const commandsBefore = gw.store.recorder.count;
        socket.send(
          JSON.stringify({
            id,
            type: 'subscribe',
            payload: { query: 'subscription ($c: Cursor) { myFeed(after: $c) { cursor } }', variables: { c: changes.endCursor } },
          }),
        );
        await until(() => messages.some((m) => m.id === id));
        first[id] = messages.find((m) => m.id === id)!.type;
        if (first[id] === 'error') readsOfRefused += gw.store.recorder.count - commandsBefore;
        socket.send(JSON.stringify({ id, type: 'complete' }));
      }
      const refused = Object.keys(first).filter((id) => first[id] === 'error');
      expect(refused).toEqual(['s40', 's41', 's42', 's43', 's44']);
      expect(Object.values(first).filter((type) => type === 'next')).toHaveLength(40);
      const errors = messages.filter((m) => m.type === 'error');
      expect(errors.map((m) => m.payload?.[0]?.extensions?.code)).toEqual(Array(5).fill('RATE_LIMITED'));
      // The refused ones read nothing of the store; HTTP is refused for the same caller too.
      expect(readsOfRefused).toBe(0);
      expect(await ping(`Bearer ${token}`)).toBe(429);
    } finally {
      socket.close();
    }
  });

  it('lists without a page size count by their bound, so nested lists multiply', async () => {
    const client = gw.as('ERIN-NET', 'network-admin');
    expect((await client.gql('{ organisations { code } }')).errors).toBeUndefined();
    for (const query of [
      '{ organisations { contracts { id } } }',
      '{ contracts { memberState { contracts { partner { contracts { id } } } } } }',
      '{ contracts { programmes { code } } }',
    ]) {
      const r = await client.gql(query);
      expect(codes(r), query).toEqual(['QUERY_TOO_COMPLEX']);
      expect(r.errors?.[0]?.extensions.cost).toBeGreaterThan(300);
    }
  });

  it('every list of records declares its bound, unless it is a page whose size the caller asks for', async () => {
    const schema = await gatewaySchema();
    const objects = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && !t.name.startsWith('__'));
    const fields = objects.flatMap((t) => (isObjectType(t) ? Object.values(t.getFields()).map((f) => ({ on: t.name, f })) : []));
    // The items of a page (CaseConnection.edges, ChangePage.changes, …) are sized by the field that returns the page.
    const paged = new Set(
      fields.filter(({ f }) => f.args.some((a) => a.name === 'first')).map(({ f }) => getNamedType(f.type).name),
    );
    const unbounded = fields
      .filter(({ f }) => isListType(isNonNullType(f.type) ? f.type.ofType : f.type) && isCompositeType(getNamedType(f.type)))
      .filter(({ on, f }) => !f.args.some((a) => a.name === 'first') && !paged.has(on))
      .filter(({ f }) => !f.astNode?.directives?.some((d) => d.name.value === 'listSize'))
      .map(({ on, f }) => `${on}.${f.name}`);
    expect(unbounded).toEqual([]);
  });

  /** `query { ...F0 }` where each fragment spreads the next one twice: 2^levels leaves in a few hundred bytes. */
  const fanOut = (levels: number, leaf: string) =>
    `query { ...F0 } ${Array.from({ length: levels }, (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`).join(' ')} fragment F${levels} on Query { ${leaf} }`;

  it('fragments spread into one another are measured once: a small document of them is refused at once, not after minutes', async () => {
    const client = gw.as('NL', 'caseworker', 'fragment-fan');
    // 2^28 leaves: graphql-depth-limit walked every one of them (85 s of a blocked event loop).
    const wide = await client.gql(fanOut(28, 'ping'));
    expect(codes(wide)).toEqual(['QUERY_TOO_COMPLEX']);
    // Too deep behind the fragments is still too deep (the fragment's depth, measured once, counts at each spread).
    const deep = await client.gql(
      fanOut(
        20,
        'contracts { memberState { contracts { partner { contracts { memberState { contracts { partner { contracts { memberState { contracts { partner { contracts { id } } } } } } } } } } } } }',
      ),
    );
    expect(codes(deep)).toEqual(['BAD_USER_INPUT']);
    expect(deep.errors?.[0]?.message).toMatch(/deeper than the limit of 12 levels/);
    // Fragments that spread each other in a cycle: graphql-js's validation error, not a stack overflow.
    const cycle = await client.gql('query { ...A } fragment A on Query { ping ...B } fragment B on Query { ...A }');
    expect(codes(cycle)).toEqual(['BAD_USER_INPUT']);
    expect(cycle.errors?.[0]?.message).toMatch(/Cannot spread fragment "A" within itself/);
  });

  it('the same fan-out over WebSocket is refused as quickly', async () => {
    const ws = wsClient(gw, gw.token('NL', 'caseworker', { subject: 'fragment-fan-ws' }));
    try {
      const wide = ws.subscribe(
        `subscription { ...S0 } ${Array.from({ length: 28 }, (_, i) => `fragment S${i} on Subscription { ...S${i + 1} ...S${i + 1} }`).join(' ')} fragment S28 on Subscription { myFeed { __typename } }`,
      );
      await wide.until(() => wide.failed.length > 0).catch(() => undefined);
      expect(wide.failed.map((e) => e.extensions?.code)).toEqual(['QUERY_TOO_COMPLEX']);
    } finally {
      await ws.close();
    }
  });

  it('a page size sent as null costs the page the list will answer, not one item', async () => {
    const client = gw.as('NL', 'caseworker', 'null-page');
    const heavy = (first: string) =>
      `{ cases(first: ${first}) { edges { node { reference plans { components { id kind cost { amount } } } } } } }`;
    const asked = await client.gql(heavy('20'));
    const leftOut = await client.gql(heavy('null'));
    expect(codes(asked)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(codes(leftOut)).toEqual(['QUERY_TOO_COMPLEX']);
    expect(leftOut.errors?.[0]?.extensions.cost).toBe(asked.errors?.[0]?.extensions.cost);
    const nested = await client.gql(
      'query ($n: Int) { workList(first: $n) { case { progress(first: $n) { edges { node { id } } } } } }',
      { n: null },
    );
    expect(codes(nested)).toEqual(['QUERY_TOO_COMPLEX']);
  });

  it("Apollo's own refusals and a subscription sent over HTTP are the client's errors, not the server's", async () => {
    const token = gw.token('NL', 'caseworker', { subject: 'protocol-mistakes' });
    const post = (body: unknown) =>
      fetch(`${gw.url}/graphql`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const body of [
      { query: '{ ping }', extensions: { persistedQuery: { version: 1, sha256Hash: 'deadbeef' } } },
      { query: '{ ping }', extensions: { persistedQuery: { version: 2, sha256Hash: 'deadbeef' } } },
      { query: 'subscription { myFeed { __typename } }' },
    ]) {
      const response = await post(body);
      const answer = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
      expect(
        answer.errors.map((e) => e.extensions.code),
        JSON.stringify(body),
      ).toEqual(['BAD_USER_INPUT']);
      expect(answer.errors[0]?.message).not.toMatch(/Internal server error/);
    }
  });

  it('a document of too many tokens is refused by the parser, before validation', async () => {
    // About 800 KB: 40,000 fields, each of them unknown, so validation would report every one.
    const huge = `{ ${Array.from({ length: 40_000 }, (_, i) => `a${i}: unknownField`).join(' ')} }`;
    const r = await gw.as('NL', 'caseworker').gql(huge);
    expect(r.status).toBe(200);
    expect(r.errors).toHaveLength(1);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'GRAPHQL_PARSE_FAILED' });
    expect(r.errors?.[0]?.message).toMatch(/Document contains more th[ae][nt] 2000 tokens/);
  });

  it('introspection is depth-limited too, while the standard introspection query is answered', async () => {
    const client = gw.as('NL', 'caseworker');
    const deep = await client.gql('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    expect(codes(deep)).toEqual(['BAD_USER_INPUT']);
    expect(deep.errors?.[0]?.message).toMatch(/introspection depth/i);
    const standard = await client.gql(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    expect(standard.errors).toBeUndefined();
  });
});

describe('limits of an organisation, which names its own subjects', () => {
  let org: TestGateway;
  beforeAll(async () => {
    org = await startGateway({
      env: { ERIN_RATE_LIMIT: '40', ERIN_RATE_LIMIT_ORGANISATION: '60', ERIN_WS_MAX_CONNECTIONS_ORGANISATION: '3' },
    });
  });
  afterAll(async () => {
    await org?.close();
  });

  it('a subject of its choosing per request gets no more than the organisation’s limit; another organisation is not affected', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 70; i += 1) {
      statuses.push((await org.gql('{ ping }', {}, { token: org.token('SE', 'caseworker', { subject: `minted-${i}` }) })).status);
    }
    expect(tally(statuses)).toEqual({ 200: 60, 429: 10 });
    // Root fields and subscription starts of a fresh subject count on the organisation's limit too.
    const fresh = org.as('SE', 'caseworker', 'minted-fresh');
    expect(codes(await fresh.gql('{ ping me { subject } }'))).toEqual(['RATE_LIMITED']);
    expect((await org.gql('{ ping }', {}, { token: org.token('NL', 'caseworker', { subject: 'minted-0' }) })).status).toBe(200);
  });

  it('its users together hold a limited number of WebSocket connections; another organisation is not affected', async () => {
    const MY_FEED = 'subscription { myFeed { cursor } }';
    const sockets = Array.from({ length: 3 }, (_, i) =>
      wsClient(org, org.token('NL', 'caseworker', { subject: `ws-user-${i}` })),
    );
    try {
      const subs = sockets.map((s) => s.subscribe(MY_FEED));
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(subs.flatMap((s) => s.failed)).toEqual([]);
      expect(sockets.flatMap((s) => s.closes)).toEqual([]);
      const fourth = wsClient(org, org.token('NL', 'caseworker', { subject: 'ws-user-3' }));
      sockets.push(fourth);
      const refused = fourth.subscribe(MY_FEED);
      const refusal = refused.until(() => fourth.closes.length > 0 || refused.failed.length > 0).catch(() => undefined);
      await Promise.race([refusal, new Promise((resolve) => setTimeout(resolve, 3000))]);
      expect(fourth.closes[0]?.code).toBe(4403);

      const other = wsClient(org, org.token('P-AF-HOPE', 'partner-officer', { subject: 'ws-user-0' }));
      sockets.push(other);
      const fine = other.subscribe(MY_FEED);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(other.closes).toEqual([]);
      expect(fine.failed).toEqual([]);
    } finally {
      for (const socket of sockets) await socket.close();
    }
  });
});

const redis = await hasRedis();

describe.skipIf(!redis)('shared rate limits (needs a Redis at REDIS_URL; skipped without one)', () => {
  it('two gateways configured with the same Redis share one limit per token', async () => {
    const dbName = uniqueDbName('rl');
    const env = { REDIS_URL, ERIN_RATE_LIMIT: '10' };
    const a = await startGateway({ env, dbName });
    const b = await startGateway({ env, dbName, seed: false, dataDir: a.dataDir });
    try {
      // One token (one subject), requests spread over both instances.
      const token = a.token('NL', 'caseworker', { subject: 'shared-limit' });
      const statuses: number[] = [];
      for (let i = 0; i < 14; i += 1) statuses.push((await (i % 2 ? a : b).gql('{ ping }', {}, { token })).status);
      expect(statuses.filter((s) => s === 200)).toHaveLength(10);
      expect(statuses.filter((s) => s === 429)).toHaveLength(4);
    } finally {
      await b.close();
      await a.close();
    }
  });

  it('the writes of a mutation document counted on one gateway are counted on the other', async () => {
    const dbName = uniqueDbName('rlw');
    const env = { REDIS_URL, ERIN_RATE_LIMIT: '10' };
    const a = await startGateway({ env, dbName });
    const b = await startGateway({ env, dbName, seed: false, dataDir: a.dataDir });
    try {
      const token = a.token('NL', 'caseworker', { subject: 'shared-writes' });
      const writes = Array.from({ length: 6 }, (_, i) => `w${i}: createCase(input: $i) { id }`).join(' ');
      const r = await a.gql(`mutation ($i: CreateCaseInput!) { ${writes} }`, { i: caseInput() }, { token });
      expect(r.errors).toBeUndefined();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) statuses.push((await b.gql('{ ping }', {}, { token })).status);
      expect(tally(statuses)).toEqual({ 200: 4, 429: 1 });
    } finally {
      await b.close();
      await a.close();
    }
  });
});
