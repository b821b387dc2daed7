// The gateway's memory of the list entries (case.list-index.ts) answers every list query as
// the store does: the same query (filters, cursor position, the caller's scope), evaluated
// in memory and by the store, gives the same entries in the same order and the same count,
// for generated principals, filters, orders and cursors. Then: the index follows writes the
// store's entries do not show yet, and never goes back to an older version.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrganisationKind, Principal } from '../src/auth/principal.ts';
import { fromIndex, listCases, listQuery, scoped, type CaseListArgs } from '../src/modules/cases/case.list.ts';
import type { CaseListEntry } from '../src/modules/cases/case.list-entry.ts';
import { seedBulkCases } from '../src/seed/bulk.ts';
import { op } from '../src/store/tenant.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

let gw: TestGateway;
let stored: CaseListEntry[];

beforeAll(async () => {
  gw = await startGateway();
  await seedBulkCases(gw.services, 150, { batchSize: 50 });
  // Cases written through the API too: drafts (not shared with the partner) and referred ones.
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  for (let i = 0; i < 3; i += 1) await flow.create();
  await flow.arrived();
  stored = await (await gw.raw()).collection<CaseListEntry>('case_list').find({}).toArray();
}, 240_000);
afterAll(async () => {
  await gw?.close();
});

const principal = (code: string, kind: OrganisationKind, memberState?: string): Principal => ({
  subject: 't',
  issuer: 't',
  organisation: { code, kind, name: code, ...(memberState ? { memberState } : {}) },
  roles: [],
});

const distinct = (values: (string | null | undefined)[]) => [...new Set(values.filter((v): v is string => Boolean(v)))].sort();

describe('the list index', () => {
  it('answers every list query as the store does (generated principals, filters, orders, cursors)', async () => {
    const states = distinct(stored.map((e) => e.memberState));
    const partners = distinct(stored.map((e) => e.partner));
    const statuses = distinct(stored.map((e) => e.status));
    const countries = distinct(stored.map((e) => e.originCountry));
    const programmes = distinct(stored.map((e) => e.programme));
    const references = distinct(stored.map((e) => e.reference));
    const updated = stored.map((e) => e.updatedAt.toISOString()).sort();
    expect(stored.length).toBeGreaterThan(150);
    expect(partners.length).toBeGreaterThan(1);

    const who = fc.oneof(
      fc.constantFrom(...states).map((code) => principal(code, 'MEMBER_STATE')),
      fc.constantFrom(...partners, 'P-NOBODY').map((code) => principal(code, 'PARTNER')),
      fc.constantFrom(...states).map((state) => principal('IO-UNIT', 'IMPLEMENTING_ORGANISATION', state)),
      fc.constant(principal('REG', 'EXPERTS_GROUP')),
    );
    const filter = fc.record(
      {
        status: fc.subarray(statuses, { minLength: 1 }),
        originCountry: fc.constantFrom(...countries),
        partner: fc.constantFrom(...partners),
        memberState: fc.constantFrom(...states),
        programme: fc.constantFrom(...programmes),
        updatedSince: fc.constantFrom(...updated),
        // A prefix of a reference, with its member state or without it.
        reference: fc
          .tuple(fc.constantFrom(...references), fc.integer({ min: 4, max: 14 }), fc.boolean())
          .map(([ref, length, withState]) => (withState ? ref.slice(0, length) : ref.slice(3, 3 + length))),
      },
      { requiredKeys: [] },
    );
    const args = fc.record({
      filter,
      first: fc.integer({ min: 1, max: 40 }),
      orderBy: fc.constantFrom('UPDATED_DESC', 'UPDATED_ASC', 'CREATED_DESC', 'REFERENCE_ASC' as const),
      pages: fc.integer({ min: 1, max: 3 }),
    });

    const memberStates = async () => states;
    const entries = (await gw.raw()).collection<CaseListEntry>('case_list');
    await fc.assert(
      fc.asyncProperty(who, args, async (p, { filter: f, first, orderBy, pages }) => {
        let after: string | null = null;
        for (let page = 0; page < pages; page += 1) {
          const request = { filter: f, first, orderBy, after } as CaseListArgs;
          const q = await listQuery(p, request, memberStates);
          const fromMemory = fromIndex(gw.services.caseStore.listIndex, q);
          // The store's answer, asked directly (not through the gateway's connection: these
          // are a reference, not queries the gateway sends, so the index-coverage check skips them).
          const disk = await entries
            .find(scoped(q.scope, q.position ? { $and: [q.filter, q.position] } : q.filter))
            .sort(q.sort)
            .limit(q.limit)
            .toArray();
          const memory = await fromMemory.entries;
          expect(memory.map((e) => e._id)).toEqual(disk.map((e) => e._id));
          expect(await fromMemory.count()).toBe(await entries.countDocuments(scoped(q.scope, q.filter)));
          // The next page from the list itself (its cursors are the ones clients get).
          const listed = await listCases(gw.services.caseStore, p, request, memberStates);
          expect(listed.edges.map((e) => e.node._id)).toEqual(memory.slice(0, first).map((e) => e._id));
          if (!listed.pageInfo.hasNextPage) break;
          after = listed.pageInfo.endCursor;
        }
      }),
      { numRuns: 60 },
    );
  }, 240_000);

  it('holds each case at its newest version, whichever came first: the store’s entry or the event', async () => {
    const index = gw.services.caseStore.listIndex;
    const entry = stored.find((e) => e.status === 'REFERRED') ?? stored[0]!;
    const listOf = async () => (await index.find({ _id: entry._id }, { updatedAt: -1 }, 1))[0];
    const current = await listOf();
    expect(current?.version).toBe(entry.version);
    // An older post-image read late (another gateway's follower, the load crossing the log) changes nothing.
    index.observe({
      changes: [{ collection: 'cases', doc: { ...entry, version: entry.version - 1, status: 'DRAFT' } }],
    } as never);
    expect(await listOf()).toMatchObject({ version: entry.version, status: entry.status });
    // A newer one replaces it, dates as the store gives them (the log may hold them as strings).
    const later = new Date(Date.now() + 60_000);
    index.observe({
      changes: [
        { collection: 'cases', doc: { ...entry, version: entry.version + 1, status: 'CLOSED', updatedAt: later.toISOString() } },
      ],
    } as never);
    const moved = await listOf();
    expect(moved).toMatchObject({ version: entry.version + 1, status: 'CLOSED' });
    expect(moved?.updatedAt).toEqual(later);
    // Given to another partner: found under the new one only (the index keeps entries by partner).
    index.observe({
      changes: [{ collection: 'cases', doc: { ...entry, version: entry.version + 2, partner: 'P-ELSEWHERE' } }],
    } as never);
    const under = async (partner: string) => (await index.find({ partner, _id: entry._id }, { updatedAt: -1 }, 5)).length;
    expect(await under(entry.partner!)).toBe(0);
    expect(await under('P-ELSEWHERE')).toBe(1);
    expect(await index.count({ partner: op({ $in: [entry.partner!, 'P-ELSEWHERE', 'P-ELSEWHERE'] }), _id: entry._id })).toBe(1);
  });
});
