// Special-category data (health, trafficking, minors): encrypted at rest, visible only to
// the referring state and the assigned partner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { caseInput, CREATE_CASE, workflow } from './helpers/factories.ts';
import { canonicalJson, sha256Hex } from '../src/events/canonical.ts';
import { createCaseInput } from '../src/modules/cases/case.inputs.ts';
import { parseInput } from '../src/validation.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway();
});
afterAll(async () => {
  await gw?.close();
});

const SECRET_NOTES = 'Needs dialysis twice a week; trafficked via Libya in 2024';
const SECRET_NEEDS = 'Severe PTSD; avoid group sessions with men';
const vulnerable = {
  vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: true, medicalNeeds: true, notes: SECRET_NOTES },
  needsAssessment: SECRET_NEEDS,
};
const SENSITIVE = `query ($id: ID!) { case(id: $id) { reference needsAssessment vulnerability { victimOfTrafficking medicalNeeds notes } } }`;

describe('special-category data', () => {
  it('the raw store holds no plaintext of it, in the case, the plans or the event log', async () => {
    const flow = workflow(gw);
    const c = await flow.refer(await flow.create(vulnerable));
    const db = await gw.raw();
    for (const name of ['cases', 'events', 'plans', 'idempotency']) {
      const docs = await db.collection(name).find({}).toArray();
      const raw = JSON.stringify(docs);
      for (const secret of [SECRET_NOTES, SECRET_NEEDS, 'dialysis', 'PTSD', 'trafficked'])
        expect(raw, `${name} holds "${secret}"`).not.toContain(secret);
      // Not even the flag names with their values.
      expect(raw).not.toMatch(/"victimOfTrafficking":true/);
    }
    const stored = await db.collection('cases').findOne({ _id: c.id as never });
    expect(stored?.vulnerabilitySealed).toMatch(/^k1:/);
  });

  it('a guess at it cannot be confirmed from the idempotency records or the log', async () => {
    // The request a retry is compared with is kept as a digest. A plain hash of it could be
    // confirmed by whoever has a copy of the store: they know the rest of the case, and the
    // flags are a handful of booleans. The digest is keyed, so every guess misses.
    const input = caseInput(vulnerable);
    const flow = workflow(gw);
    await flow.state.ok(CREATE_CASE, { input, key: 'intake-guess-0001' });
    const db = await gw.raw();
    const stored = JSON.stringify([
      await db.collection('idempotency').findOne({ _id: 'NL:intake-guess-0001' as never }),
      await db.collection('events').findOne({ idempotencyKey: 'NL:intake-guess-0001' }),
    ]);
    const guesses = [false, true].flatMap((minor) =>
      [false, true].flatMap((trafficking) =>
        [false, true].map((medical) => ({
          ...input,
          vulnerability: {
            ...vulnerable.vulnerability,
            unaccompaniedMinor: minor,
            victimOfTrafficking: trafficking,
            medicalNeeds: medical,
          },
        })),
      ),
    );
    const digests = guesses.flatMap((guess) => {
      const parsed = parseInput(createCaseInput, guess);
      return [canonicalJson({ command: 'createCase', input: parsed }), canonicalJson(parsed)].map(sha256Hex);
    });
    expect(digests).toHaveLength(16);
    for (const digest of digests) expect(stored).not.toContain(digest);
    expect(stored).toMatch(/"inputHash":"[0-9a-f]{8}:[0-9a-f]{64}"/);
  });

  it('the referring state and the assigned partner read it', async () => {
    const flow = workflow(gw);
    const c = await flow.refer(await flow.create(vulnerable));
    for (const client of [flow.state, flow.officer]) {
      const r = await client.ok<{ case: { needsAssessment: string; vulnerability: { notes: string } } }>(SENSITIVE, { id: c.id });
      expect(r.case.needsAssessment).toBe(SECRET_NEEDS);
      expect(r.case.vulnerability.notes).toBe(SECRET_NOTES);
    }
  });

  it('anyone else gets NOT_FOUND for the whole case, and the fields are null after the partner declined', async () => {
    const flow = workflow(gw);
    const c = await flow.refer(await flow.create(vulnerable));
    for (const [org, role] of [
      ['SE', 'caseworker'],
      ['P-IQ-TIGRIS', 'partner-officer'],
      ['EMN-REG', 'reg-analyst'],
      ['ERIN-NET', 'network-admin'],
    ] as const) {
      const r = await gw.as(org, role).gql(SENSITIVE, { id: c.id });
      expect(JSON.stringify(r)).not.toContain('dialysis');
      expect(codes(r)).toEqual([role === 'reg-analyst' || role === 'network-admin' ? 'FORBIDDEN' : 'NOT_FOUND']);
    }
    await flow.decline(c, 'cannot provide dialysis follow-up');
    const afterDecline = await flow.officer.ok<{ case: { needsAssessment: string | null; vulnerability: unknown } }>(SENSITIVE, {
      id: c.id,
    });
    expect(afterDecline.case).toMatchObject({ needsAssessment: null, vulnerability: null });
  });

  it('a ciphertext copied onto another case does not open there', async () => {
    const flow = workflow(gw);
    const a = await flow.create(vulnerable);
    const b = await flow.create();
    const db = await gw.raw();
    const sealed = (await db.collection('cases').findOne({ _id: a.id as never }))?.vulnerabilitySealed as string;
    await db.collection('cases').updateOne({ _id: b.id as never }, { $set: { vulnerabilitySealed: sealed } });
    const r = await flow.state.gql(SENSITIVE, { id: b.id });
    expect(codes(r)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(JSON.stringify(r)).not.toContain('dialysis');
  });
});
