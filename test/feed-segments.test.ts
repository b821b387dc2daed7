// The change feed reads sealed segments of the log (blocks of a few events here, so most of
// the log is sealed): every page is exactly what the feed rule lets its reader see, read
// with primary-key lookups only, on any gateway of the store, and a block a crash left
// half-sealed, or a log that was never sealed, is sealed again from the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { feedAudience, mayReadInFeed } from '../src/auth/policy.ts';
import type { OrganisationKind, Principal } from '../src/auth/principal.ts';
import { decodeCursor } from '../src/modules/feed/cursor.ts';
import { seedBulkCases } from '../src/seed/bulk.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

const BLOCK = 10;
let gw: TestGateway;
let raw: Db;

beforeAll(async () => {
  gw = await startGateway({ env: { ERIN_FEED_BLOCK_SIZE: String(BLOCK) } });
  raw = await gw.raw();
  // A mixed log: bulk cases of every member state and partner, and workflow steps in between.
  await seedBulkCases(gw.services, 60, { batchSize: 25 });
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 4; i += 1) await flow.accept(await flow.refer(await flow.create()));
  await seedBulkCases(gw.services, 160, { batchSize: 25 });
}, 120_000);
afterAll(async () => {
  await gw?.close();
});

type Page = { changes: { changes: { cursor: string; aggregateId: string }[]; endCursor: string; hasMore: boolean } };
const PAGE = `query ($after: Cursor, $first: Int) { changes(after: $after, first: $first) {
  changes { cursor aggregateId } endCursor hasMore } }`;

const principal = (code: string, kind: OrganisationKind): Principal => ({
  subject: 't',
  issuer: 't',
  organisation: { code, kind, name: code },
  roles: [],
});

/** What the feed rule lets an organisation read, straight from the events collection. */
async function expected(db: Db, who: Principal): Promise<number[]> {
  const events = await db.collection('events').find({}).sort({ _id: 1 }).toArray();
  return events
    .filter((e) => mayReadInFeed(who, { audience: e.audience as string[], caseId: e.caseId as string | null }))
    .map((e) => Number(e._id));
}

async function readAll(client: ReturnType<TestGateway['as']>, first: number): Promise<number[]> {
  const seqs: number[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Page = await client.ok(PAGE, { after, first });
    seqs.push(...page.changes.changes.map((c) => decodeCursor(c.cursor)!));
    after = page.changes.endCursor;
    if (!page.changes.hasMore) return seqs;
  }
}

const readers: [string, OrganisationKind, 'caseworker' | 'partner-officer' | 'network-admin'][] = [
  ['NL', 'MEMBER_STATE', 'caseworker'],
  ['P-AF-HOPE', 'PARTNER', 'partner-officer'],
  ['ERIN-NET', 'NETWORK', 'network-admin'],
];

describe('the change feed over sealed segments', () => {
  it('every organisation pages through exactly the events the feed rule lets it read, whatever the page size', async () => {
    const head = await gw.services.log.lastSeq();
    expect(head).toBeGreaterThan(15 * BLOCK);
    for (const [code, kind, role] of readers) {
      const want = await expected(raw, principal(code, kind));
      expect(want.length).toBeGreaterThan(0);
      for (const first of [3, 1000]) expect(await readAll(gw.as(code, role), first)).toEqual(want);
    }
  }, 120_000);

  it('sealed the log block by block, and a page is read by primary key only', async () => {
    const head = await gw.services.hub.catchUp();
    await gw.services.hub.idle();
    const seals = await raw.collection('feed_segments').countDocuments({ markers: { $exists: true } });
    expect(seals).toBe(Math.floor(head / BLOCK));
    const nl = gw.as('NL', 'caseworker');
    await nl.ok(PAGE, { first: 1 }); // the token's organisation is looked up once, and cached
    const before = gw.store.recorder.queries.length;
    const page = await nl.ok<Page>(PAGE, { first: 30 });
    const queries = gw.store.recorder.queries.slice(before);
    expect(page.changes.changes).toHaveLength(30);
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      expect(q.filterFields, `${q.collection}.${q.command}`).toEqual(['_id']);
      expect(q.equalityFields).toEqual(['_id']);
    }
    // A page of 30 of NL's events spans a few blocks: one lookup per block and audience marker (reading
    // ahead at most doubles the blocks), and a few to find the head of the log.
    const spanned = Math.ceil((decodeCursor(page.changes.endCursor)! + 1) / BLOCK);
    expect(queries.length).toBeLessThanOrEqual(2 * spanned * feedAudience(principal('NL', 'MEMBER_STATE')).length + 6);
  });

  it('another gateway reads the same pages, and seals again a block a crash left half-sealed and the blocks after it', async () => {
    const want = await expected(raw, principal('NL', 'MEMBER_STATE'));
    const segments = raw.collection('feed_segments');
    const seals = await segments
      .find({ markers: { $exists: true } })
      .sort({ _id: 1 })
      .toArray();
    // A crash while sealing a block (some of its segments written, its seal not), so the blocks after it were never sealed.
    const halfSealed = String(seals.at(-4)!._id);
    const unsealed = seals.slice(-3).map((s) => String(s._id));
    const [someSegment] = await segments.find({ _id: { $regex: `^${halfSealed}:` } as never }).toArray();
    await segments.deleteMany({ _id: { $in: [halfSealed, String(someSegment!._id), ...unsealed] as never[] } });
    await segments.deleteMany({ _id: { $regex: `^(${unsealed.join('|')}):` } as never });
    const second = await startGateway({ dbName: gw.dbName, seed: false, env: { ERIN_FEED_BLOCK_SIZE: String(BLOCK) } });
    try {
      expect(await readAll(second.as('NL', 'caseworker'), 13)).toEqual(want);
      for (const id of [halfSealed, String(someSegment!._id), ...unsealed]) {
        expect(await segments.countDocuments({ _id: id as never }), id).toBe(1);
      }
    } finally {
      await second.close({ keepData: true });
    }
    expect(await readAll(gw.as('NL', 'caseworker'), 1000)).toEqual(want);
  });
});
