// Erasure by key destruction (issue 10, item 5): the member state's coordinator erases a case,
// after which no personal value of it can be read anywhere (the API, the feed, evidence, the
// store), while the hash chain verifies and the statistics still count it; the retention job
// erases cases closed long enough ago; `erin export-case` gives the member state everything
// held on a case, and is audited.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SYSTEM_PRINCIPAL } from '../src/auth/principal.ts';
import { samplePdf } from '../src/seed/sample-files.ts';
import { backgroundJobs } from '../src/services.ts';
import { withDatabase } from '../src/store/uri.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, workflow } from './helpers/factories.ts';
import { uploadFile } from './helpers/implementation.ts';
import { dump, minorsCase, personalValues } from './helpers/personal-case.ts';

const run = promisify(execFile);
const ERIN = path.resolve('bin/erin.js');

let gw: TestGateway;
beforeAll(async () => {
  // Small feed blocks, so the feed's sealed segments (copies of the log) are part of what is searched.
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z'), env: { ERIN_FEED_BLOCK_SIZE: '8' } });
});
afterAll(async () => {
  await gw?.close();
});

/** The `erin` command on this gateway's store, with its encryption key (the same data folder). */
function erin(args: string[]) {
  return run(process.execPath, [ERIN, ...args], {
    env: {
      ...process.env,
      LOG_LEVEL: 'silent',
      MONGODB_URI: withDatabase(inject('mongoUri'), gw.dbName),
      ERIN_DATA_DIR: gw.dataDir,
    },
    timeout: 120_000,
  });
}

const ERASE = `mutation ($id: ID!, $r: ErasureReason!) {
  eraseCase(caseId: $id, reason: $r) { id status erasedAt erasureReason needsAssessment vulnerability { notes } } }`;
type Erased = {
  eraseCase: {
    id: string;
    status: string;
    erasedAt: string | null;
    erasureReason: string | null;
    needsAssessment: string | null;
  };
};

const FULL = `query ($id: ID!) { case(id: $id) { id status erasedAt erasureReason needsAssessment
  vulnerability { unaccompaniedMinor notes } household { yearOfBirth }
  entitlement { total { amount } lines { category } } progress(first: 10) { edges { node { narrative } } }
  monitoring { surveys { answers { indicator answer } } } evidence { id filename sha256 } } }`;
type Full = {
  case: {
    status: string;
    erasedAt: string | null;
    erasureReason: string | null;
    needsAssessment: string | null;
    vulnerability: { notes: string | null } | null;
    entitlement: { total: { amount: number }; lines: { category: string }[] };
    progress: { edges: { node: { narrative: string | null } }[] };
    monitoring: { surveys: { answers: unknown[] }[] };
    evidence: { id: string; filename: string; sha256: string | null }[];
  };
};

const TRAIL = `query ($id: ID!) { auditTrail(caseId: $id, first: 500) { entries { type actor { subject organisation } } } }`;
type Trail = { auditTrail: { entries: { type: string; actor: { subject: string; organisation: string } }[] } };

const TABLE = `{ statistics(groupBy: [ORIGIN_COUNTRY]) {
  cells { coordinates { dimension value } caseCount persons } totals { coordinates { dimension value } caseCount persons } } }`;

type Cell = { coordinates: { dimension: string; value: string }[]; caseCount: number | null; persons: number | null };
type Table = { statistics: { cells: Cell[]; totals: Cell[] } };

describe('eraseCase', () => {
  it('is for the coordinator of the member state that registered the case: others are refused and the case is untouched', async () => {
    const flow = workflow(gw);
    const c = await flow.refer(await flow.create({ needsAssessment: 'needs that must survive the refusals' }));
    const attempts = [
      [gw.as('NL', 'caseworker'), 'FORBIDDEN'],
      [gw.as('P-AF-HOPE', 'partner-officer'), 'FORBIDDEN'],
      // A partner (or anyone not a member state) claiming the role: its token is not even accepted.
      [gw.as('P-AF-HOPE', 'coordinator'), 'UNAUTHENTICATED'],
      [gw.as('EMN-REG', ['reg-analyst', 'coordinator']), 'UNAUTHENTICATED'],
      // Another member state's coordinator: the case does not exist for it.
      [gw.as('BE', 'coordinator'), 'NOT_FOUND'],
    ] as const;
    for (const [client, code] of attempts) {
      expect(codes(await client.gql(ERASE, { id: c.id, r: 'SUBJECT_REQUEST' })), code).toEqual([code]);
    }
    const coordinator = gw.as('NL', 'coordinator');
    // The reason is required, and from the fixed list.
    expect(codes(await coordinator.gql(ERASE, { id: c.id, r: 'BECAUSE' }))).toEqual(['BAD_USER_INPUT']);
    expect(
      codes(await coordinator.gql(`mutation ($id: ID!) { eraseCase(caseId: $id) { id } }`, { id: c.id })).length,
    ).toBeGreaterThan(0);
    expect(codes(await coordinator.gql(ERASE, { id: 'no-such-case', r: 'SUBJECT_REQUEST' }))).toEqual(['NOT_FOUND']);
    const after = await flow.state.ok<Full>(FULL, { id: c.id });
    expect(after.case).toMatchObject({ erasedAt: null, needsAssessment: 'needs that must survive the refusals' });
    const stored = await (await gw.raw()).collection('case_keys').findOne({ _id: c.id as never });
    expect(stored?.wrapped).toEqual(expect.any(String));
  });

  it('makes every personal value of the case unreadable everywhere, while the chain verifies and statistics still count it', async () => {
    const v = personalValues('erase-7f3a');
    const { flow, c, reference, evidenceId } = await minorsCase(gw, v);
    const pdfDigest = createHash('sha256').update(samplePdf(v.invoiceText)).digest('hex');
    // Both parties read everything first (reads are logged), and the feed seals its blocks.
    for (const client of [flow.state, flow.officer]) {
      const r = await client.ok<Full>(FULL, { id: c.id });
      expect(r.case.vulnerability?.notes).toBe(v.notes);
      expect(r.case.evidence).toEqual([{ id: evidenceId, filename: v.filename, sha256: pdfDigest }]);
      await client.ok(`{ changes(first: 1000) { changes { cursor state { ... on Case { id needsAssessment } } } } }`);
    }
    // What the gateway could open before: the values are there, only sealed.
    const before = JSON.stringify(await gw.services.subjectAccess.exportCase(SYSTEM_PRINCIPAL, reference));
    for (const value of [v.notes, v.needs, v.narrative, v.filename, pdfDigest]) expect(before).toContain(value);
    // Enough cases for the statistics to list figures whatever their noise draws (their
    // threshold is 5: with six cases a noisy count fell below it now and then).
    for (let i = 0; i < 11; i += 1) await flow.create();
    const analyst = gw.as('EMN-REG', 'reg-analyst');
    const statsBefore = await analyst.ok<Table>(TABLE);
    const afghans = (t: Table) => t.statistics.cells.find((cell) => cell.coordinates[0]?.value === 'AF')?.caseCount;
    expect(afghans(statsBefore), JSON.stringify(statsBefore)).toBeGreaterThanOrEqual(5);

    const coordinator = gw.as('NL', 'coordinator');
    const { eraseCase } = await coordinator.ok<Erased>(ERASE, { id: c.id, r: 'SUBJECT_REQUEST' });
    expect(eraseCase).toMatchObject({
      id: c.id,
      erasedAt: '2026-11-28T10:00:00.000Z',
      erasureReason: 'SUBJECT_REQUEST',
      needsAssessment: null,
      vulnerability: null,
    });
    // Again: answered as it is, nothing more happens.
    expect((await coordinator.ok<Erased>(ERASE, { id: c.id, r: 'LEGAL_OBLIGATION' })).eraseCase).toMatchObject({
      erasedAt: '2026-11-28T10:00:00.000Z',
      erasureReason: 'SUBJECT_REQUEST',
    });

    // The API: null and empty, with erasedAt saying why, for both parties; lists and the feed still answer.
    for (const client of [flow.state, flow.officer]) {
      const r = await client.ok<Full>(FULL, { id: c.id });
      expect(r.case).toMatchObject({
        status: 'IN_IMPLEMENTATION',
        erasedAt: '2026-11-28T10:00:00.000Z',
        erasureReason: 'SUBJECT_REQUEST',
        needsAssessment: null,
        vulnerability: null,
        entitlement: { lines: [] },
        monitoring: { surveys: [{ answers: [] }] },
        evidence: [{ id: evidenceId, filename: 'invoice.pdf', sha256: null }],
      });
      expect(r.case.progress.edges.map((e) => e.node.narrative)).toEqual([null, null]);
      const list = await client.ok<{ cases: { edges: { node: { id: string; erasedAt: string | null } }[] } }>(
        `{ cases(first: 100) { edges { node { id erasedAt needsAssessment } } } }`,
      );
      expect(list.cases.edges.find((e) => e.node.id === c.id)?.node.erasedAt).toBe('2026-11-28T10:00:00.000Z');
      const feed = await client.ok<{
        changes: {
          changes: { type: string; caseId: string | null; state: { id?: string; needsAssessment?: string | null } | null }[];
        };
      }>(`{ changes(first: 1000) { changes { type caseId state { ... on Case { id needsAssessment } } } } }`);
      const mine = feed.changes.changes.filter((ch) => ch.caseId === c.id);
      expect(mine.map((ch) => ch.type)).toContain('CaseErased');
      for (const ch of mine) if (ch.state?.id === c.id) expect(ch.state.needsAssessment).toBeNull();
      const trail = await client.ok<Trail>(TRAIL, { id: c.id });
      expect(trail.auditTrail.entries.filter((e) => e.type === 'CaseErased').map((e) => e.actor.organisation)).toEqual(['NL']);
    }
    // The file is gone with the key.
    const download = await fetch(`${gw.url}/evidence/${evidenceId}`, {
      headers: { authorization: `Bearer ${flow.state.token}` },
    });
    expect(download.status).toBe(404);
    // And the case takes no more personal data, nor any other write.
    const update = await flow.state.gql(
      `mutation ($id: ID!, $v: Int!) { updateCase(id: $id, input: { needsAssessment: "new" }, expectedVersion: $v) { id } }`,
      { id: c.id, v: 100 },
    );
    expect(update.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_TRANSITION', reason: 'ERASED' });
    const upload = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('after erasure'));
    expect(upload.status).not.toBe(201);

    // The store, as an attacker with a copy of it would read it: no personal value of the case in any collection.
    const db = await gw.raw();
    expect(await db.collection('case_keys').findOne({ _id: c.id as never })).toMatchObject({ wrapped: null });
    const collections = await dump(db);
    // The case's list of files holds their ids only (src/modules/cases/case.files.ts), and is dumped too.
    const listed = ['case_files', 'case_file_lists'];
    for (const name of [
      'cases',
      'events',
      'feed_segments',
      'progress_updates',
      'surveys',
      'evidence',
      'evidence_chunks',
      ...listed,
    ]) {
      expect([...collections.keys()]).toContain(name);
    }
    for (const [name, text] of collections) {
      for (const value of [v.notes, v.needs, v.narrative, v.invoiceText, v.filename, pdfDigest]) {
        expect(text, `${name} holds ${value}`).not.toContain(value);
      }
    }
    // Nor can the gateway itself open them any more.
    const after = await gw.services.subjectAccess.exportCase(SYSTEM_PRINCIPAL, reference);
    const afterText = JSON.stringify(after);
    for (const value of [v.notes, v.needs, v.narrative, v.filename, pdfDigest]) expect(afterText).not.toContain(value);
    expect(after.evidence).toEqual([expect.objectContaining({ _id: evidenceId, contentBase64: null })]);

    // The statistics count the case as before (the same cases give the same protected figures).
    expect(await analyst.ok<Table>(TABLE)).toEqual(statsBefore);
    // The hash chain is untouched.
    const verified = await erin(['audit', 'verify']);
    expect(verified.stdout).toMatch(/^ok: \d+ events, chain intact/);
  }, 120_000);
});

describe('erasure on another gateway of the same store', () => {
  it('the other gateway drops the erased case’s key as soon as its log follower reads the erasure, not when its cache expires', async () => {
    // A second gateway on the same store and data folder (so the same gateway key), with a key
    // cache far longer than the test: only the eviction can make it forget the key in time.
    const other = await startGateway({
      dbName: gw.dbName,
      dataDir: gw.dataDir,
      seed: false,
      clock: clockAt('2026-11-28T10:00:00Z'),
      env: { ERIN_CASE_KEY_CACHE: '5m', ERIN_FEED_BLOCK_SIZE: '8' },
    });
    try {
      // Its log follower, as every gateway runs it (the webhook job, on every instance).
      other.services.jobs.start(backgroundJobs(other.services).filter((j) => j.name === 'webhooks'));
      const v = personalValues('two-gw-5e1');
      const { c, evidenceId } = await minorsCase(gw, v);
      const NARRATIVES = `query ($id: ID!) { case(id: $id) { progress(first: 10) { edges { node { narrative } } } } }`;
      type Narratives = { case: { progress: { edges: { node: { narrative: string | null } }[] } } };
      const narratives = async () =>
        (await other.as('P-AF-HOPE', 'partner-officer').ok<Narratives>(NARRATIVES, { id: c.id })).case.progress.edges
          .map((e) => e.node.narrative)
          .sort();
      // The other gateway opens the narratives: it now holds the case's key in its cache.
      expect(await narratives()).toEqual([v.narrative, `${v.narrative} (visit)`]);

      await gw.as('NL', 'coordinator').ok<Erased>(ERASE, { id: c.id, r: 'SUBJECT_REQUEST' });
      // Within a few seconds (its follower runs every second), not the five minutes of its cache.
      let seen: (string | null)[] = [];
      for (let i = 0; i < 50; i += 1) {
        seen = await narratives();
        if (seen.every((n) => n === null)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(seen).toEqual([null, null]);
      // Nor does the file download there.
      const download = await fetch(`${other.url}/evidence/${evidenceId}`, {
        headers: { authorization: `Bearer ${other.token('NL', 'caseworker')}` },
      });
      expect(download.status).toBe(404);
    } finally {
      await other.close();
    }
  }, 120_000);
});

describe('the retention rule', () => {
  it('erases cases closed more than ERIN_RETENTION_YEARS ago, and not newer ones', async () => {
    const clock = clockAt('2026-03-02T09:00:00Z');
    const own = await startGateway({ clock, env: { ERIN_RETENTION_YEARS: '2' } });
    try {
      const register = async (needs: string) => {
        const state = own.as('NL', ['caseworker', 'coordinator']);
        const { createCase } = await state.ok<{ createCase: { id: string; version: number } }>(CREATE_CASE, {
          input: caseInput({ needsAssessment: needs }),
        });
        await state.ok(`mutation ($id: ID!, $v: Int!) { closeCase(id: $id, reason: OPTED_OUT, expectedVersion: $v) { id } }`, {
          id: createCase.id,
          v: createCase.version,
        });
        return createCase.id;
      };
      const old = await register('closed long ago');
      clock.set(new Date('2027-06-15T09:00:00Z'));
      const newer = await register('closed last year');
      clock.set(new Date('2028-03-01T09:00:00Z'));
      // Not yet two years after the first closure (2026-03-02).
      expect(await own.services.erasure.eraseExpired(SYSTEM_PRINCIPAL)).toBe(0);
      clock.set(new Date('2028-03-03T09:00:00Z'));
      // The hourly job erases it (on one gateway at a time: it claims the hour's lease).
      const job = backgroundJobs(own.services).find((j) => j.name === 'retention')!;
      expect(await own.services.jobs.tick(job)).toBe(true);
      expect(await own.services.erasure.eraseExpired(SYSTEM_PRINCIPAL)).toBe(0); // done once
      const state = own.as('NL', 'caseworker');
      expect((await state.ok<Full>(FULL, { id: old })).case).toMatchObject({
        erasedAt: '2028-03-03T09:00:00.000Z',
        erasureReason: 'RETENTION_PERIOD_ENDED',
        needsAssessment: null,
      });
      expect((await state.ok<Full>(FULL, { id: newer })).case).toMatchObject({
        erasedAt: null,
        needsAssessment: 'closed last year',
      });
      const trail = await state.ok<Trail>(TRAIL, { id: old });
      expect(trail.auditTrail.entries.filter((e) => e.type === 'CaseErased').map((e) => e.actor.organisation)).toEqual([
        'SYSTEM',
      ]);
    } finally {
      await own.close();
    }
  }, 60_000);
});

describe('erin export-case', () => {
  it('gives everything held on one case as JSON, and the export is in the case’s audit trail', async () => {
    const v = personalValues('export-91c');
    const { flow, c, reference, evidenceId } = await minorsCase(gw, v);
    const { stdout } = await erin(['export-case', reference]);
    const exported = JSON.parse(stdout) as {
      reference: string;
      erased: boolean;
      case: { _id: string; needsAssessment: string; vulnerability: { notes: string; unaccompaniedMinor: boolean } };
      progressUpdates: { narrative: string }[];
      surveys: { answers: { indicator: string }[] }[];
      evidence: { _id: string; filename?: string; contentBase64: string }[];
      plans: unknown[];
      events: { type: string; actor: { organisation: string } }[];
    };
    expect(exported).toMatchObject({ reference, erased: false });
    expect(exported.case).toMatchObject({
      _id: c.id,
      needsAssessment: v.needs,
      vulnerability: { notes: v.notes, unaccompaniedMinor: true },
    });
    expect(exported.progressUpdates.map((u) => u.narrative).sort()).toEqual([v.narrative, `${v.narrative} (visit)`]);
    expect(exported.surveys[0]?.answers.map((a) => a.indicator)).toContain('PSY_DISTRESS');
    expect(exported.plans.length).toBeGreaterThan(0);
    const [file] = exported.evidence;
    expect(file?._id).toBe(evidenceId);
    expect(Buffer.from(file!.contentBase64, 'base64').equals(samplePdf(v.invoiceText))).toBe(true);
    expect(exported.events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['CaseCreated', 'CaseReferred', 'EvidenceUploaded']),
    );
    // Audited: who exported which case, in the case's trail for its parties.
    const trail = await flow.state.ok<Trail>(TRAIL, { id: c.id });
    const exports = trail.auditTrail.entries.filter((e) => e.type === 'CaseExported');
    expect(exports).toEqual([
      { type: 'CaseExported', actor: { subject: expect.stringMatching(/^cli:/), organisation: 'SYSTEM' } },
    ]);
  }, 120_000);

  it('fails cleanly for an unknown reference, and records nothing', async () => {
    const events = async () => (await gw.raw()).collection('events').countDocuments({ type: 'CaseExported' });
    const before = await events();
    await expect(erin(['export-case', 'NL-2026-999999'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('no case with reference "NL-2026-999999"'),
    });
    expect(await events()).toBe(before);
  }, 60_000);
});
