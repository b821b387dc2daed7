// A page of results costs a fixed number of store round trips, whatever its size:
// DataLoaders batch what the resolvers fan out to (counted with the driver's command monitoring).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASE_BY_ID } from '../bench/operations.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { implementation, surveyAnswers, uploadFile } from './helpers/implementation.ts';
import { samplePdf } from '../src/seed/sample-files.ts';
import { createLogger } from '../src/logger.ts';
import { prepareStore } from '../src/services.ts';

let gw: TestGateway;
beforeAll(async () => {
  // No case-key cache: whether a page's keys are still cached from an earlier request would
  // decide whether it reads them, so each page reads them (in one batch, whatever its size).
  gw = await startGateway({ env: { ERIN_CASE_KEY_CACHE: '0ms', ERIN_STORE_PROJECTION_GRACE: '1s' } });
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  const impl = implementation(gw, flow);
  for (let batch = 0; batch < 5; batch += 1) {
    await Promise.all(
      Array.from({ length: 11 }, async (_, i) => {
        const arrived = await flow.arrived();
        const procurement = i % 4 === 0 ? 'SHIPPED' : 'LOCAL';
        const drafted = await flow.draft(arrived, {
          components: [
            { ...trainingComponent(50000 + i), id: 'training' },
            { ...materialsComponent(10000, 'EUR', procurement), id: 'tools' },
          ],
        });
        if (i % 2 !== 0) return;
        // Approved cases get the records every implementation field reads.
        const approved = await flow.approve(await flow.submit(drafted));
        const c = { id: approved.id, version: approved.version };
        const receipt = await impl.upload(c);
        await impl.post(c, {
          kind: 'PURCHASE',
          componentId: 'training',
          narrative: 'Course fee',
          language: 'en',
          occurredOn: '2026-11-21',
          spend: { amount: { amount: 1000, currency: 'EUR' }, proof: receipt.id },
        });
        await impl.visit(c, { visitedOn: '2026-11-21', narrative: 'Visit', language: 'en', answers: surveyAnswers() });
        if (procurement === 'SHIPPED') {
          await impl.ship(c, {
            componentId: 'tools',
            status: 'ORDERED',
            at: '2026-11-21T10:00:00Z',
            place: 'Dubai',
            evidence: receipt.id,
            shipment: { carrier: 'Ariana Cargo', trackingReference: 'AC', origin: 'Dubai', destination: 'Kabul' },
          });
        }
      }),
    );
  }
});
afterAll(async () => {
  await gw?.close();
});

export const DASHBOARD = `query Dashboard($first: Int!) {
  cases(first: $first, filter: { partner: "P-AF-HOPE" }) {
    edges { node {
      reference status version originCountry
      memberState { code name }
      partner { code name }
      programme { code name }
      entitlement { total { formatted } programme { code } }
      plan { planVersion status totalEur { amount } components { kind cost { amount currency } } }
      planInForce { planVersion }
      plans { planVersion status }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Every field the implementation added to a case, as a partner's overview of its cases would ask. */
export const IMPLEMENTATION = `query Implementation($first: Int!) {
  cases(first: $first, filter: { partner: "P-AF-HOPE" }) {
    edges { node {
      reference
      progress(first: 3) { totalCount edges { node { kind occurredOn spend { amountEur { amount } proof { filename } }
        corrects { id } correctedBy { id } postedBy { organisation { code } } } } }
      budget { planned { amount } actual { amount } lines { component { id } planned { amount } actual { amount } } }
      shipments { status allowedNext events { status actor { organisation { code } } evidence { id } } handoverCertificate { id } }
      monitoring { schedule { dueOn status survey { id } } surveys { scores { composite } progressUpdate { id } } latestScores { composite } }
      evidence { id filename uploadedBy { organisation { code } } }
      deadlines { kind status daysLate waitingOn { code } }
      finalReport { actual { amount } lines { proofs { id } } lastSurvey { id } }
    } }
  }
}`;

async function commandsFor(client: ReturnType<TestGateway['as']>, first: number, query = DASHBOARD): Promise<string[]> {
  // Once unmeasured (the first page after writes catches the gateway's follower of the log up,
  // and the events it reads may refresh remembered organisations), then twice, keeping the
  // leaner run: a token's organisation lookup is cached for a few seconds, and its expiry may
  // fall inside one of the runs.
  await client.ok(query, { first });
  const runs = [];
  for (let i = 0; i < 2; i += 1) {
    const { names, result } = await gw.store.recorder.countDuring(() =>
      client.ok<{ cases: { edges: unknown[] } }>(query, { first }),
    );
    expect(result.cases.edges).toHaveLength(first);
    runs.push(names.sort());
  }
  return runs.sort((a, b) => a.length - b.length)[0]!;
}

describe('round trips per page', () => {
  it('a partner dashboard page of 50 costs the same store commands as a page of 5', async () => {
    const partner = gw.as('P-AF-HOPE', 'partner-officer');
    const five = await commandsFor(partner, 5);
    const fifty = await commandsFor(partner, 50);
    expect(fifty).toEqual(five);
    // cases + organisations + programmes + plans by id + plans by case: a small constant.
    expect(fifty.length).toBeLessThanOrEqual(6);
  });

  it('the member state’s view costs the same too', async () => {
    const state = gw.as('NL', 'coordinator');
    expect(await commandsFor(state, 50)).toEqual(await commandsFor(state, 5));
  });
});

describe('round trips for the directory', () => {
  it('organisations with their contracts cost the same for 7 organisations as for all 16', async () => {
    const admin = gw.as('ERIN-NET', 'network-admin');
    const query = `query ($kind: OrganisationKind) { organisations(kind: $kind) { code contracts { id memberState { name } partner { name } programmes { code } } } }`;
    await admin.ok(query);
    const few = await gw.store.recorder.countDuring(() => admin.ok(query, { kind: 'MEMBER_STATE' }));
    const all = await gw.store.recorder.countDuring(() => admin.ok(query));
    expect(all.commands).toBe(few.commands);
    expect(all.commands).toBeLessThanOrEqual(4);
  });

  it('progress, budget, shipments, monitoring, evidence, deadlines and final reports of a page cost the same for 5 cases as for 50', async () => {
    for (const client of [gw.as('P-AF-HOPE', 'partner-officer'), gw.as('NL', 'coordinator')]) {
      const five = await commandsFor(client, 5, IMPLEMENTATION);
      const fifty = await commandsFor(client, 50, IMPLEMENTATION);
      const keyReads = (names: string[]) => names.filter((n) => n === 'find case_keys').length;
      const withoutKeyReads = (names: string[]) => names.filter((n) => n !== 'find case_keys');
      expect(withoutKeyReads(fifty)).toEqual(withoutKeyReads(five));
      // cases + organisations + plans by id + one query per kind of child record
      // (progress, evidence, shipments, surveys, final reports).
      expect(withoutKeyReads(fifty).length).toBeLessThanOrEqual(8);
      // The case keys file names are sealed under: batched per level of the query (evidence,
      // spend proofs), so a few reads whatever the page size, never one per case.
      expect(keyReads(fifty)).toBeGreaterThan(0);
      expect(keyReads(fifty)).toBeLessThanOrEqual(2);
    }
    // The page really holds what the fields read.
    const { cases } = await gw.as('P-AF-HOPE', 'partner-officer').ok<{
      cases: { edges: { node: { shipments: unknown[]; evidence: unknown[]; monitoring: { surveys: unknown[] } } }[] };
    }>(IMPLEMENTATION, { first: 40 });
    const nodes = cases.edges.map((e) => e.node);
    expect(nodes.filter((n) => n.shipments.length > 0).length).toBeGreaterThan(0);
    expect(nodes.filter((n) => n.evidence.length > 0).length).toBeGreaterThan(10);
    expect(nodes.filter((n) => n.monitoring.surveys.length > 0).length).toBeGreaterThan(10);
  });
});

describe('round trips for a case by id', () => {
  it('a case this gateway never read costs its case and its plan, each by primary key; read again, only the case', async () => {
    const { cases } = await gw
      .as('P-AF-HOPE', 'partner-officer')
      .ok<{ cases: { edges: { node: { id: string; plan: unknown } }[] } }>(
        '{ cases(first: 20, filter: { partner: "P-AF-HOPE" }) { edges { node { id plan { status } } } } }',
      );
    const id = cases.edges.find((e) => e.node.plan)!.node.id;
    // Another gateway on the same store: nothing of this case is in its memory.
    const other = await startGateway({ dbName: gw.dbName, dataDir: gw.dataDir, seed: false });
    try {
      const partner = other.as('P-AF-HOPE', 'partner-officer');
      const read = async () => {
        const from = other.store.recorder.queries.length;
        const { names, result } = await other.store.recorder.countDuring(() =>
          partner.ok<{ case: { plan: unknown } }>(CASE_BY_ID, { id }),
        );
        expect(result.case.plan).not.toBeNull();
        // The token's organisation is looked up once per organisation and a few seconds, not per case.
        const queries = other.store.recorder.queries.slice(from).filter((q) => q.collection !== 'organisations');
        for (const q of queries) expect(q.filterFields, q.collection).toEqual(['_id']);
        return names.filter((n) => n !== 'find organisations').sort();
      };
      expect(await read()).toEqual(['find cases', 'find plans']);
      expect(await read()).toEqual(['find cases']);
    } finally {
      await other.close();
    }
  });

  it("a case's own page reads its progress, shipments and surveys by primary key; a case stored before it kept their ids, by case", async () => {
    const partner = gw.as('P-AF-HOPE', 'partner-officer');
    const PAGE = `query ($id: ID!) { case(id: $id) { id progress(first: 50) { edges { node { id corrects { id } } } }
      shipments { id } monitoring { surveys { id } schedule { survey { id } } } } }`;
    type Page = { case: { progress: { edges: unknown[] }; shipments: unknown[]; monitoring: { surveys: unknown[] } } };
    const { cases } = await partner.ok<{ cases: { edges: { node: { id: string; shipments: unknown[] } }[] } }>(
      '{ cases(first: 60, filter: { partner: "P-AF-HOPE" }) { edges { node { id shipments { id } } } } }',
    );
    const id = cases.edges.find((e) => e.node.shipments.length > 0)!.node.id;
    const read = async () => {
      const from = gw.store.recorder.queries.length;
      const { result } = await gw.store.recorder.countDuring(() => partner.ok<Page>(PAGE, { id }));
      const records = gw.store.recorder.queries
        .slice(from)
        .filter((q) => ['progress_updates', 'shipments', 'surveys'].includes(q.collection));
      return { result, fields: [...new Set(records.map((q) => q.filterFields.join()))] };
    };
    const kept = await read();
    expect(kept.fields).toEqual(['_id']);
    expect(kept.result.case.progress.edges.length).toBeGreaterThan(0);
    expect(kept.result.case.shipments.length).toBeGreaterThan(0);
    expect(kept.result.case.monitoring.surveys.length).toBeGreaterThan(0);

    // Without the ids (a case stored before cases kept them): the same page, by case.
    const db = await gw.raw();
    await db.collection('cases').updateOne({ _id: id as never }, { $unset: { recordIds: '' } });
    const legacy = await read();
    expect(legacy.result).toEqual(kept.result);
    expect(legacy.fields).not.toContain('_id');

    // The backfill (once per store, at start) gives such a case its ids: by primary key again.
    const before = await db.collection('cases').findOne({ _id: id as never });
    await db.collection('migrations').deleteOne({ _id: 'case-record-ids' as never });
    expect(await gw.services.caseStore.backfillRecordIds()).toBeGreaterThanOrEqual(1);
    expect(await gw.services.caseStore.backfillRecordIds()).toBe(0);
    const after = await db.collection('cases').findOne({ _id: id as never });
    expect(after).toEqual({ ...before, recordIds: expect.anything() });
    const filled = await read();
    expect(filled.result).toEqual(kept.result);
    expect(filled.fields).toEqual(['_id']);
  });
});

describe('a migration at start against another gateway’s write', () => {
  it('a case the record-id backfill wrote over (the embedded store reads, then writes) is written again from the log before the gateway serves', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const arrived = await flow.arrived();
    const db = await gw.raw();
    await db.collection('cases').updateOne({ _id: arrived.id as never }, { $unset: { recordIds: '' } });
    const stale = (await db.collection('cases').findOne({ _id: arrived.id as never }))!;
    await db.collection('migrations').deleteOne({ _id: 'case-record-ids' as never });

    // The backfill's conditional write on this case, as the embedded store runs it: it reads the
    // case at the version it was asked for, another gateway writes the case meanwhile (a draft plan),
    // then it writes what it read, with the ids, by _id.
    const collection = gw.services.caseStore.model.collection;
    const updateOne = collection.updateOne.bind(collection);
    let drafted: { version: number } | undefined;
    collection.updateOne = async (...args: Parameters<typeof updateOne>) => {
      const [filter, update] = args as [{ _id: unknown }, { $set: Record<string, unknown> }];
      if (drafted || filter._id !== arrived.id) return updateOne(...args);
      drafted = await flow.draft(arrived, { components: [{ ...trainingComponent(40000), id: 'training' }] });
      await db.collection('cases').replaceOne({ _id: arrived.id as never }, { ...stale, ...update.$set });
      return { acknowledged: true, matchedCount: 1, modifiedCount: 1, upsertedCount: 0, upsertedId: null };
    };
    try {
      await prepareStore(gw.services, createLogger('silent'));
    } finally {
      collection.updateOne = updateOne;
    }

    expect(drafted!.version).toBe(arrived.version + 1);
    const doc = (await db.collection('cases').findOne({ _id: arrived.id as never }))!;
    expect(doc.version).toBe(drafted!.version);
    const read = await gw
      .as('NL', 'caseworker')
      .ok<{ case: { version: number; plan: { status: string } | null } }>(
        'query ($id: ID!) { case(id: $id) { version plan { status } } }',
        { id: arrived.id },
      );
    expect(read.case).toEqual({ version: drafted!.version, plan: { status: 'DRAFT' } });
  });
});

describe('round trips for a case page’s files', () => {
  const PAGE = `query ($id: ID!) { case(id: $id) { id evidence { id kind uploadedBy { organisation { code } } }
    progress(first: 50) { edges { node { spend { proof { id } } } } } shipments { events { evidence { id } } } } }`;
  type Page = { case: { evidence: { id: string }[] } };

  /** The page as the partner reads it, with how it asked for files (the filters' fields) and its store commands. */
  async function read(id: string) {
    const partner = gw.as('P-AF-HOPE', 'partner-officer');
    const from = gw.store.recorder.queries.length;
    const { result, names } = await gw.store.recorder.countDuring(() => partner.ok<Page>(PAGE, { id }));
    const files = gw.store.recorder.queries.slice(from).filter((q) => q.collection === 'evidence');
    return { result, fields: [...new Set(files.map((q) => q.filterFields.join()))], names };
  }

  /** The partner's cases that have files. */
  async function casesWithFiles(): Promise<string[]> {
    const { cases } = await gw
      .as('P-AF-HOPE', 'partner-officer')
      .ok<{ cases: { edges: { node: { id: string; evidence: unknown[] } }[] } }>(
        '{ cases(first: 60, filter: { partner: "P-AF-HOPE" }) { edges { node { id evidence { id } } } } }',
      );
    return cases.edges.filter((e) => e.node.evidence.length > 0).map((e) => e.node.id);
  }

  it("a case's own page reads its files by primary key, spend proofs and shipment evidence too, in a fixed number of commands", async () => {
    const [id] = await casesWithFiles();
    const page = await read(id!);
    expect(page.result.case.evidence.length).toBeGreaterThan(0);
    // The list's head, the version after it (none) and each file by id: no query by case.
    expect(page.fields).toEqual(['_id']);
    expect(page.names.filter((n) => n === 'find case_files')).toHaveLength(1);
    expect(page.names.filter((n) => n === 'find case_file_lists')).toHaveLength(1);
    expect(page.names.filter((n) => n === 'find evidence')).toHaveLength(page.result.case.evidence.length);
  });

  it('cases stored before cases had a list of files read them by case, until the backfill gives them one, once', async () => {
    const [id, other] = (await casesWithFiles()) as [string, string];
    const kept = await read(id);
    const keptOther = await read(other);
    const db = await gw.raw();

    // Without their lists (cases stored before cases had one): the same pages, by case.
    for (const caseId of [id, other]) {
      await db.collection('case_files').deleteOne({ _id: caseId as never });
      await db.collection('case_file_lists').deleteMany({ caseId });
    }
    const legacy = await read(id);
    expect(legacy.result).toEqual(kept.result);
    expect(legacy.fields).toEqual(['caseId,partner,sharedWithPartner']);
    // A file uploaded meanwhile (a gateway already started, another still starting) is listed
    // without a head, and the backfill completes that list rather than starting another.
    const partner = gw.token('P-AF-HOPE', 'partner-officer');
    const meanwhile = await uploadFile(gw, partner, { caseId: other, kind: 'PHOTO' }, samplePdf('meanwhile'));
    expect(meanwhile.status).toBe(201);
    expect(await db.collection('case_files').findOne({ _id: other as never })).toBeNull();
    const otherIds = [...keptOther.result.case.evidence.map((e) => e.id), meanwhile.body.evidence!.id].sort();

    // The backfill (once per store, at start) gives each such case its list, and no other case a second one.
    await db.collection('migrations').deleteOne({ _id: 'case-file-lists' as never });
    expect(await gw.services.caseStore.backfillFileLists()).toBe(2);
    expect(await gw.services.caseStore.backfillFileLists()).toBe(0);
    const filled = await read(id);
    expect(filled.result).toEqual(kept.result);
    expect(filled.fields).toEqual(['_id']);
    const filledOther = await read(other);
    expect(filledOther.result.case.evidence.map((e) => e.id).sort()).toEqual(otherIds);
    expect(filledOther.fields).toEqual(['_id']);
    const heads = await db
      .collection('case_files')
      .find({ _id: { $in: [id, other] as never[] } })
      .toArray();
    expect(heads.map((h) => [h._id, [...(h.ids as string[])].sort()]).sort()).toEqual(
      [
        [id, kept.result.case.evidence.map((e) => e.id).sort()],
        [other, otherIds],
      ].sort(),
    );
  });
});
