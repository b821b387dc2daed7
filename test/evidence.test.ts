// Evidence uploads and downloads over HTTP: typed by content, limited while streaming,
// stored encrypted in chunks with a digest, downloadable only by the parties to the case,
// and every download in the case's audit trail.
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';
import { uploadFile } from './helpers/implementation.ts';
import { samplePdf, samplePng } from '../src/seed/sample-files.ts';

const LIMIT = 300_000;
let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z'), env: { ERIN_UPLOAD_LIMIT: String(LIMIT) } });
});
afterAll(async () => {
  await gw?.close();
});

async function approvedCase(memberState = 'NL', partner = 'P-AF-HOPE', originCountry = 'AF') {
  const flow = workflow(gw, memberState, partner);
  const c = await flow.approved({ components: [trainingComponent(80000)] }, { originCountry });
  return { flow, c };
}

/** A PNG signature followed by `size` bytes in all: the type check passes, the size is what we want. */
function pngOfSize(size: number): Buffer {
  const bytes = Buffer.alloc(size, 0x61);
  samplePng().copy(bytes, 0, 0, Math.min(size, 64));
  return bytes;
}

function download(id: string, token?: string) {
  return fetch(`${gw.url}/evidence/${id}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

async function stored(caseId: string) {
  const db = await gw.raw();
  return {
    evidence: await db.collection('evidence').countDocuments({ caseId }),
    chunks: await db.collection('evidence_chunks').countDocuments({ caseId }),
  };
}

describe('uploads', () => {
  it('a PNG named receipt.pdf and sent as application/pdf is stored and served as the PNG it is', async () => {
    const { flow, c } = await approvedCase();
    const png = samplePng(16, 16);
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT', filename: 'receipt.pdf' }, png, {
      'content-type': 'application/pdf',
    });
    expect(r.status).toBe(201);
    expect(r.body.evidence).toMatchObject({
      kind: 'RECEIPT',
      contentType: 'image/png',
      filename: 'receipt.png',
      size: png.length,
      sha256: createHash('sha256').update(png).digest('hex'),
    });
    const got = await download(r.body.evidence!.id, flow.state.token);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('image/png');
    expect(got.headers.get('content-disposition')).toContain('filename="receipt.png"');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await got.arrayBuffer()).equals(png)).toBe(true);
  });

  it('the file name comes in the X-File-Name header (URL-encoded UTF-8), out of the URL that proxies log', async () => {
    const { flow, c } = await approvedCase();
    const name = 'Rahimi Karim (passport) كريم.pdf';
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf(), {
      'x-file-name': encodeURIComponent(name),
    });
    expect(r.status).toBe(201);
    expect(r.body.evidence?.filename).toBe(name);
    // Given both ways, the header wins; the query parameter alone still works (deprecated).
    const both = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT', filename: 'old.pdf' }, samplePdf(), {
      'x-file-name': 'new.pdf',
    });
    expect(both.body.evidence?.filename).toBe('new.pdf');
    // Not a valid encoding: refused, nothing stored, and the answer does not repeat it.
    const before = await stored(c.id);
    const bad = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf(), {
      'x-file-name': 'Rahimi%E0%A4%A.pdf',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(bad.body)).not.toContain('Rahimi');
    expect(await stored(c.id)).toEqual(before);
  });

  it('an executable (or anything but PDF, JPEG and PNG) is refused whatever its name, and nothing is stored', async () => {
    const { flow, c } = await approvedCase();
    const windows = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(4000, 1)]);
    const linux = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(300_000 - 8, 2)]);
    const html = Buffer.from('<html><script>alert(1)</script></html>');
    for (const [name, bytes] of [
      ['invoice.pdf', windows],
      ['photo.png', linux],
      ['receipt.jpg', html],
    ] as const) {
      const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'INVOICE', filename: name }, bytes, {
        'content-type': 'application/pdf',
      });
      expect(r.status, name).toBe(415);
      expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'UNSUPPORTED_TYPE' });
    }
    expect(await stored(c.id)).toEqual({ evidence: 0, chunks: 0 });
  });

  it('an upload over the limit is cut off while it streams, and nothing of it remains in the store', async () => {
    const { flow, c } = await approvedCase();
    const before = await (await gw.raw()).collection('evidence_chunks').countDocuments({});
    // Sent chunked (no Content-Length), so the limit can only be found while reading: more
    // than one 255 KiB chunk is stored before the limit is crossed, and must be removed.
    const body = pngOfSize(2 * LIMIT);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= body.length) return controller.close();
        controller.enqueue(body.subarray(sent, sent + 32 * 1024));
        sent += 32 * 1024;
      },
    });
    const writes: string[] = [];
    const watch = (event: { commandName: string; command: Record<string, unknown> }) => {
      if (event.command[event.commandName] === 'evidence_chunks') writes.push(event.commandName);
    };
    const client = gw.store.connection.getClient();
    client.on('commandStarted', watch);
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'PHOTO', filename: 'big.png' }, stream).finally(() =>
      client.off('commandStarted', watch),
    );
    expect(r.status).toBe(413);
    // A chunk was stored before the limit was crossed, and removed when it was.
    expect(writes).toEqual(['insert', 'delete']);
    expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'TOO_LARGE', limitBytes: LIMIT });
    expect(await stored(c.id)).toEqual({ evidence: 0, chunks: 0 });
    expect(await (await gw.raw()).collection('evidence_chunks').countDocuments({})).toBe(before);
    // No event either.
    expect((await gw.services.log.page(0, 100_000)).filter((e) => e.caseId === c.id && e.type === 'EvidenceUploaded')).toEqual(
      [],
    );
  });

  it('an upload the client abandons half-way leaves nothing behind', async () => {
    const { flow, c } = await approvedCase();
    const body = pngOfSize(280_000);
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // Everything but the end: the server stores the first chunk and waits for more.
        if (!sent) controller.enqueue(body);
        sent = true;
        return new Promise(() => undefined);
      },
    });
    const abort = new AbortController();
    const upload = fetch(`${gw.url}/evidence?caseId=${c.id}&kind=PHOTO`, {
      method: 'POST',
      headers: { authorization: `Bearer ${flow.officer.token}` },
      body: stream,
      duplex: 'half',
      signal: abort.signal,
    }).catch((error: unknown) => error);
    const db = await gw.raw();
    await expect.poll(() => db.collection('evidence_chunks').countDocuments({ caseId: c.id }), { timeout: 10_000 }).toBe(1);
    abort.abort();
    expect(await upload).toBeInstanceOf(Error);
    await expect.poll(() => stored(c.id), { timeout: 10_000 }).toEqual({ evidence: 0, chunks: 0 });
  });

  it('housekeeping removes chunks a crash left without their upload, and nothing else', async () => {
    const { flow, c } = await approvedCase();
    const kept = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('kept'));
    const db = await gw.raw();
    // Backdate the committed file's chunk into the window housekeeping looks at.
    await db
      .collection('evidence_chunks')
      .updateOne({ evidenceId: kept.body.evidence!.id }, { $set: { createdAt: new Date('2026-11-28T07:00:00Z') } });
    const orphan = { evidenceId: '6f1f8a52-5d0e-4b1e-9a3e-0c3f7f0d7c11', caseId: c.id, memberState: 'NL', partner: 'P-AF-HOPE' };
    await db.collection('evidence_chunks').insertOne({
      _id: `${orphan.evidenceId}:0` as never,
      ...orphan,
      sharedWithPartner: true,
      n: 0,
      data: Buffer.from('left by a crash'),
      createdAt: new Date('2026-11-28T07:00:00Z'),
    });
    expect(await gw.services.evidence.purgeAbandonedChunks()).toBe(1);
    expect(await db.collection('evidence_chunks').countDocuments({ evidenceId: orphan.evidenceId })).toBe(0);
    expect(await stored(c.id)).toEqual({ evidence: 1, chunks: 1 });
  });

  it('a declared length over the limit is refused before reading; exactly the limit is accepted', async () => {
    const { flow, c } = await approvedCase();
    const over = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'PHOTO' }, pngOfSize(LIMIT + 1));
    expect(over.status).toBe(413);
    const exact = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'PHOTO' }, pngOfSize(LIMIT));
    expect(exact.status).toBe(201);
    expect(exact.body.evidence?.size).toBe(LIMIT);
    expect(await stored(c.id)).toEqual({ evidence: 1, chunks: 2 });
  });

  it('the content is stored encrypted in 255 KiB chunks with its SHA-256, and comes back whole', async () => {
    const { flow, c } = await approvedCase();
    const pdf = Buffer.concat([samplePdf('SECRET-INVOICE-TEXT'), Buffer.alloc(280_000, 0x20)]);
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'INVOICE', filename: 'invoice.pdf' }, pdf);
    expect(r.status).toBe(201);
    const id = r.body.evidence!.id;
    const db = await gw.raw();
    const chunks = await db.collection('evidence_chunks').find({ evidenceId: id }).sort({ n: 1 }).toArray();
    expect(chunks.map((ch) => ch.n)).toEqual([0, 1]);
    const raw = JSON.stringify(chunks) + JSON.stringify(await db.collection('events').find({ caseId: c.id }).toArray());
    expect(raw).not.toContain('SECRET-INVOICE-TEXT');
    expect(raw).not.toContain(Buffer.from('SECRET-INVOICE-TEXT').toString('base64').slice(0, 16));
    const meta = await db.collection('evidence').findOne({ _id: id as never });
    // The name and the digest (which would confirm a guessed file) are sealed under the case's key too.
    expect(meta).toMatchObject({ chunkCount: 2, size: pdf.length, sha256Sealed: expect.stringMatching(/^k1:/) });
    expect(meta).not.toHaveProperty('sha256');
    expect(meta).not.toHaveProperty('filename');
    const got = await download(id, flow.officer.token);
    expect(got.headers.get('x-evidence-sha256')).toBe(createHash('sha256').update(pdf).digest('hex'));
    expect(Buffer.from(await got.arrayBuffer()).equals(pdf)).toBe(true);
  });

  it('a retried upload with the same Idempotency-Key keeps one copy and answers with it', async () => {
    const { flow, c } = await approvedCase();
    const pdf = samplePdf('retry');
    const headers = { 'idempotency-key': 'upload-receipt-0001' };
    const first = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, pdf, headers);
    const again = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, pdf, headers);
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.evidence?.id).toBe(first.body.evidence?.id);
    expect(await stored(c.id)).toEqual({ evidence: 1, chunks: 1 });
    const other = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('another'), headers);
    expect(other.status).toBe(400);
    expect(await stored(c.id)).toEqual({ evidence: 1, chunks: 1 });
  });

  it('refuses an empty file, an unknown kind, a missing token and a case not yet arrived', async () => {
    const { flow, c } = await approvedCase();
    expect((await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, Buffer.alloc(0))).status).toBe(400);
    expect((await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'SELFIE' }, samplePdf())).status).toBe(400);
    const anonymous = await uploadFile(gw, undefined, { caseId: c.id, kind: 'RECEIPT' }, samplePdf());
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    const referred = await flow.refer(await flow.create());
    const early = await uploadFile(gw, flow.officer.token, { caseId: referred.id, kind: 'RECEIPT' }, samplePdf());
    expect(early.status).toBe(409);
    expect(early.body.errors?.[0]?.extensions.code).toBe('INVALID_TRANSITION');
    expect(await stored(c.id)).toEqual({ evidence: 0, chunks: 0 });
  });
});

describe('downloads', () => {
  it('only the parties to the case get the file: another case’s partner, another state and the REG do not', async () => {
    const { flow, c } = await approvedCase();
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('private'));
    const id = r.body.evidence!.id;
    // Sweden also contracts Hope; a Swedish case with Hope exists, but this file is Dutch.
    await approvedCase('SE', 'P-AF-HOPE');
    for (const [org, role, status, code] of [
      ['P-IQ-TIGRIS', 'partner-officer', 404, 'NOT_FOUND'],
      ['SE', 'caseworker', 404, 'NOT_FOUND'],
      ['EMN-REG', 'reg-analyst', 403, 'FORBIDDEN'],
      ['ERIN-NET', 'network-admin', 403, 'FORBIDDEN'],
    ] as const) {
      const got = await download(id, gw.token(org, role));
      expect(got.status, org).toBe(status);
      const body = (await got.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]?.extensions.code).toBe(code);
    }
    expect((await download(id)).status).toBe(401);
    // Nor can they upload onto it.
    const foreign = await uploadFile(
      gw,
      gw.token('P-IQ-TIGRIS', 'partner-officer'),
      { caseId: c.id, kind: 'RECEIPT' },
      samplePdf(),
    );
    expect(foreign.status).toBe(404);
    expect(await stored(c.id)).toEqual({ evidence: 1, chunks: 1 });
  });

  it('a file is never a page of the gateway’s origin: not markup, not inline, not sniffed, sandboxed, its name unable to add a header', async () => {
    const { flow, c } = await approvedCase();
    // Markup is refused whatever it is declared as.
    for (const [type, body] of [
      ['text/html', '<html><script>parent.hacked=1</script></html>'],
      ['image/svg+xml', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ] as const) {
      const refused = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, Buffer.from(body), {
        'content-type': type,
        'x-file-name': encodeURIComponent('receipt.html'),
      });
      expect(refused.status, type).toBe(415);
    }
    // A PDF that carries markup too, declared as HTML, named to end the header and add another.
    const polyglot = Buffer.concat([samplePdf('receipt'), Buffer.from('<html><script>parent.hacked=1</script></html>')]);
    const name = 'receipt".html"; filename*=UTF-8\'\'x.html\r\nSet-Cookie: a=b\r\n.html';
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, polyglot, {
      'content-type': 'text/html',
      'x-file-name': encodeURIComponent(name),
    });
    expect(r.status).toBe(201);
    const got = await download(r.body.evidence!.id, flow.state.token);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/pdf');
    expect(got.headers.get('x-content-type-options')).toBe('nosniff');
    expect(got.headers.get('set-cookie')).toBeNull();
    const disposition = got.headers.get('content-disposition')!;
    // One attachment with one plain and one encoded name, each the PDF it is.
    expect(disposition).toMatch(/^attachment; filename="[^"\\]*\.pdf"; filename\*=UTF-8''[^'";\s]*\.pdf$/);
    // Were a browser ever to show it, it would run nothing and be nobody's origin, framed by nobody.
    const csp = got.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/(^|;\s*)sandbox(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(got.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    await got.arrayBuffer();
  });

  it('every download is an event in the case’s audit trail, written before the file is sent; a refused one is not', async () => {
    const { flow, c } = await approvedCase();
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('audited'));
    const id = r.body.evidence!.id;
    await (await download(id, flow.state.token)).arrayBuffer();
    await (await download(id, flow.officer.token)).arrayBuffer();
    await (await download(id, gw.token('P-IQ-TIGRIS', 'partner-officer'))).arrayBuffer();
    const events = (await gw.services.log.page(0, 100_000)).filter((e) => e.caseId === c.id && e.type === 'EvidenceDownloaded');
    expect(events.map((e) => [e.actor.organisation, e.data.evidenceId])).toEqual([
      ['NL', id],
      ['P-AF-HOPE', id],
    ]);
    // Audited reads: in the case's audit trail for both parties, never in their change feed.
    expect(events[0]?.audience.sort()).toEqual(['audit:NL', 'audit:P-AF-HOPE']);
    const { auditTrail } = await flow.state.ok<{ auditTrail: { entries: { type: string }[] } }>(
      'query ($id: ID!) { auditTrail(caseId: $id, first: 500) { entries { type } } }',
      { id: c.id },
    );
    expect(auditTrail.entries.filter((e) => e.type === 'EvidenceDownloaded')).toHaveLength(2);
    const { changes } = await flow.officer.ok<{ changes: { changes: { type: string }[] } }>(
      '{ changes(first: 1000) { changes { type } } }',
    );
    expect(changes.changes.map((ch) => ch.type)).not.toContain('EvidenceDownloaded');
  });

  it('an upload reaches both parties’ change feeds as EVIDENCE of its case, with its metadata', async () => {
    const { flow, c } = await approvedCase();
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'INVOICE' }, samplePdf('feed'));
    const query = '{ changes(first: 1000) { changes { kind caseId aggregateId state { ... on Evidence { id kind sha256 } } } } }';
    for (const client of [flow.state, flow.officer]) {
      const { changes } = await client.ok<{
        changes: { changes: { kind: string; caseId: string | null; aggregateId: string; state: unknown }[] };
      }>(query);
      const mine = changes.changes.filter((ch) => ch.kind === 'EVIDENCE' && ch.aggregateId === r.body.evidence!.id);
      expect(mine).toEqual([
        {
          kind: 'EVIDENCE',
          caseId: c.id,
          aggregateId: r.body.evidence!.id,
          state: { id: r.body.evidence!.id, kind: 'INVOICE', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
        },
      ]);
    }
    const outsider = await gw.as('P-IQ-TIGRIS', 'partner-officer').ok<{ changes: { changes: { aggregateId: string }[] } }>(query);
    expect(outsider.changes.changes.map((ch) => ch.aggregateId)).not.toContain(r.body.evidence!.id);
  });

  it('a tampered chunk does not open: the download fails instead of serving altered content', async () => {
    const { flow, c } = await approvedCase();
    const r = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf('tamper'));
    const id = r.body.evidence!.id;
    const db = await gw.raw();
    const chunk = await db.collection('evidence_chunks').findOne({ evidenceId: id });
    const data = Buffer.from((chunk!.data as { buffer: Uint8Array }).buffer);
    data.writeUInt8(data.readUInt8(data.length - 1) ^ 0xff, data.length - 1);
    await db.collection('evidence_chunks').updateOne({ _id: chunk!._id }, { $set: { data } });
    const got = await download(id, flow.officer.token);
    expect(got.status).toBe(500);
    expect(await got.text()).not.toContain('tamper');
  });
});

describe('a case’s list of files', () => {
  const FILES = 'query ($id: ID!) { case(id: $id) { id evidence { id } } }';
  type Files = { case: { evidence: { id: string }[] } };

  /** The case's files as a client reads them, and the fields the store was asked for files by. */
  async function filesAs(client: ReturnType<TestGateway['as']>, caseId: string) {
    const from = gw.store.recorder.queries.length;
    const result = await client.ok<Files>(FILES, { id: caseId });
    const asked = gw.store.recorder.queries.slice(from).filter((q) => q.collection === 'evidence');
    return { ids: result.case.evidence.map((e) => e.id).sort(), fields: [...new Set(asked.map((q) => q.filterFields.join()))] };
  }

  async function upload(flow: Awaited<ReturnType<typeof approvedCase>>['flow'], caseId: string, text: string) {
    const r = await uploadFile(gw, flow.officer.token, { caseId, kind: 'RECEIPT' }, samplePdf(text));
    expect(r.status).toBe(201);
    return r.body.evidence!.id;
  }

  it('concurrent uploads to one case are all listed, none lost, and its page reads each by primary key', async () => {
    const { flow, c } = await approvedCase();
    const uploads = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf(`at once ${i}`)),
      ),
    );
    expect(uploads.map((u) => u.status)).toEqual(Array(6).fill(201));
    const ids = uploads.map((u) => u.body.evidence!.id).sort();
    // Each version of the list holds the one before it; the newest holds every file.
    const versions = await (await gw.raw()).collection('case_file_lists').find({ caseId: c.id }).sort({ version: 1 }).toArray();
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6]);
    versions.slice(1).forEach((v, i) => expect((v.ids as string[]).slice(0, i + 1)).toEqual(versions[i]!.ids));
    expect([...(versions.at(-1)!.ids as string[])].sort()).toEqual(ids);
    for (const client of [flow.state, flow.officer]) expect(await filesAs(client, c.id)).toEqual({ ids, fields: ['_id'] });
  });

  it('writers adding to one list at once meet each other’s versions and lose none (the insert is the claim)', async () => {
    const { c } = await approvedCase();
    const files = gw.services.caseStore.files;
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const { names } = await gw.store.recorder.countDuring(() => Promise.all(ids.map((id) => files.add(c.id, id))));
    // All read the head at once, so most found their first version taken and went on from the rival's.
    expect(names.filter((n) => n === 'insert case_file_lists').length).toBeGreaterThan(ids.length);
    const head = await files.head(c.id);
    const newest = await files.after(c.id, head!);
    expect(newest.version).toBe(ids.length);
    expect([...newest.ids].sort()).toEqual([...ids].sort());
    // The head may lag behind crossing writers, never skip: what it holds is a version of the list.
    expect(newest.ids.slice(0, head!.ids.length)).toEqual(head!.ids);
  });

  it('a file listed on the wrong case is never shown: neither another organisation’s nor another case’s of the same partner', async () => {
    const nl = await approvedCase('NL', 'P-AF-HOPE');
    const se = await approvedCase('SE', 'P-AF-HOPE');
    const sibling = await approvedCase('NL', 'P-AF-HOPE');
    const own = await upload(nl.flow, nl.c.id, 'own file');
    const swedish = await upload(se.flow, se.c.id, 'swedish file');
    const siblings = await upload(sibling.flow, sibling.c.id, 'sibling file');
    // A list names ids only; were it to name other cases' files (a bug, a tampered store), the
    // files are still read through the reader's scope and must belong to the case asked for.
    await gw.services.caseStore.files.add(nl.c.id, swedish);
    await gw.services.caseStore.files.add(nl.c.id, siblings);
    // Nor a file that names this case but is held in another organisation's scope (tenant
    // fields that disagree with its case): the reader's scope decides, not the case id.
    const db = await gw.raw();
    const stray = { ...(await db.collection('evidence').findOne({ _id: own as never }))!, _id: randomUUID() as never };
    await db.collection('evidence').insertOne({ ...stray, memberState: 'SE', partner: 'P-IQ-TIGRIS' });
    await gw.services.caseStore.files.add(nl.c.id, String(stray._id));
    for (const client of [nl.flow.state, nl.flow.officer])
      expect(await filesAs(client, nl.c.id)).toEqual({ ids: [own], fields: ['_id'] });
    expect((await filesAs(se.flow.state, se.c.id)).ids).toEqual([swedish]);
  });

  it('another organisation asking for a case’s files by its case id gets NOT_FOUND and reads none of them', async () => {
    const { flow, c } = await approvedCase();
    await upload(flow, c.id, 'not yours');
    for (const [org, role] of [
      ['SE', 'caseworker'],
      ['P-IQ-TIGRIS', 'partner-officer'],
    ] as const) {
      const from = gw.store.recorder.queries.length;
      const r = await gw.as(org, role).gql<Files>(FILES, { id: c.id });
      expect(r.errors?.[0]?.extensions.code, org).toBe('NOT_FOUND');
      expect(r.data?.case ?? null).toBeNull();
      expect(
        gw.store.recorder.queries.slice(from).filter((q) => q.collection === 'evidence'),
        org,
      ).toEqual([]);
    }
  });
});
