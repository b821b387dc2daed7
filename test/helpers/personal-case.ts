// A case full of personal content (special categories, a narrative, survey answers, a file),
// and a raw dump of every collection of the store to search it in, as an attacker with a copy
// of the database would (the feed's compressed segments opened).
import { inflateRawSync } from 'node:zlib';
import { expect } from 'vitest';
import { BSON, type Db } from 'mongodb';
import type { TestGateway } from './gateway.ts';
import { trainingComponent, workflow } from './factories.ts';
import { implementation, surveyAnswers, uploadFile } from './implementation.ts';
import { samplePdf } from '../../src/seed/sample-files.ts';

/** The personal values of one case; `tag` makes them this case's own, so a search finds no other. */
export function personalValues(tag = '') {
  return {
    notes: `Trafficked through Libya; untreated hepatitis ${tag}`.trim(),
    needs: `Lives with no adult relative; school dropout ${tag}`.trim(),
    narrative: `He told us about panic attacks at night ${tag}`.trim(),
    invoiceText: `INVOICE-FOR-PSYCHIATRIC-CARE ${tag}`.trim(),
    filename: `invoice${tag ? `-${tag}` : ''}.pdf`,
  };
}
export type PersonalValues = ReturnType<typeof personalValues>;

/** An unaccompanied minor's case carried to monitoring, with a narrative, a survey and a file. */
export async function minorsCase(gw: TestGateway, values: PersonalValues = personalValues()) {
  const flow = workflow(gw);
  const impl = implementation(gw, flow);
  const arrived = await flow.arrived(
    {
      household: [{ yearOfBirth: 2010, gender: 'MALE', relation: 'PRINCIPAL' }],
      vulnerability: { unaccompaniedMinor: true, victimOfTrafficking: true, medicalNeeds: true, notes: values.notes },
      needsAssessment: values.needs,
    },
    '2026-11-20',
  );
  const c = await flow.approve(await flow.submit(await flow.draft(arrived, { components: [trainingComponent(80000)] })));
  const upload = await uploadFile(
    gw,
    flow.officer.token,
    { caseId: c.id, kind: 'INVOICE', filename: values.filename },
    samplePdf(values.invoiceText),
  );
  expect(upload.status).toBe(201);
  const tracked = { id: c.id, version: c.version };
  await impl.post(tracked, { kind: 'OTHER', narrative: values.narrative, language: 'en', occurredOn: '2026-11-25' });
  await impl.visit(tracked, {
    visitedOn: '2026-11-27',
    narrative: `${values.narrative} (visit)`,
    language: 'en',
    answers: surveyAnswers({ PSY_DISTRESS: 'OFTEN' }),
  });
  return { flow, impl, c: tracked, reference: c.reference, evidenceId: upload.body.evidence!.id };
}

/** Every document of every collection, as text, with the feed's compressed segments opened. */
export async function dump(db: Db): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const { name } of await db.listCollections().toArray()) {
    const docs = await db.collection(name).find({}).toArray();
    const inflated = docs.flatMap((d) => {
      const events = (d as { events?: { buffer?: Uint8Array } }).events;
      if (!events?.buffer) return [];
      // Concatenated BSON documents, raw-deflated (src/modules/feed/segments.ts).
      const bytes = inflateRawSync(Buffer.from(events.buffer));
      const decoded = [];
      for (let at = 0; at < bytes.length; at += bytes.readInt32LE(at)) {
        decoded.push(BSON.deserialize(bytes.subarray(at, at + bytes.readInt32LE(at))));
      }
      return [JSON.stringify(decoded)];
    });
    // Binary fields (evidence chunks) as latin1 text too, so a byte string in clear would show.
    const binaries = docs.flatMap((d) => {
      const data = (d as { data?: { buffer?: Uint8Array } }).data;
      return data?.buffer instanceof Uint8Array ? [Buffer.from(data.buffer).toString('latin1')] : [];
    });
    out.set(name, JSON.stringify(docs) + inflated.join('\n') + binaries.join('\n'));
  }
  return out;
}
