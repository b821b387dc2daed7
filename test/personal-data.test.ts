// A case's personal content at rest and in use: sealed under the case's own key everywhere
// it is stored (the unaccompanied-minor status in the entitlement's lines included), and
// every read of it (special categories, narratives, survey answers) in the case's audit trail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, startGateway, type TestGateway } from './helpers/gateway.ts';
import { AMOUNTS, LINES, workflow, type Amounts, type Lines } from './helpers/factories.ts';
import { dump, minorsCase as personalCase, personalValues } from './helpers/personal-case.ts';

let gw: TestGateway;
beforeAll(async () => {
  // Small feed blocks, so the feed's sealed segments (copies of the log) are part of what is scanned.
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z'), env: { ERIN_FEED_BLOCK_SIZE: '8' } });
});
afterAll(async () => {
  await gw?.close();
});

const { notes: NOTES, needs: NEEDS, narrative: NARRATIVE, invoiceText: INVOICE_TEXT } = personalValues();
const minorsCase = () => personalCase(gw);

describe('personal content at rest', () => {
  it('a raw read of every collection finds no unaccompanied-minor status and no special-category value in clear', async () => {
    const { flow, c } = await minorsCase();
    // Both parties read everything (the reads are logged too), and the feed seals its blocks.
    const FULL = `query ($id: ID!) { case(id: $id) { needsAssessment vulnerability { unaccompaniedMinor notes }
      entitlement { lines { category } } progress(first: 10) { edges { node { narrative } } }
      monitoring { surveys { answers { indicator answer } } } } }`;
    const id = c.id;
    for (const client of [flow.state, flow.officer]) {
      const r = await client.ok<{
        case: { vulnerability: { unaccompaniedMinor: boolean }; entitlement: { lines: { category: string }[] } };
      }>(FULL, { id });
      expect(r.case.vulnerability.unaccompaniedMinor).toBe(true);
      expect(r.case.entitlement.lines).toEqual([{ category: 'UNACCOMPANIED_MINOR' }]);
    }
    await flow.state.ok(`{ changes(first: 500) { changes { cursor } } }`);
    await flow.officer.ok(`{ changes(first: 500) { changes { cursor } } }`);

    const collections = await dump(await gw.raw());
    expect([...collections.keys()]).toEqual(
      expect.arrayContaining([
        'cases',
        'events',
        'feed_segments',
        'progress_updates',
        'surveys',
        'evidence_chunks',
        'idempotency',
        'case_keys',
      ]),
    );
    expect(collections.get('feed_segments')).toContain('"CaseCreated"'); // the segments were opened
    for (const [name, text] of collections) {
      for (const clear of [
        NOTES,
        NEEDS,
        NARRATIVE,
        INVOICE_TEXT,
        'hepatitis',
        'UNACCOMPANIED_MINOR',
        '"unaccompaniedMinor"',
        '"victimOfTrafficking"',
        '"medicalNeeds"',
        'PSY_DISTRESS',
      ])
        expect(text, `${name} holds ${clear}`).not.toContain(clear);
      // The amounts tell it too: this one-person household's 2,000 EUR is EURP's unaccompanied-minor
      // supplement (an accompanied child gets 1,000). No field of any document holds that figure,
      // whatever its name (total, cash cap, a line, a budget, a report), but the programme's own rules.
      const fields = [...text.matchAll(/"(\w+)":(?:\{"\$numberInt":")?200000\b/g)].map((m) => m[1]);
      expect(new Set(fields), `${name} holds the amount in clear`).toEqual(
        new Set(fields.filter((f) => f === 'perAdult' || f === 'perUnaccompaniedMinor')),
      );
    }
  });

  it('the entitlement’s amounts and lines are sealed under the case’s key, and a partner that declined reads none', async () => {
    const flow = workflow(gw);
    const c = await flow.refer(
      await flow.create({
        household: [{ yearOfBirth: 2011, gender: 'FEMALE', relation: 'PRINCIPAL' }],
        vulnerability: { unaccompaniedMinor: true, victimOfTrafficking: false, medicalNeeds: false },
      }),
    );
    const stored = await (await gw.raw()).collection('cases').findOne({ _id: c.id as never });
    for (const clear of ['lines', 'total', 'cashCap', 'linesSealed']) expect(stored?.entitlement).not.toHaveProperty(clear);
    expect(stored?.entitlement.amountsSealed).toMatch(/^k1:/);
    expect(stored?.vulnerabilitySealed).toMatch(/^k1:/);
    // Every copy of the case in the log (its post-images) holds the amounts sealed as well.
    const images = await (await gw.raw()).collection('events').find({ caseId: c.id }).toArray();
    expect(images.length).toBeGreaterThan(0);
    expect(JSON.stringify(images)).not.toMatch(/"total":|"cashCap":|"entitlementEur":/);
    expect((await flow.officer.ok<Lines>(LINES, { id: c.id })).case.entitlement.lines).toEqual([
      { category: 'UNACCOMPANIED_MINOR', persons: 1, each: { amount: 200000 } },
    ]);
    expect((await flow.officer.ok<Amounts>(AMOUNTS, { id: c.id })).case.entitlement).toEqual({
      total: { amount: 200000 },
      cashCap: { amount: 0 },
    });
    await flow.decline(c, 'no place for a minor');
    expect((await flow.officer.ok<Lines>(LINES, { id: c.id })).case.entitlement.lines).toEqual([]);
    expect((await flow.officer.ok<Amounts>(AMOUNTS, { id: c.id })).case.entitlement).toEqual({ total: null, cashCap: null });
    // The member state still reads them.
    expect((await flow.state.ok<Amounts>(AMOUNTS, { id: c.id })).case.entitlement.total).toEqual({ amount: 200000 });
    // Nor through the feed: the case as each event left it follows who may see it now.
    const feed = await flow.officer.ok<{
      changes: {
        changes: { state: { id?: string; entitlement?: { total: unknown; cashCap: unknown; lines: unknown[] } } | null }[];
      };
    }>(
      `{ changes(first: 500) { changes { state { ... on Case { id entitlement { total { amount } cashCap { amount } lines { category } } } } } } }`,
    );
    const mine = feed.changes.changes.filter((ch) => ch.state?.id === c.id);
    expect(mine.length).toBeGreaterThan(0);
    for (const ch of mine) expect(ch.state?.entitlement).toEqual({ total: null, cashCap: null, lines: [] });
  });
});

type Trail = { auditTrail: { entries: { type: string; actor: { organisation: string }; fields: string[] }[] } };
const TRAIL = `query ($id: ID!) { auditTrail(caseId: $id, first: 500) { entries { type actor { organisation } fields } } }`;

describe('reads of personal content', () => {
  it('every read of a narrative, survey answers, the lines or a special category is in the case’s trail: who, which fields', async () => {
    const { flow, c } = await minorsCase();
    const reads = async () =>
      (await flow.state.ok<Trail>(TRAIL, { id: c.id })).auditTrail.entries.filter((e) => e.type === 'PersonalDataRead');
    const before = (await reads()).length;
    await flow.officer.ok(`query ($id: ID!) { case(id: $id) { progress(first: 10) { edges { node { narrative } } } } }`, {
      id: c.id,
    });
    await flow.state.ok(
      `query ($id: ID!) { case(id: $id) { monitoring { surveys { answers { answer } } } entitlement { lines { category } } } }`,
      {
        id: c.id,
      },
    );
    await flow.state.ok(
      `query ($id: ID!) { case(id: $id) { reference status progress(first: 10) { edges { node { kind } } } } }`,
      { id: c.id },
    );
    const after = (await reads()).slice(before);
    expect(after.map((e) => [e.actor.organisation, e.fields])).toEqual([
      ['P-AF-HOPE', ['progress.narrative']],
      ['NL', ['entitlement.lines', 'survey.answers']],
    ]);
    // The partner sees the same trail of its case.
    const partner = (await flow.officer.ok<Trail>(TRAIL, { id: c.id })).auditTrail.entries.filter(
      (e) => e.type === 'PersonalDataRead',
    );
    expect(partner.slice(-2).map((e) => e.fields)).toEqual([['progress.narrative'], ['entitlement.lines', 'survey.answers']]);
  });

  it('a read of the entitlement’s amounts (which tell an unaccompanied minor) is in the trail as well', async () => {
    const { flow, c } = await minorsCase();
    const reads = async () =>
      (await flow.state.ok<Trail>(TRAIL, { id: c.id })).auditTrail.entries.filter((e) => e.type === 'PersonalDataRead');
    const before = (await reads()).length;
    expect((await flow.officer.ok<Amounts>(AMOUNTS, { id: c.id })).case.entitlement.total).toEqual({ amount: 200000 });
    await flow.officer.ok(`query ($id: ID!) { case(id: $id) { budget { entitlement { amount } } } }`, { id: c.id });
    expect((await reads()).slice(before).map((e) => [e.actor.organisation, e.fields])).toEqual([
      ['P-AF-HOPE', ['entitlement.total']],
      ['P-AF-HOPE', ['entitlement.total']],
    ]);
  });

  it('one request reading the lines, the total and the cash cap answers them from the same amounts and notes each field once', async () => {
    const { flow, c } = await minorsCase();
    const reads = async () =>
      (await flow.state.ok<Trail>(TRAIL, { id: c.id })).auditTrail.entries.filter((e) => e.type === 'PersonalDataRead');
    const before = (await reads()).length;
    const ALL = `query ($id: ID!) { case(id: $id) { entitlement { lines { category persons subtotal { amount } }
      total { amount } cashCap { amount } } } }`;
    type All = {
      case: {
        entitlement: {
          lines: { category: string; persons: number; subtotal: { amount: number } }[];
          total: { amount: number };
          cashCap: { amount: number };
        };
      };
    };
    const { entitlement } = (await flow.state.ok<All>(ALL, { id: c.id })).case;
    // Every field from the same opened amounts: the lines add up to the total.
    expect(entitlement.total).toEqual({ amount: 200000 });
    expect(entitlement.lines.reduce((sum, l) => sum + l.subtotal.amount, 0)).toBe(entitlement.total.amount);
    expect(entitlement.cashCap.amount).toBeLessThanOrEqual(entitlement.total.amount);
    expect((await reads()).slice(before).map((e) => [e.actor.organisation, e.fields])).toEqual([
      ['NL', ['entitlement.lines', 'entitlement.total']],
    ]);
  });

  it('reads through the change feed are audited as well', async () => {
    const { flow, c } = await minorsCase();
    const count = async () =>
      (await flow.state.ok<Trail>(TRAIL, { id: c.id })).auditTrail.entries.filter(
        (e) => e.type === 'PersonalDataRead' && e.actor.organisation === 'P-AF-HOPE',
      ).length;
    const before = await count();
    await flow.officer.ok(`{ changes(first: 500) { changes { state { ... on Case { id needsAssessment } } } } }`);
    expect(await count()).toBe(before + 1);
  });
});
