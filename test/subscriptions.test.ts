// Subscriptions over graphql-ws on /graphql: each client gets the events it may see and
// nothing of anyone else's, from the log, on whichever gateway instance it is connected to.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../src/modules/feed/cursor.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';
import { wsClient, type Received } from './helpers/ws.ts';

let gw: TestGateway;
let second: TestGateway;
beforeAll(async () => {
  // Instances of one deployment share the key that seals special-category data.
  const key = Buffer.alloc(32, 7).toString('base64');
  gw = await startGateway({
    env: {
      ERIN_WS_MAX_SUBSCRIPTIONS: '3',
      ERIN_WS_MAX_CONNECTIONS: '3',
      ERIN_FEED_POLL_INTERVAL: '50ms',
      ERIN_ENCRYPTION_KEY: key,
      ERIN_FEED_BLOCK_SIZE: '5',
    },
  });
  // A second instance on the same database, as behind a load balancer.
  second = await startGateway({
    dbName: gw.dbName,
    seed: false,
    env: { ERIN_FEED_POLL_INTERVAL: '50ms', ERIN_ENCRYPTION_KEY: key, ERIN_FEED_BLOCK_SIZE: '5' },
  });
});
afterAll(async () => {
  await second?.close({ keepData: true });
  await gw?.close();
});

const MY_FEED = `subscription ($after: Cursor) { myFeed(after: $after) {
  cursor kind aggregateId version type actorOrganisation removed
  state { __typename ... on Case { id reference status needsAssessment } ... on Organisation { code } } } }`;

type Change = {
  cursor: string;
  kind: string;
  aggregateId: string;
  type: string;
  removed: boolean;
  state: { status?: string; needsAssessment?: string } | null;
};
const changes = (received: Received[]) => received.map((r) => (r.data as { myFeed: Change }).myFeed);

/** The feed's current end, so a subscription starting from it misses nothing written afterwards. */
async function now(client: ReturnType<TestGateway['as']>): Promise<string> {
  let after: string | null = null;
  for (;;) {
    const r: { changes: { endCursor: string; hasMore: boolean } } = await client.ok(
      'query ($after: Cursor) { changes(after: $after, first: 1000) { endCursor hasMore } }',
      { after },
    );
    if (!r.changes.hasMore) return r.changes.endCursor;
    after = r.changes.endCursor;
  }
}

describe('subscriptions', () => {
  it('a client receives its events and none of another organisation’s', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const be = workflow(gw, 'BE', 'P-AF-HOPE');
    const se = workflow(gw, 'SE', 'P-ET-HORN');
    const after = await now(nl.state);
    const nlSocket = wsClient(gw, nl.state.token);
    const hopeSocket = wsClient(gw, nl.officer.token);
    const nlFeed = nlSocket.subscribe(MY_FEED, { after });
    const hopeFeed = hopeSocket.subscribe(MY_FEED, { after });

    const mine = await nl.refer(await nl.create({ needsAssessment: 'NL-only needs' }));
    await se.refer(await se.create({ originCountry: 'ET', needsAssessment: 'SE-only needs' }));
    const theirs = await be.create({ needsAssessment: 'BE-only needs' });
    // A last case for both: the feed is in log order, so once it arrives everything before it has.
    const last = await nl.refer(await nl.create());
    const arrived = (r: Received[]) => changes(r).some((c) => c.aggregateId === last.id && c.type === 'CaseReferred');
    await nlFeed.until(arrived);
    await hopeFeed.until(arrived);
    const nlSeen = changes(nlFeed.received);
    expect(nlSeen.filter((c) => c.aggregateId === mine.id).map((c) => c.type)).toEqual(['CaseCreated', 'CaseReferred']);
    expect(nlSeen.map((c) => c.aggregateId)).not.toContain(theirs.id);
    expect(JSON.stringify(nlSeen)).not.toMatch(/BE-only|SE-only/);
    expect(nlSeen.find((c) => c.aggregateId === mine.id)?.state?.needsAssessment).toBe('NL-only needs');
    // The partner sees a case once referred to it, not the state's draft, and nothing of SE's or BE's.
    const hopeSeen = changes(hopeFeed.received);
    expect(hopeSeen.filter((c) => c.kind === 'CASE').map((c) => [c.aggregateId, c.type])).toEqual([
      [mine.id, 'CaseReferred'],
      [last.id, 'CaseReferred'],
    ]);
    expect(JSON.stringify(hopeSeen)).not.toMatch(/BE-only|SE-only/);
    await nlSocket.close();
    await hopeSocket.close();
  });

  it('a partner hears of each case referred to it with the case, though its subscription wakes before the case is stored', async () => {
    // The writing gateway wakes its subscribers as soon as the event is in the log, before the
    // case document is written: the partner is a party by the event, not yet by the store.
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const after = await now(nl.officer);
    const socket = wsClient(gw, nl.officer.token);
    const feed = socket.subscribe(MY_FEED, { after });
    const referred: string[] = [];
    for (let i = 0; i < 4; i += 1) referred.push((await nl.refer(await nl.create())).id);
    await feed.until((r) => changes(r).filter((c) => c.type === 'CaseReferred').length === referred.length);
    expect(
      changes(feed.received).map((c) => ({ id: c.aggregateId, type: c.type, removed: c.removed, state: c.state?.status })),
    ).toEqual(referred.map((id) => ({ id, type: 'CaseReferred', removed: false, state: 'REFERRED' })));
    await socket.close();
  });

  it('isolation: no outsider’s subscription carries anything of another organisation’s case', async () => {
    const se = workflow(gw, 'SE', 'P-ET-HORN');
    const outsiders = [
      ['NL', 'caseworker'],
      ['P-AF-HOPE', 'partner-officer'],
      ['P-IQ-TIGRIS', 'partner-officer'],
      ['ERIN-NET', 'network-admin'],
    ] as const;
    const after = await now(gw.as('NL', 'caseworker'));
    const sockets = outsiders.map(([org, role]) => wsClient(gw, gw.token(org, role)));
    const feeds = sockets.map((s) => s.subscribe(MY_FEED, { after }));
    const c = await se.refer(await se.create({ originCountry: 'ET', needsAssessment: 'Swedish secret' }));
    await se.accept(c);
    const cases = sockets.map((s) => s.subscribe('subscription ($id: ID!) { caseEvents(caseId: $id) { type } }', { id: c.id }));
    // A change every organisation sees, after the case's: once it arrives, the case's would have.
    const { organisation } = await gw
      .as('ERIN-NET', 'network-admin')
      .ok<{ organisation: { version: number } }>('{ organisation(code: "NO") { version } }');
    await gw
      .as('ERIN-NET', 'network-admin')
      .ok('mutation ($v: Int!) { updateOrganisation(code: "NO", input: { name: "Norway" }, expectedVersion: $v) { code } }', {
        v: organisation.version,
      });
    for (const feed of feeds) {
      await feed.until((r) => changes(r).some((ch) => ch.kind === 'ORGANISATION' && ch.aggregateId === 'NO'));
      expect(JSON.stringify(feed.received)).not.toContain(c.id);
      expect(JSON.stringify(feed.received)).not.toContain('Swedish secret');
    }
    for (const sub of cases) {
      await sub.until(() => sub.received.length + sub.failed.length > 0).catch(() => undefined);
      expect(JSON.stringify([...sub.received, ...sub.failed])).toMatch(/NOT_FOUND|FORBIDDEN/);
      expect(sub.received.every((r) => !r.data)).toBe(true);
    }
    const reg = wsClient(gw, gw.token('EMN-REG', 'reg-analyst'));
    const regFeed = reg.subscribe(MY_FEED, { after });
    await regFeed.until((r) => r.length > 0).catch(() => undefined);
    expect(JSON.stringify([...regFeed.received, ...regFeed.failed])).toContain('FORBIDDEN');
    for (const s of [...sockets, reg]) await s.close();
  });

  it('two gateway instances on one store both deliver, whichever instance took the write', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const nlOnSecond = workflow(second, 'NL', 'P-AF-HOPE');
    const after = await now(nl.state);
    const onFirst = wsClient(gw, nl.state.token);
    const onSecond = wsClient(second, second.token('NL', 'caseworker'));
    const first = onFirst.subscribe(MY_FEED, { after });
    const other = onSecond.subscribe(MY_FEED, { after });
    const a = await nl.create();
    const b = await nlOnSecond.create();
    for (const feed of [first, other]) {
      await feed.until((r) => [a.id, b.id].every((id) => changes(r).some((c) => c.aggregateId === id)));
      expect(changes(feed.received).map((c) => c.aggregateId)).toEqual([a.id, b.id]);
    }
    await onFirst.close();
    await onSecond.close();
  });

  it('caseEvents streams one case, and another organisation’s case is NOT_FOUND', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const c = await nl.create();
    const other = await nl.create();
    const socket = wsClient(gw, nl.state.token);
    const after = await now(nl.state);
    const events = socket.subscribe(
      'subscription ($id: ID!, $after: Cursor) { caseEvents(caseId: $id, after: $after) { aggregateId type version } }',
      {
        id: c.id,
        after,
      },
    );
    await nl.refer(other);
    const referred = await nl.refer(c);
    await events.until((r) => r.length >= 1);
    expect(events.received.map((r) => r.data)).toEqual([
      { caseEvents: { aggregateId: c.id, type: 'CaseReferred', version: referred.version } },
    ]);
    await socket.close();

    const sweden = wsClient(gw, gw.token('SE', 'caseworker'));
    const refused = sweden.subscribe('subscription ($id: ID!) { caseEvents(caseId: $id) { type } }', { id: c.id });
    await refused.until(() => refused.received.length > 0 || refused.failed.length > 0).catch(() => undefined);
    const answer = JSON.stringify([...refused.received, ...refused.failed]);
    expect(answer).toContain('NOT_FOUND');
    expect(answer).not.toContain(c.reference);
    expect(refused.received.every((r) => !r.data)).toBe(true);
    await sweden.close();
  });

  it('a subscription resumes from a cursor without losing an event', async () => {
    const nl = workflow(gw, 'NL', 'P-AF-HOPE');
    const before = await now(nl.state);
    const written = [await nl.create(), await nl.create(), await nl.create()];
    const socket = wsClient(gw, nl.state.token);
    const feed = socket.subscribe(MY_FEED, { after: before });
    await feed.until((r) => r.length >= 3);
    expect(changes(feed.received).map((c) => c.aggregateId)).toEqual(written.map((c) => c.id));
    // A cursor past the end of the log was given by no page or event: refused, not waited beyond.
    const past = socket.subscribe(MY_FEED, { after: encodeCursor((await gw.services.log.lastSeq()) + 5) });
    await past.until(() => past.received.length + past.failed.length > 0).catch(() => undefined);
    expect(JSON.stringify([...past.received, ...past.failed])).toContain('BAD_USER_INPUT');
    expect(past.received.every((r) => !r.data)).toBe(true);
    await socket.close();
  });

  it('a token that does not verify closes the connection; without one every subscription is UNAUTHENTICATED', async () => {
    const forged = wsClient(gw, `${gw.token('NL', 'caseworker').slice(0, -4)}AAAA`);
    const sub = forged.subscribe(MY_FEED);
    await sub.until(() => forged.closes.length > 0 || sub.failed.length > 0).catch(() => undefined);
    expect(forged.closes[0]?.code).toBe(4403);
    await forged.close();

    const anonymous = wsClient(gw, undefined);
    const none = anonymous.subscribe(MY_FEED);
    await none.until((r) => r.length > 0).catch(() => undefined);
    expect(JSON.stringify([...none.received, ...none.failed])).toContain('UNAUTHENTICATED');
    await anonymous.close();
  });

  it('a connection holds a limited number of subscriptions, and serves no queries', async () => {
    const socket = wsClient(gw, gw.token('NL', 'caseworker'));
    const open = [socket.subscribe(MY_FEED), socket.subscribe(MY_FEED), socket.subscribe(MY_FEED)];
    const fourth = socket.subscribe(MY_FEED);
    await fourth.until(() => fourth.failed.length > 0).catch(() => undefined);
    expect(fourth.failed[0]?.extensions?.code).toBe('RATE_LIMITED');
    for (const s of open) s.stop();
    await socket.close();

    const other = wsClient(gw, gw.token('NL', 'caseworker'));
    const query = other.subscribe('{ ping }');
    await query.until(() => query.failed.length > 0).catch(() => undefined);
    expect(query.failed[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    await other.close();
  });

  it('one user holds a limited number of connections; another user is not affected, and a closed one frees its place', async () => {
    const token = gw.token('NL', 'caseworker', { subject: 'many-tabs' });
    const sockets = Array.from({ length: 3 }, () => wsClient(gw, token));
    const subs = sockets.map((s) => s.subscribe(MY_FEED));
    // Let the three connect (lazy clients connect on their first subscription).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(subs.flatMap((s) => s.failed)).toEqual([]);
    const extra = wsClient(gw, token);
    const refused = extra.subscribe(MY_FEED);
    await refused.until(() => extra.closes.length > 0 || refused.failed.length > 0).catch(() => undefined);
    expect(extra.closes[0]?.code).toBe(4403);
    await extra.close();

    const colleague = wsClient(gw, gw.token('NL', 'caseworker', { subject: 'colleague' }));
    const fine = colleague.subscribe(MY_FEED);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(colleague.closes).toEqual([]);
    expect(fine.failed).toEqual([]);
    await colleague.close();

    await sockets[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = wsClient(gw, token);
    const accepted = again.subscribe(MY_FEED);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(again.closes).toEqual([]);
    expect(accepted.failed).toEqual([]);
    await again.close();
    for (const s of sockets.slice(1)) await s.close();
  });
});
