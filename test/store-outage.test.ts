// When the store goes away, readiness turns 503 and GraphQL answers STORE_UNAVAILABLE
// within seconds, without a crash; when it comes back, everything recovers without
// restarting the gateway. Both for the embedded store (the gateway restarts it) and for
// a server behind MONGODB_URI (someone else restarts it).
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { EmbeddedStore } from '../src/store/embedded.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { embeddedStoreAvailable } from './helpers/embedded.ts';

const ORGS = '{ organisations(kind: MEMBER_STATE) { code } }';

async function waitFor<T>(what: string, probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const started = Date.now();
  let last: T | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await probe();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}

const readyStatus = (gw: TestGateway) => async () => (await fetch(`${gw.url}/readyz`)).status;

async function expectOutageAndRecovery(gw: TestGateway, stop: () => Promise<void> | void, restart: () => Promise<void>) {
  const nl = gw.as('NL', 'caseworker');
  expect((await nl.ok<{ organisations: unknown[] }>(ORGS)).organisations).toHaveLength(7);
  expect(await readyStatus(gw)()).toBe(200);

  const down = Date.now();
  await stop();
  await waitFor('readyz 503', readyStatus(gw), (s) => s === 503, 10_000);
  const failed = await nl.gql(ORGS);
  expect(codes(failed)).toEqual(['STORE_UNAVAILABLE']);
  expect(Date.now() - down).toBeLessThan(15_000);
  // The gateway itself stays up.
  expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);

  await restart();
  await waitFor('readyz 200', readyStatus(gw), (s) => s === 200);
  const back = await waitFor(
    'queries to work again',
    () => nl.gql<{ organisations: unknown[] }>(ORGS),
    (r) => !r.errors,
  );
  expect(back.data?.organisations).toHaveLength(7);
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  cleanup = [];
});

describe.skipIf(!embeddedStoreAvailable)('store outage', () => {
  it('the embedded store is killed: 503 and STORE_UNAVAILABLE, then the gateway restarts it and recovers', async () => {
    const dir = mkdtempSync(path.join(inject('dataDir'), 'outage-embedded-'));
    // A slow restart, so the outage lasts long enough to observe.
    const embedded = await EmbeddedStore.start({ dataDir: dir, restartDelayMs: 4000 });
    cleanup.push(() => embedded.stop());
    const gw = await startGateway({ mongoUri: embedded.uri });
    cleanup.push(() => gw.close());
    const pid = embedded.pid;
    await expectOutageAndRecovery(
      gw,
      () => embedded.kill('SIGKILL'),
      async () => {
        await waitFor(
          'the supervisor to restart the store',
          async () => embedded.pid,
          (p) => p !== undefined && p !== pid,
        );
      },
    );
    expect(embedded.restarts).toBe(1);
  });

  it('the server behind MONGODB_URI stops: 503 and STORE_UNAVAILABLE, then it is restarted and the gateway recovers', async () => {
    const dir = mkdtempSync(path.join(inject('dataDir'), 'outage-external-'));
    let server = await EmbeddedStore.start({ dataDir: dir, supervise: false });
    const address = new URL(server.uri).host;
    cleanup.push(() => server.stop());
    const gw = await startGateway({ mongoUri: server.uri });
    cleanup.push(() => gw.close());
    await expectOutageAndRecovery(
      gw,
      () => server.stop(),
      async () => {
        server = await EmbeddedStore.start({ dataDir: dir, supervise: false, listen: address });
      },
    );
  });
});
