// The audit: the hash-chained log shows tampering where it happened; reads of
// special-category data are logged (cheaply: one append per request), and the parties to
// a case can read its trail.
import { eventDocumentId } from '../src/events/log.ts';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashEvent } from '../src/events/log.ts';
import { withDatabase } from '../src/store/uri.ts';
import type { StoredEvent } from '../src/events/event.model.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

const run = promisify(execFile);

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

/** `npx erin audit verify` against a gateway's database, as an operator runs it. */
async function verify(target: TestGateway, args: string[] = []): Promise<{ code: number; stdout: string }> {
  const env = {
    ...process.env,
    LOG_LEVEL: 'silent',
    MONGODB_URI: withDatabase(inject('mongoUri'), target.dbName),
    ERIN_DATA_DIR: target.dataDir,
  };
  try {
    const { stdout } = await run(process.execPath, [path.resolve('bin/erin.js'), 'audit', 'verify', ...args], { env });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

const TRAIL = `query ($id: ID!) { auditTrail(caseId: $id, first: 500) {
  entries { type caseVersion actor { organisation subject } fields hash } endCursor hasMore } }`;
type Trail = {
  auditTrail: { entries: { type: string; caseVersion: number | null; actor: { organisation: string }; fields: string[] }[] };
};

const VULNERABLE = { vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: true, medicalNeeds: false, notes: 'n' } };

describe('audit verify', () => {
  it('reports an event edited in the raw store at its position, with exit status 1', async () => {
    const target = await startGateway();
    const flow = workflow(target, 'NL', 'P-AF-HOPE');
    await flow.refer(await flow.create());
    const intact = await verify(target);
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/^ok: \d+ events, chain intact\nhead: \d+:[0-9a-f]{64}\n$/);

    const db = await target.raw();
    const last = await target.services.log.lastSeq();
    const victim = last - 3;
    await db.collection('events').updateOne({ _id: eventDocumentId(victim) as never }, { $set: { 'actor.organisation': 'BE' } });
    const report = await verify(target);
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(new RegExp(`^BROKEN at event ${victim}: .*edited`));
    await target.close();
  });

  it('reports an event edited and re-hashed at its own position too, and a whole re-hashed tail against an anchor', async () => {
    const target = await startGateway();
    const flow = workflow(target, 'NL', 'P-AF-HOPE');
    await flow.refer(await flow.create());
    const anchor = (await verify(target)).stdout.match(/head: (\d+:[0-9a-f]{64})/)![1]!;
    const db = await target.raw();
    // The raw store keeps sequence numbers as padded strings, and a request claim derived from
    // hashed fields; the hash covers the number and not the claim, as an attacker reading this code knows.
    const events = db.collection<Omit<StoredEvent, '_id'> & { _id: string; requestKey?: string }>('events');
    const read = async (seq: number): Promise<StoredEvent> => {
      const { requestKey: _claim, ...doc } = (await events.findOne({ _id: eventDocumentId(seq) }))!;
      return { ...doc, _id: seq };
    };
    const write = ({ _id: seq, ...event }: StoredEvent) => events.updateOne({ _id: eventDocumentId(seq) }, { $set: event });
    const last = await target.services.log.lastSeq();
    const victim = last - 2;

    // Edited and re-hashed: consistent in itself, but its successor recorded the old hash.
    const original = await read(victim);
    const { hash: _old, ...rest } = { ...original, type: 'CaseClosed' };
    await write({ ...rest, hash: hashEvent(rest) });
    const report = await verify(target);
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(new RegExp(`^BROKEN at event ${victim}: .*re-hashed`));

    // Re-hashing every later link too makes the chain consistent again: only the anchor shows it.
    let prevHash = hashEvent(rest);
    for (let seq = victim + 1; seq <= last; seq += 1) {
      const { hash: _h, ...e } = { ...(await read(seq)), prevHash };
      prevHash = hashEvent(e);
      await write({ ...e, hash: prevHash });
    }
    expect((await verify(target)).code).toBe(0);
    const anchored = await verify(target, ['--anchor', anchor]);
    expect(anchored.code).toBe(1);
    expect(anchored.stdout).toMatch(new RegExp(`^BROKEN at event ${anchor.split(':')[0]}: its hash differs from the anchor`));
    await target.close();
    // Four runs of the CLI, each a process of its own: on a loaded machine more than the default 30 s.
  }, 120_000);

  it('reports a deleted event as missing at its position', async () => {
    const target = await startGateway();
    const victim = 5;
    await (await target.raw()).collection('events').deleteOne({ _id: eventDocumentId(victim) as never });
    const report = await verify(target);
    expect(report.code).toBe(1);
    expect(report.stdout).toMatch(/^BROKEN at event 5: event 5 is missing/);
    await target.close();
  });
});

describe('special-category reads', () => {
  it('are logged once per case and request, in one append whatever the page size', async () => {
    const flow = workflow(gw, 'DE', 'P-IQ-TIGRIS');
    for (let i = 0; i < 30; i += 1) await flow.create({ originCountry: 'IQ', ...VULNERABLE });
    const page = `query ($n: Int!) { cases(first: $n, filter: { memberState: "DE" }) { edges { node { id needsAssessment vulnerability { victimOfTrafficking } } } } }`;
    await flow.state.ok(page, { n: 5 }); // warm the token's organisation lookup
    const before = await gw.services.log.lastSeq();
    const small = await gw.store.recorder.countDuring(() => flow.state.ok(page, { n: 5 }));
    const large = await gw.store.recorder.countDuring(() => flow.state.ok(page, { n: 30 }));
    expect(large.commands).toBe(small.commands);
    const logged = (await gw.services.log.page(before, 1000)).filter((e) => e.type === 'PersonalDataRead');
    expect(logged).toHaveLength(35);
    expect(logged.every((e) => JSON.stringify(e.data.fields) === '["needsAssessment","vulnerability"]')).toBe(true);
    expect(new Set(logged.slice(5).map((e) => e.caseId)).size).toBe(30);
  });

  it('the parties read the trail of a case: who changed it and who read its special-category data', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const c = await flow.accept(await flow.refer(await flow.create(VULNERABLE)));
    await flow.officer.ok('query ($id: ID!) { case(id: $id) { vulnerability { notes } } }', { id: c.id });
    const { auditTrail } = await flow.state.ok<Trail>(TRAIL, { id: c.id });
    expect(auditTrail.entries.map((e) => [e.type, e.actor.organisation, e.caseVersion, e.fields])).toEqual([
      ['CaseCreated', 'NL', 1, []],
      ['CaseReferred', 'NL', 2, []],
      ['ReferralAccepted', 'P-AF-HOPE', 3, []],
      ['PersonalDataRead', 'P-AF-HOPE', null, ['vulnerability']],
    ]);
    // The partner's trail starts where the case was shared with it.
    const partner = await flow.officer.ok<Trail>(TRAIL, { id: c.id });
    expect(partner.auditTrail.entries.map((e) => e.type)).toEqual(['CaseReferred', 'ReferralAccepted', 'PersonalDataRead']);
    // Reading the trail is no special-category read.
    const again = await flow.state.ok<Trail>(TRAIL, { id: c.id });
    expect(again.auditTrail.entries).toHaveLength(4);
  });

  it('outsiders get NOT_FOUND or FORBIDDEN for a case’s trail', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const c = await flow.refer(await flow.create());
    for (const [org, role, code] of [
      ['BE', 'caseworker', 'NOT_FOUND'],
      ['P-IQ-TIGRIS', 'partner-officer', 'NOT_FOUND'],
      ['EMN-REG', 'reg-analyst', 'FORBIDDEN'],
      ['ERIN-NET', 'network-admin', 'FORBIDDEN'],
    ] as const) {
      expect(codes(await gw.as(org, role).gql(TRAIL, { id: c.id })), org).toEqual([code]);
    }
  });

  it('a read that cannot be logged is not answered', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const c = await flow.create(VULNERABLE);
    const executor = gw.services.executor;
    const recordFacts = executor.recordFacts.bind(executor);
    executor.recordFacts = () => Promise.reject(Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' }));
    try {
      const r = await flow.state.gql('query ($id: ID!) { case(id: $id) { vulnerability { victimOfTrafficking notes } } }', {
        id: c.id,
      });
      expect(codes(r)).toEqual(['STORE_UNAVAILABLE']);
      expect(r.data ?? null).toBeNull();
      expect(r.status).toBe(503);
    } finally {
      executor.recordFacts = recordFacts;
    }
  });
});
