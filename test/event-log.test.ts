// The log's promise to feed readers: appends from several writers on two gateway
// instances (single events and batches of audited reads) stay gap-free and chained, and a
// reader paging by cursor meanwhile never skips an event that a later page would show.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import { verifyChain } from '../src/events/log.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

let one: TestGateway;
let two: TestGateway;
beforeAll(async () => {
  const key = Buffer.alloc(32, 9).toString('base64');
  // Blocks of a few events, so pages cross sealed segments that either instance may have sealed.
  one = await startGateway({ env: { ERIN_ENCRYPTION_KEY: key, ERIN_FEED_BLOCK_SIZE: '25' } });
  two = await startGateway({ dbName: one.dbName, seed: false, env: { ERIN_ENCRYPTION_KEY: key, ERIN_FEED_BLOCK_SIZE: '25' } });
});
afterAll(async () => {
  await two?.close({ keepData: true });
  await one?.close();
});

type Page = {
  changes: { changes: { cursor: string; aggregateId: string; version: number }[]; endCursor: string; hasMore: boolean };
};
const PAGE = `query ($after: Cursor) { changes(after: $after, first: 13) { changes { cursor aggregateId version } endCursor hasMore } }`;

describe('event log under concurrent writers', () => {
  it('a reader paging by cursor on either instance sees every change exactly once, in log order', async () => {
    const flows = [workflow(one, 'NL', 'P-AF-HOPE'), workflow(two, 'NL', 'P-AF-HOPE')];
    const readers = [one.as('NL', 'caseworker'), two.as('NL', 'caseworker')];
    const seen: string[][] = [[], []];
    const cursors: (string | null)[] = [null, null];
    let writing = true;
    const read = async (i: number) => {
      const r = await readers[i]!.ok<Page>(PAGE, { after: cursors[i] });
      seen[i]!.push(...r.changes.changes.map((c) => c.cursor));
      cursors[i] = r.changes.endCursor;
      return r.changes.hasMore;
    };
    const following = [0, 1].map(async (i) => {
      while (writing) await read(i);
    });
    const vulnerable = { vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: false, medicalNeeds: true } };
    const writers = Array.from({ length: 24 }, async (_, i) => {
      const flow = flows[i % 2]!;
      const c = await flow.refer(await flow.create(vulnerable));
      // Audited reads append batches on both instances at once.
      await flow.state.ok('{ cases(first: 20) { edges { node { vulnerability { medicalNeeds } } } } }');
      await flow.accept(c);
    });
    await Promise.all(writers);
    writing = false;
    await Promise.all(following);
    for (const i of [0, 1]) while (await read(i));

    const everything: string[] = [];
    let after: string | null = null;
    for (let more = true; more;) {
      const r: Page = await readers[0]!.ok<Page>(PAGE, { after });
      everything.push(...r.changes.changes.map((c) => c.cursor));
      after = r.changes.endCursor;
      more = r.changes.hasMore;
    }
    expect(everything.length).toBeGreaterThan(24 * 3);
    expect(seen[0]).toEqual(everything);
    expect(seen[1]).toEqual(everything);

    const log = await one.services.log.page(0, 100_000);
    expect(log.map((e) => e._id)).toEqual(log.map((_, i) => i + 1));
    expect(log.filter((e) => e.type === 'PersonalDataRead').length).toBeGreaterThan(24);
    expect((await verifyChain(one.services.log)).broken).toBeUndefined();
  });

  it('batches appended on both instances at once interleave without a gap, a duplicate or a broken link', async () => {
    const before = await one.services.log.lastSeq();
    const fact = () => ({
      aggregateType: 'test',
      aggregateId: randomUUID(),
      version: 1,
      type: 'TestFact',
      audience: ['audit:SYSTEM'],
      data: {},
      changes: [],
    });
    const batches = Array.from({ length: 40 }, (_, i) =>
      (i % 2 === 0 ? one : two).services.executor.recordFacts(SYSTEM_PRINCIPAL, Array.from({ length: 7 }, fact)),
    );
    const appended = (await Promise.all(batches)).flat();
    expect(appended).toHaveLength(280);
    const log = await one.services.log.page(before, 100_000);
    expect(log.map((e) => e._id)).toEqual(Array.from({ length: 280 }, (_, i) => before + i + 1));
    expect(new Set(appended.map((e) => e._id)).size).toBe(280);
    expect((await verifyChain(one.services.log)).broken).toBeUndefined();
  });
});
