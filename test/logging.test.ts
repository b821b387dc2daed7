// What the log never holds: tokens, and the personal data of the people in the cases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf } from '../src/seed/sample-files.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';
import { uploadFile } from './helpers/implementation.ts';

let gw: TestGateway;
const lines: string[] = [];
beforeAll(async () => {
  gw = await startGateway({ env: { LOG_LEVEL: 'trace' }, logLines: lines });
});
afterAll(async () => {
  await gw?.close();
});

describe('logging', () => {
  it('logs a request id and the operation, never the token, variables or special-category data', async () => {
    const SECRET = 'Diagnosed with tuberculosis in 2025';
    const flow = workflow(gw);
    const c = await flow.create({
      needsAssessment: SECRET,
      vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: true, medicalNeeds: true, notes: SECRET },
    });
    await flow.draft(await flow.arrive(await flow.accept(await flow.refer(c))), { components: [trainingComponent(5000)] });
    // A GET with variables in the query string, and a failing request.
    await fetch(
      `${gw.url}/graphql?query=${encodeURIComponent('query ($id: ID!) { case(id: $id) { needsAssessment } }')}&variables=${encodeURIComponent(JSON.stringify({ id: c.id, note: SECRET }))}`,
      {
        headers: { authorization: `Bearer ${flow.state.token}`, 'apollo-require-preflight': 'true' },
      },
    );
    await gw.gql('{ me { subject } }', {}, { token: `${flow.state.token}x` });

    const log = lines.join('');
    expect(log).toContain('"msg":"graphql operation"');
    expect(log).toMatch(/"req":\{"id":"[0-9a-f-]{36}"/);
    expect(log).toContain('"check":"'); // the refused token's failed check is logged…
    for (const forbidden of [flow.state.token, flow.officer.token, SECRET, 'tuberculosis', c.reference]) {
      expect(log, 'the log holds something it must not').not.toContain(forbidden); // …but never the token itself
    }
  });

  it('never holds the name or digest of a file uploaded or downloaded (sealed at rest, sent in headers)', async () => {
    const flow = workflow(gw);
    const c = await flow.approved({ components: [trainingComponent(5000)] });
    const NAME = 'Rahimi Karim passport';
    const up = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT', filename: `${NAME}.pdf` }, samplePdf());
    expect(up.status).toBe(201);
    // The name as the portal sends it (a header), and a header that does not decode (refused).
    const inHeader = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf(), {
      'x-file-name': encodeURIComponent(`${NAME} back.pdf`),
    });
    expect(inHeader.status).toBe(201);
    const undecodable = await uploadFile(gw, flow.officer.token, { caseId: c.id, kind: 'RECEIPT' }, samplePdf(), {
      'x-file-name': `${encodeURIComponent(NAME)}%E0%A4.pdf`,
    });
    expect(undecodable.status).toBe(400);
    const evidence = up.body.evidence!;
    const download = await fetch(`${gw.url}${evidence.downloadUrl}`, {
      headers: { authorization: `Bearer ${flow.state.token}` },
    });
    expect(download.headers.get('content-disposition')).toContain('Rahimi');
    await download.arrayBuffer();
    // The request's log line is written when the response has finished.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = lines.join('');
    expect(log).toContain(`"path":"/evidence/${evidence.id}"`);
    for (const forbidden of ['Rahimi', evidence.sha256])
      expect(log, 'the log holds something it must not').not.toContain(forbidden);
  });
});
