// Projections never move backwards. On the embedded store a conditional replaceOne is a
// read and then a separate write by `_id`, so a projection whose read saw the previous
// version can land after a newer one. Many writers on two gateway instances and reconciles
// (as a write that meets a taken version or a retried request runs them) hammer one case
// and its plan at once; afterwards every projected document must be at the version of the
// newest event that wrote it. And a projection that collides with another document on a
// unique field is an error, never silently "already projected".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredEvent } from '../src/events/event.model.ts';
import { startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, trainingComponent, workflow, type CaseView } from './helpers/factories.ts';

let one: TestGateway;
let two: TestGateway;
beforeAll(async () => {
  const key = Buffer.alloc(32, 5).toString('base64');
  one = await startGateway({ env: { ERIN_ENCRYPTION_KEY: key } });
  two = await startGateway({ dbName: one.dbName, seed: false, env: { ERIN_ENCRYPTION_KEY: key } });
});
afterAll(async () => {
  await two?.close({ keepData: true });
  await one?.close();
});

const DRAFT = `mutation ($id: ID!, $p: PlanInput!, $v: Int!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { id version } }`;
const VERSION = `query ($id: ID!) { case(id: $id) { version } }`;

/** Every document the case's events wrote, with the version of the newest event that wrote it. */
function newestWrites(events: StoredEvent[]): Map<string, number> {
  const newest = new Map<string, number>();
  for (const event of events) {
    for (const change of event.changes) {
      const key = `${change.collection}/${change.doc._id}`;
      newest.set(key, Math.max(newest.get(key) ?? 0, change.doc.version));
    }
  }
  return newest;
}

describe('projections', () => {
  it('never move backwards under many writers and reconciles on one case and its plan', { timeout: 240_000 }, async () => {
    const c = await workflow(one).arrived();
    await workflow(one).draft(c, { summary: 'first draft', components: [trainingComponent()] });
    // Other documents in both collections: the embedded store reads and decodes a whole
    // collection for a filter other than `_id` alone, which is the gap between its read and its write.
    const db = await one.raw();
    for (const collection of ['cases', 'plans']) {
      const sample = await db.collection(collection).findOne({});
      const fillers = Array.from({ length: 600 }, (_, i) => ({
        ...sample!,
        _id: `filler-${i}` as never,
        ...(collection === 'cases' ? { reference: `XX-0000-${String(i).padStart(6, '0')}` } : { caseId: `filler-${i}` }),
      }));
      await db.collection(collection).insertMany(fillers);
    }
    const gateways = [one, two];
    const WRITES = 40;
    let written = 0;
    let writing = true;
    const failures: string[] = [];

    const writer = async (w: number) => {
      const gw = gateways[w % 2]!;
      const officer = gw.as('P-AF-HOPE', 'partner-officer');
      while (written < WRITES) {
        const current = await officer.gql<{ case: { version: number } | null }>(VERSION, { id: c.id });
        const version = current.data?.case?.version;
        if (version === undefined) continue;
        const r: GqlResponse = await officer.gql(DRAFT, {
          id: c.id,
          v: version,
          p: { summary: `writer ${w}, write ${written}`, components: [trainingComponent(10_000 + w)] },
        });
        const code = r.errors?.[0]?.extensions.code;
        if (!r.errors) written += 1;
        else if (code !== 'CONFLICT') failures.push(JSON.stringify(r.errors));
      }
    };
    // What a write meeting a taken version, or a retried request, does: re-apply the events of
    // the case whose documents look behind. Each reconcile reads versions, then writes.
    const reconciler = async (r: number) => {
      const log = gateways[r % 2]!.services.log;
      while (writing) {
        const events = await log.history(c.id);
        await log.reconcile(events.slice(-3));
      }
    };
    const reconcilers = Array.from({ length: 6 }, (_, r) => reconciler(r));
    await Promise.all(Array.from({ length: 6 }, (_, w) => writer(w)));
    writing = false;
    await Promise.all(reconcilers);
    expect(failures).toEqual([]);

    const events = await one.services.log.history(c.id);
    const behind: string[] = [];
    for (const [key, version] of newestWrites(events)) {
      const [collection, id] = key.split('/') as [string, string];
      const doc = await db.collection(collection).findOne({ _id: id as never });
      if (doc?.version !== version)
        behind.push(`${key} is at version ${String(doc?.version)}, its newest event wrote ${version}`);
    }
    expect(behind).toEqual([]);
  });

  it('a projection that collides with another document on a unique field is raised, not dropped', async () => {
    const db = await one.raw();
    const nl = one.as('NL', 'caseworker');
    // The next reference the Dutch register hands out is already on another document of `cases`
    // (a restore gone wrong, say): the event commits, its projection cannot be inserted.
    const first = await nl.ok<{ createCase: CaseView }>(CREATE_CASE, { input: caseInput({}) });
    const year = first.createCase.reference.split('-')[1]!;
    const next = `NL-${year}-${String(Number(first.createCase.reference.split('-')[2]) + 1).padStart(6, '0')}`;
    const original = await db.collection('cases').findOne({ _id: first.createCase.id as never });
    await db.collection('cases').insertOne({ ...original!, _id: 'squatter' as never, reference: next });

    const r = await nl.gql<{ createCase: CaseView }>(CREATE_CASE, { input: caseInput({}) });
    // Today the duplicate is taken for "projected before" and the client is told of a case
    // that nobody can read.
    expect(r.errors?.[0]?.extensions.code).toBe('INTERNAL_SERVER_ERROR');
    expect(r.data?.createCase ?? null).toBeNull();
    await db.collection('cases').deleteOne({ _id: 'squatter' as never });
  });
});
