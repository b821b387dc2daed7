// Lists of cases: every order paged through with cursors, every filter, scope, and the list
// entries (case.list-entry.ts) kept in step with the cases — through this gateway's writes,
// another gateway's writes on the same store, a store whose cases have no entries yet, and
// an entry lost between a case's projection and its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow, type CaseView } from './helpers/factories.ts';

type Node = {
  id: string;
  reference: string;
  status: string;
  version: number;
  originCountry: string;
  createdAt: string;
  updatedAt: string;
  programme: { code: string };
  partner: { code: string } | null;
  plan: { planVersion: number; summary: string | null } | null;
};
type Page = {
  cases: {
    totalCount: number;
    edges: { cursor: string; node: Node }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
  };
};

const LIST = `query ($first: Int, $after: String, $filter: CaseFilter, $orderBy: CaseOrder) {
  cases(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id reference status version originCountry createdAt updatedAt programme { code } partner { code } plan { planVersion summary } } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}`;

type Client = ReturnType<TestGateway['as']>;

/** Every case of a list, page by page (`first` at a time), checking each page's links. */
async function all(client: Client, variables: Record<string, unknown>, first = 2): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const { cases }: Page = await client.ok<Page>(LIST, { ...variables, first, after });
    expect(cases.pageInfo.hasPreviousPage).toBe(after !== null);
    expect(cases.edges.length).toBeLessThanOrEqual(first);
    nodes.push(...cases.edges.map((e) => e.node));
    if (!cases.pageInfo.hasNextPage) return nodes;
    expect(cases.edges).toHaveLength(first);
    after = cases.pageInfo.endCursor;
  }
  throw new Error('too many pages');
}

let gw: TestGateway;
let other: TestGateway;
let nl: ReturnType<typeof workflow>;
let iq: ReturnType<typeof workflow>;
/** NL's cases: AF ones for P-AF-HOPE (four referred, two drafts), IQ ones for P-IQ-TIGRIS. */
const af: CaseView[] = [];
const drafts: CaseView[] = [];
const iraq: CaseView[] = [];

beforeAll(async () => {
  gw = await startGateway();
  // A second gateway on the same store (as behind a load balancer): its writes reach the
  // first one's lists only through the store.
  other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
  nl = workflow(gw, 'NL', 'P-AF-HOPE');
  iq = workflow(gw, 'NL', 'P-IQ-TIGRIS');
  for (let i = 0; i < 4; i += 1) af.push(await nl.refer(await nl.create()));
  for (let i = 0; i < 2; i += 1) drafts.push(await nl.create());
  for (let i = 0; i < 3; i += 1) iraq.push(await iq.refer(await iq.create({ originCountry: 'IQ', programme: 'NL-AVRR' })));
  // Another member state's case for the same partner.
  await workflow(gw, 'BE', 'P-AF-HOPE').create();
}, 120_000);

afterAll(async () => {
  await other?.close({ keepData: true });
  await gw?.close();
});

describe('orders and cursors', () => {
  const orders = {
    UPDATED_DESC: (a: Node, b: Node) => b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id),
    UPDATED_ASC: (a: Node, b: Node) => a.updatedAt.localeCompare(b.updatedAt) || a.id.localeCompare(b.id),
    CREATED_DESC: (a: Node, b: Node) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
    REFERENCE_ASC: (a: Node, b: Node) => a.reference.localeCompare(b.reference),
  } as const;

  it('every order pages through each of the caller’s cases once, in order, with a count of them all', async () => {
    const mine = [...af, ...drafts, ...iraq].map((c) => c.id).sort();
    for (const [orderBy, compare] of Object.entries(orders)) {
      const nodes = await all(nl.state, { orderBy });
      expect(nodes.map((n) => n.id).sort(), orderBy).toEqual(mine);
      expect(nodes, orderBy).toEqual([...nodes].sort(compare));
      const { cases } = await nl.state.ok<Page>(LIST, { orderBy, first: 1 });
      expect(cases.totalCount).toBe(mine.length);
    }
  }, 60_000);

  it('refuses a cursor of another order, and anything that is not a cursor', async () => {
    const { cases } = await nl.state.ok<Page>(LIST, { first: 1, orderBy: 'REFERENCE_ASC' });
    const wrongOrder = await nl.state.gql(LIST, { first: 1, orderBy: 'CREATED_DESC', after: cases.pageInfo.endCursor });
    expect(codes(wrongOrder)).toEqual(['BAD_USER_INPUT']);
    for (const after of ['not-a-cursor', Buffer.from('["UPDATED_DESC",1,2]').toString('base64url'), 'x'.repeat(5000)]) {
      expect(codes(await nl.state.gql(LIST, { first: 1, after }))).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('filters', () => {
  it('status, country, partner, programme and reference narrow the list; pages and counts follow', async () => {
    const ids = (nodes: Node[]) => nodes.map((n) => n.id).sort();
    const idsOf = (cases: CaseView[]) => cases.map((c) => c.id).sort();
    expect(ids(await all(nl.state, { filter: { status: ['DRAFT'] } }))).toEqual(idsOf(drafts));
    expect(ids(await all(nl.state, { filter: { originCountry: 'IQ' } }))).toEqual(idsOf(iraq));
    expect(ids(await all(nl.state, { filter: { partner: 'P-IQ-TIGRIS' } }))).toEqual(idsOf(iraq));
    expect(ids(await all(nl.state, { filter: { programme: 'NL-AVRR' } }))).toEqual(idsOf(iraq));
    expect(ids(await all(nl.state, { filter: { status: ['REFERRED'], partner: 'P-AF-HOPE' } }, 3))).toEqual(idsOf(af));
    const { cases } = await nl.state.ok<Page>(LIST, { filter: { status: ['REFERRED'] }, first: 1 });
    expect(cases.totalCount).toBe(af.length + iraq.length);

    // A reference: as a prefix (the whole of it) and as any part of it.
    const target = af[2]!;
    expect(ids(await all(nl.state, { filter: { reference: target.reference } }))).toEqual([target.id]);
    expect(ids(await all(nl.state, { filter: { reference: target.reference.slice(3).toLowerCase() } }))).toContain(target.id);

    // Changed since an instant: only what changed after it.
    const since = new Date().toISOString();
    const touched = await nl.accept(af[0]!);
    af[0] = touched;
    expect(ids(await all(nl.state, { filter: { updatedSince: since } }))).toEqual([touched.id]);
  });

  it('refuses malformed filters', async () => {
    for (const filter of [
      { originCountry: 'Afghanistan' },
      { reference: 'NL 2026' },
      { reference: 'x'.repeat(41) },
      { partner: '$ne' },
    ]) {
      expect(codes(await nl.state.gql(LIST, { filter })), JSON.stringify(filter)).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('scope', () => {
  it('a partner lists the cases referred to it, from every member state that referred them, and nothing else', async () => {
    const nodes = await all(nl.officer, {}, 3);
    expect(nodes.map((n) => n.id).sort()).toEqual(af.map((c) => c.id).sort());
    expect(nodes.every((n) => n.partner?.code === 'P-AF-HOPE')).toBe(true);
    // Naming another organisation in a filter does not widen the scope.
    expect(await all(nl.officer, { filter: { partner: 'P-IQ-TIGRIS' } })).toEqual([]);
    expect(await all(nl.officer, { filter: { status: ['DRAFT'] } })).toEqual([]);
    expect(await all(gw.as('BE', 'caseworker'), { filter: { memberState: 'NL' } })).toEqual([]);
    const { cases } = await nl.officer.ok<Page>(LIST, { first: 1 });
    expect(cases.totalCount).toBe(af.length);
    for (const outsider of [gw.as('EMN-REG', 'reg-analyst'), gw.as('ERIN-NET', 'network-admin')]) {
      const r = await outsider.gql<Page>(LIST, { first: 5 });
      expect(r.data?.cases.edges ?? []).toEqual([]);
    }
  });
});

describe('list entries in step with the cases', () => {
  it('a write moves its case to where the list now puts it, at its new version', async () => {
    const before = await nl.state.ok<Page>(LIST, { first: 1, filter: { status: ['REFERRED'], partner: 'P-AF-HOPE' } });
    const moved = await nl.accept(af[1]!);
    af[1] = moved;
    const { cases } = await nl.state.ok<Page>(LIST, { first: 1 });
    expect(cases.edges[0]!.node).toMatchObject({ id: moved.id, status: 'ACCEPTED', version: moved.version });
    const referred = await all(nl.state, { filter: { status: ['REFERRED'], partner: 'P-AF-HOPE' } });
    expect(referred.map((n) => n.id)).not.toContain(moved.id);
    expect(before.cases.totalCount - 1).toBe(referred.length);
  });

  it('a case and its plan changed through another gateway show as they are now in this one’s lists', async () => {
    const c = await nl.arrive(af[0]!);
    const drafted = await nl.draft(c, { summary: 'First draft', components: [trainingComponent()] });
    const page = async () => (await nl.officer.ok<Page>(LIST, { first: 1 })).cases.edges[0]!.node;
    expect(await page()).toMatchObject({ id: c.id, version: drafted.version, plan: { planVersion: 1, summary: 'First draft' } });
    // The other gateway saves the draft again and submits it.
    const officer = other.as('P-AF-HOPE', 'partner-officer');
    const saved = await officer.ok<{ saveDraftPlan: { version: number } }>(
      `mutation ($id: ID!, $p: PlanInput!, $v: Int!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { version } }`,
      { id: c.id, p: { summary: 'Second draft', components: [trainingComponent(90000)] }, v: drafted.version },
    );
    const submitted = await officer.ok<{ submitPlan: { version: number; status: string } }>(
      `mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { version status } }`,
      { id: c.id, v: saved.saveDraftPlan.version },
    );
    expect(await page()).toMatchObject({
      id: c.id,
      status: submitted.submitPlan.status,
      version: submitted.submitPlan.version,
      plan: { planVersion: 1, summary: 'Second draft' },
    });
  });

  it('a store whose cases have no entries yet gets them once, and a lost entry comes back with its case’s next write', async () => {
    // The store's entries are what a gateway's list index loads at its first page (lists
    // then follow the log), so they are checked in the store itself.
    const db = await gw.raw();
    const entries = db.collection<{ _id: string; version: number; status: string }>('case_list');
    const stored = async () => (await entries.find({}).toArray()).map((e) => e._id).sort();
    const everyone = [...af, ...drafts, ...iraq].map((c) => c.id).sort();
    await entries.deleteMany({});
    expect(await stored()).toEqual([]);
    expect(await gw.services.caseStore.backfillEntries()).toBeGreaterThanOrEqual(everyone.length);
    expect((await stored()).filter((id) => everyone.includes(id))).toEqual(everyone);
    // Once per store: a marker records it.
    expect(await gw.services.caseStore.backfillEntries()).toBe(0);

    // Entries written before entries had a deadline (the work list's) get the case's, once.
    const cases = db.collection<{ _id: string; nextDeadlineAt: Date | null }>('cases');
    const withDeadline = await cases.findOne({ _id: { $in: everyone }, nextDeadlineAt: { $ne: null } });
    expect(withDeadline?.nextDeadlineAt).toBeInstanceOf(Date);
    await entries.updateMany({}, { $unset: { nextDeadlineAt: '' } });
    await db.collection('migrations').deleteOne({ _id: 'case-list-deadlines' as never });
    expect(await gw.services.caseStore.backfillEntries()).toBeGreaterThanOrEqual(everyone.length);
    expect(await entries.findOne({ _id: withDeadline!._id })).toMatchObject({ nextDeadlineAt: withDeadline!.nextDeadlineAt });
    expect(await entries.countDocuments({ nextDeadlineAt: { $exists: false } })).toBe(0);
    expect(await gw.services.caseStore.backfillEntries()).toBe(0);

    // An entry lost (a projection cut short between the case and its entry), and one left behind.
    const lost = drafts[0]!;
    const behind = iraq[0]!;
    await entries.deleteOne({ _id: lost.id });
    await entries.updateOne({ _id: behind.id }, { $set: { version: 0, status: 'DRAFT' } });
    drafts[0] = await nl.refer(lost);
    iraq[0] = await iq.accept(behind);
    expect(await entries.findOne({ _id: lost.id })).toMatchObject({ status: 'REFERRED', version: drafts[0].version });
    expect(await entries.findOne({ _id: behind.id })).toMatchObject({ status: 'ACCEPTED', version: iraq[0].version });
    // Lists (from the gateway's memory of the entries, kept by the log) show both as they are.
    const listed = await all(nl.state, { filter: { status: ['REFERRED', 'ACCEPTED'] } }, 5);
    expect(listed.find((n) => n.id === lost.id)).toMatchObject({ status: 'REFERRED', version: drafts[0].version });
    expect(listed.find((n) => n.id === behind.id)).toMatchObject({ status: 'ACCEPTED', version: iraq[0].version });
    expect((await all(nl.state, { filter: { status: ['DRAFT'] } })).map((n) => n.id)).toEqual([drafts[1]!.id]);
  });
});
