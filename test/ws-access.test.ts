// Sessions end when access ends: a WebSocket subscription of an organisation that is
// deactivated, or whose token expires, is closed within seconds (with a close code that says
// why), and a new connection with that token is refused. Through the real endpoint, with the
// real admin mutation, on the default check interval.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { wsClient } from './helpers/ws.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ env: { ERIN_FEED_POLL_INTERVAL: '50ms' } });
});
afterAll(async () => {
  await gw?.close();
});

const MY_FEED = `subscription { myFeed { cursor type } }`;

/** Waits until the socket has closed, for at most `ms`; returns how long it took. */
async function closedWithin(socket: ReturnType<typeof wsClient>, ms: number): Promise<number> {
  const start = Date.now();
  while (socket.closes.length === 0) {
    if (Date.now() - start > ms) throw new Error(`still open after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - start;
}

/** A new connection with this token: it is closed before it can subscribe (4403, forbidden). */
async function refused(token: string): Promise<{ code: number; reason: string }> {
  const socket = wsClient(gw, token);
  const sub = socket.subscribe(MY_FEED);
  await closedWithin(socket, 5000);
  expect(sub.received).toEqual([]);
  await socket.close();
  return socket.closes[0]!;
}

/** Opens a connection with a live subscription (it is acknowledged and the feed is running). */
async function subscribed(token: string) {
  const socket = wsClient(gw, token);
  const sub = socket.subscribe(MY_FEED);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(socket.closes).toEqual([]);
  expect(sub.failed).toEqual([]);
  return socket;
}

describe('WebSocket sessions end when access ends', () => {
  it('deactivating an organisation closes its open subscriptions within seconds, and refuses new ones; others stay', async () => {
    const partner = await subscribed(gw.token('P-ET-HORN', 'partner-officer'));
    const other = await subscribed(gw.token('P-AF-HOPE', 'partner-officer'));
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { organisation } = await admin.ok<{ organisation: { version: number } }>(
      '{ organisation(code: "P-ET-HORN") { version } }',
    );
    const deactivated = await admin.ok<{ updateOrganisation: { active: boolean } }>(
      'mutation ($v: Int!) { updateOrganisation(code: "P-ET-HORN", input: { active: false }, expectedVersion: $v) { active } }',
      { v: organisation.version },
    );
    expect(deactivated.updateOrganisation.active).toBe(false);

    // The default check interval (ERIN_WS_RECHECK_INTERVAL, 3 s) plus a margin.
    expect(await closedWithin(partner, 5000)).toBeLessThan(5000);
    expect(partner.closes[0]).toEqual({ code: 4403, reason: 'Organisation deactivated' });
    expect(other.closes).toEqual([]);
    expect(await refused(gw.token('P-ET-HORN', 'partner-officer'))).toMatchObject({ code: 4403 });
    await partner.close();
    await other.close();
  });

  it('a token that expires closes its connection when it expires, and is refused afterwards', async () => {
    const token = gw.token('NL', 'caseworker', { ttlSeconds: 3 });
    const socket = await subscribed(token);
    expect(await closedWithin(socket, 6000)).toBeLessThan(6000);
    expect(socket.closes[0]).toEqual({ code: 4401, reason: 'Token expired' });
    await socket.close();
    expect(await refused(token)).toMatchObject({ code: 4403 });
    // A fresh token of the same user is served.
    const fresh = await subscribed(gw.token('NL', 'caseworker'));
    await fresh.close();
  });

  it('deactivating a member state cuts its units off too: their subscriptions close, their tokens are refused', async () => {
    const unit = await subscribed(gw.token('NL-GEM-UTRECHT', 'municipal-officer'));
    const other = await subscribed(gw.token('P-AF-HOPE', 'partner-officer'));
    const admin = gw.as('ERIN-NET', 'network-admin');
    const { organisation } = await admin.ok<{ organisation: { version: number } }>('{ organisation(code: "NL") { version } }');
    await admin.ok(
      'mutation ($v: Int!) { updateOrganisation(code: "NL", input: { active: false }, expectedVersion: $v) { active } }',
      {
        v: organisation.version,
      },
    );

    expect(await closedWithin(unit, 5000)).toBeLessThan(5000);
    expect(unit.closes[0]).toEqual({ code: 4403, reason: 'Organisation deactivated' });
    expect(other.closes).toEqual([]);
    expect(await refused(gw.token('IOM-NL', 'return-counsellor'))).toMatchObject({ code: 4403 });
    for (const [code, role] of [
      ['NL-GEM-UTRECHT', 'municipal-officer'],
      ['NL-POLITIE', 'agency-officer'],
      ['IOM-NL', 'return-counsellor'],
    ] as const)
      expect(codes(await gw.as(code, role).gql('{ cases(first: 1) { totalCount } }')), code).toEqual(['UNAUTHENTICATED']);
    await unit.close();
    await other.close();
  });
});
