// Under load and through a store crash: no acknowledged write is lost, a write retried with
// its idempotency key is applied once, no reader gets another tenant's data, and the log
// stays gap-free and chained.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { verifyChain } from '../src/events/log.ts';
import { EmbeddedStore } from '../src/store/embedded.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE } from './helpers/factories.ts';
import { embeddedStoreAvailable } from './helpers/embedded.ts';

let embedded: EmbeddedStore | undefined;
let gw: TestGateway | undefined;
afterAll(async () => {
  await gw?.close();
  await embedded?.stop();
});

describe.skipIf(!embeddedStoreAvailable)('writes through a store crash', () => {
  it('every acknowledged write survives, retries apply once, and nobody reads another tenant’s cases', async () => {
    const dir = mkdtempSync(path.join(inject('dataDir'), 'crash-'));
    embedded = await EmbeddedStore.start({ dataDir: dir, restartDelayMs: 1500 });
    gw = await startGateway({ mongoUri: embedded.uri });
    const g = gw;
    const writers = [
      { org: 'NL', partner: 'P-AF-HOPE', country: 'AF' },
      { org: 'SE', partner: 'P-ET-HORN', country: 'ET' },
    ];
    const acknowledged = new Map<string, { id: string; org: string }>(); // key → case
    const leaks: string[] = [];
    let stop = false;

    const writer = async ({ org, partner, country }: (typeof writers)[number], n: number) => {
      const client = g.as(org, 'caseworker');
      for (let i = 0; !stop; i += 1) {
        const key = `crash-${org}-${n}-${i}`;
        // A client on a bad link: retry the same request with the same key until it is answered.
        for (let attempt = 0; attempt < 120; attempt += 1) {
          const r = await client
            .gql<{ createCase: { id: string } }>(CREATE_CASE, { input: caseInput({ partner, originCountry: country }), key })
            .catch(() => undefined);
          if (r?.data?.createCase) {
            acknowledged.set(key, { id: r.data.createCase.id, org });
            break;
          }
          // Retryable: the store is away, the outcome is unknown, or this key's first attempt is still pending.
          const retryable =
            ['STORE_UNAVAILABLE', 'INTERNAL_SERVER_ERROR'].includes(codes(r ?? ({ errors: undefined } as never))[0] ?? '') ||
            r?.errors?.[0]?.extensions.reason === 'REQUEST_IN_PROGRESS';
          if (r && !retryable) throw new Error(JSON.stringify(r.errors));
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    };
    const reader = async (org: string) => {
      const client = g.as(org, 'caseworker');
      while (!stop) {
        const r = await client
          .gql<{ cases: { edges: { node: { memberState: { code: string } } }[] } }>(
            '{ cases(first: 50) { edges { node { memberState { code } } } } }',
          )
          .catch(() => undefined);
        for (const e of r?.data?.cases.edges ?? [])
          if (e.node.memberState.code !== org) leaks.push(`${org} read a case of ${e.node.memberState.code}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    const running = [...writers.flatMap((w) => [writer(w, 1), writer(w, 2)]), reader('NL'), reader('SE')];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    embedded.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    stop = true;
    await Promise.all(running);

    expect(embedded.restarts).toBe(1);
    expect(leaks).toEqual([]);
    expect(acknowledged.size).toBeGreaterThan(10);
    // Every acknowledged case is there, for its own state, exactly once per key.
    for (const org of ['NL', 'SE']) {
      const mine = [...acknowledged.values()].filter((a) => a.org === org).map((a) => a.id);
      const listed: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: { cases: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } } =
          await g
            .as(org, 'caseworker')
            .ok(
              'query ($after: String) { cases(first: 100, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }',
              { after },
            );
        listed.push(...page.cases.edges.map((e) => e.node.id));
        if (!page.cases.pageInfo.hasNextPage) break;
        after = page.cases.pageInfo.endCursor;
      }
      const missing = mine.filter((id) => !listed.includes(id));
      if (missing.length) {
        const db = await g.raw();
        for (const id of missing) {
          const doc = await db.collection('cases').findOne({ _id: id as never });
          const events = await db.collection('events').find({ aggregateId: id }).toArray();
          const key = [...acknowledged.entries()].find(([, a]) => a.id === id)?.[0];
          const idem = await db.collection('idempotency').findOne({ _id: `${org}:${key}` as never });
          console.log(
            'MISSING',
            id,
            key,
            'doc:',
            JSON.stringify(doc)?.slice(0, 200),
            'events:',
            events.map((e) => [e._id, e.type, e.idempotencyKey]),
            'idem:',
            JSON.stringify(idem),
          );
        }
      }
      expect(listed.filter((id) => mine.includes(id)).sort()).toEqual([...mine].sort());
    }
    const created = (await g.services.log.page(0, 100_000)).filter((e) => e.type === 'CaseCreated');
    const keys = created.map((e) => e.idempotencyKey).filter((k): k is string => Boolean(k));
    expect(new Set(keys).size).toBe(keys.length);
    const chain = await verifyChain(g.services.log);
    expect(chain.broken).toBeUndefined();
  }, 120_000);
});
