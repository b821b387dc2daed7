// Progress updates and spend: the budget per component (and what an amendment changes),
// corrections that replace without editing, who may post what and when, pagination and
// retries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import {
  approvedWith,
  BUDGET_FIELDS,
  implementation,
  UPDATE_FIELDS,
  type Tracked,
  type Update,
} from './helpers/implementation.ts';
import { samplePng } from '../src/seed/sample-files.ts';

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ clock: clockAt('2026-11-28T10:00:00Z') });
});
afterAll(async () => {
  await gw?.close();
});

/** A case with an approved plan: training of 800.00 EUR and local materials of 400.00 EUR. */
const approvedCase = () =>
  approvedWith(gw, [
    { ...trainingComponent(80000), id: 'training' },
    { ...materialsComponent(15000), id: 'tools' },
  ]);

const purchase = (componentId: string, amount: number, proof: string, extra: Record<string, unknown> = {}) => ({
  kind: 'PURCHASE',
  componentId,
  narrative: `Paid ${amount} for ${componentId}`,
  language: 'en',
  occurredOn: '2026-11-25',
  spend: { amount: { amount, currency: 'EUR' }, proof },
  ...extra,
});

async function caseView(client: ReturnType<TestGateway['as']>, id: string) {
  const { case: c } = await client.ok<{
    case: {
      version: number;
      status: string;
      budget: { actual: { amount: number }; lines: { component: { id: string }; actual: { amount: number } }[] };
      progress: { totalCount: number; edges: { node: Update }[] };
    };
  }>(
    `query ($id: ID!) { case(id: $id) { version status ${BUDGET_FIELDS} progress(first: 100) { totalCount edges { node { ${UPDATE_FIELDS} } } } } }`,
    {
      id,
    },
  );
  return c;
}

describe('budget', () => {
  it('spend that would take a component past its approved amount is BUDGET_EXCEEDED with the figures, and changes nothing', async () => {
    const { flow, impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    await impl.post(c, purchase('training', 50000, receipt.id));
    const before = await caseView(flow.officer, c.id);
    const seq = await gw.services.log.lastSeq();

    const r = await impl.postRaw(c, purchase('training', 40000, receipt.id));
    expect(codes(r)).toEqual(['BUDGET_EXCEEDED']);
    expect(r.errors?.[0]?.extensions.figures).toEqual({
      componentId: 'training',
      approvedEur: 80000,
      spentEur: 50000,
      spendEur: 40000,
      wouldBeEur: 90000,
      overByEur: 10000,
      currency: 'EUR',
    });
    expect(r.errors?.[0]?.message).toMatch(/100\.00 EUR more than its approved 800\.00 EUR/);
    expect(await caseView(flow.officer, c.id)).toEqual(before);
    // Only the audited reads of the narratives above were appended: no write.
    expect((await gw.services.log.page(seq, 100)).filter((e) => e.type !== 'PersonalDataRead')).toEqual([]);

    // Exactly up to the approved amount is fine.
    const exact = await impl.post(c, purchase('training', 30000, receipt.id));
    expect(exact.case.version).toBe(before.version + 1);
    expect((await caseView(flow.state, c.id)).budget.lines[0]).toEqual({
      component: { id: 'training', kind: 'TRAINING', title: 'Tailoring course' },
      planned: { amount: 80000 },
      actual: { amount: 80000 },
      remaining: { amount: 0 },
    });
  });

  it('an approved amendment that raises a component lets the spend through; a pending one does not', async () => {
    const { flow, impl, c, approved } = await approvedCase();
    const receipt = await impl.upload(c);
    await impl.post(c, purchase('training', 80000, receipt.id));
    const raise = {
      components: [
        { ...trainingComponent(100000), id: 'training' },
        { ...materialsComponent(15000), id: 'tools' },
      ],
    };
    const pending = await flow.submit(await flow.draft({ ...approved, version: c.version }, raise));
    c.version = pending.version;
    expect(codes(await impl.postRaw(c, purchase('training', 15000, receipt.id)))).toEqual(['BUDGET_EXCEEDED']);
    const amended = await flow.approve(pending);
    c.version = amended.version;
    expect(amended.planInForce?.planVersion).toBe(2);
    await impl.post(c, purchase('training', 15000, receipt.id));
    const view = await caseView(flow.officer, c.id);
    expect(view.budget.lines[0]).toMatchObject({
      planned: { amount: 100000 },
      actual: { amount: 95000 },
      remaining: { amount: 5000 },
    });
    // Still capped at the raised amount.
    expect(codes(await impl.postRaw(c, purchase('training', 5001, receipt.id)))).toEqual(['BUDGET_EXCEEDED']);
  });
});

describe('corrections', () => {
  it('a correction is a new update that replaces the one it corrects, in the budget too; the original is never edited', async () => {
    const { flow, impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    const wrong = await impl.post(c, purchase('training', 60000, receipt.id));
    const raw = await gw.raw();
    const original = await raw.collection('progress_updates').findOne({ _id: wrong.update.id as never });

    const fixed = await impl.post(
      c,
      purchase('training', 6000, receipt.id, { corrects: wrong.update.id, narrative: 'Paid 60.00, not 600.00' }),
    );
    expect(fixed.update.corrects).toEqual({ id: wrong.update.id });
    const view = await caseView(flow.state, c.id);
    expect(view.budget.actual.amount).toBe(6000);
    const byId = new Map(view.progress.edges.map((e) => [e.node.id, e.node]));
    expect(byId.get(wrong.update.id)?.correctedBy).toEqual({ id: fixed.update.id });
    expect(byId.get(fixed.update.id)?.correctedBy).toBeNull();
    expect(await raw.collection('progress_updates').findOne({ _id: wrong.update.id as never })).toEqual(original);
    expect((await gw.services.log.history(c.id)).at(-1)?.type).toBe('ProgressCorrected');
  });

  it('only the newest version can be corrected: a corrected update refuses a second correction, its correction takes one', async () => {
    const { impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    const first = await impl.post(c, purchase('training', 30000, receipt.id));
    const second = await impl.post(c, purchase('training', 31000, receipt.id, { corrects: first.update.id }));
    const again = await impl.postRaw(c, purchase('training', 32000, receipt.id, { corrects: first.update.id }));
    expect(codes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors?.[0]?.message).toContain(second.update.id);
    const third = await impl.post(c, purchase('training', 32000, receipt.id, { corrects: second.update.id }));
    expect(third.update.corrects).toEqual({ id: second.update.id });
  });

  it('a correction is checked against the budget without the spend it replaces', async () => {
    const { flow, impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    const first = await impl.post(c, purchase('training', 50000, receipt.id));
    // 50,000 replaced by 80,000: exactly the approved amount.
    const up = await impl.post(c, purchase('training', 80000, receipt.id, { corrects: first.update.id }));
    expect(codes(await impl.postRaw(c, purchase('training', 80001, receipt.id, { corrects: up.update.id })))).toEqual([
      'BUDGET_EXCEEDED',
    ]);
    // Posted in error: a correction without spend takes the spend away.
    await impl.post(c, {
      kind: 'OTHER',
      narrative: 'Posted in error',
      language: 'en',
      occurredOn: '2026-11-25',
      corrects: up.update.id,
    });
    expect((await caseView(flow.officer, c.id)).budget.actual.amount).toBe(0);
  });

  it('only the organisation that posted an update corrects it, and only on its own case', async () => {
    const { flow, impl, c } = await approvedCase();
    const note = await impl.post(c, { kind: 'OTHER', narrative: 'Partner note', language: 'en', occurredOn: '2026-11-25' });
    const byState = await impl.postRaw(
      c,
      { kind: 'OTHER', narrative: 'Edited by the state', language: 'en', occurredOn: '2026-11-25', corrects: note.update.id },
      flow.state,
    );
    expect(codes(byState)).toEqual(['FORBIDDEN']);
    const other = await approvedCase();
    const elsewhere = await other.impl.postRaw(other.c, {
      kind: 'OTHER',
      narrative: 'x',
      language: 'en',
      occurredOn: '2026-11-25',
      corrects: note.update.id,
    });
    expect(codes(elsewhere)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('who posts what, and when', () => {
  it('before approval only arrival support, counselling, concerns and other news; the first update after approval starts the implementation', async () => {
    const flow = workflow(gw);
    const arrived = await flow.arrived();
    const impl = implementation(gw, flow);
    const c: Tracked = { id: arrived.id, version: arrived.version };
    const early = await impl.post(c, { kind: 'ARRIVAL_SUPPORT', narrative: 'Given', language: 'en', occurredOn: '2026-11-21' });
    expect(early.case.status).toBe('ARRIVED');
    const training = await impl.postRaw(c, {
      kind: 'TRAINING_ATTENDANCE',
      componentId: 'x',
      narrative: 'Too early',
      language: 'en',
      occurredOn: '2026-11-21',
    });
    expect(codes(training)).toEqual(['INVALID_TRANSITION']);
    const approved = await flow.approve(
      await flow.submit(await flow.draft({ ...arrived, version: c.version }, { components: [trainingComponent(80000)] })),
    );
    c.version = approved.version;
    const first = await impl.post(c, {
      kind: 'CONCERN',
      narrative: 'Hard to reach by phone',
      language: 'en',
      occurredOn: '2026-11-27',
    });
    expect(first.case.status).toBe('IN_IMPLEMENTATION');
  });

  it('a member state reports counselling, concerns and other news, never spend', async () => {
    const { flow, impl, c } = await approvedCase();
    const receipt = await impl.upload(c, 'RECEIPT', undefined, 'r.pdf', flow.state);
    const ok = await impl.post(
      c,
      { kind: 'COUNSELLING', narrative: 'Called the returnee', language: 'nl', occurredOn: '2026-11-26' },
      flow.state,
    );
    expect(ok.update.postedBy.organisation.code).toBe('NL');
    expect(codes(await impl.postRaw(c, purchase('training', 100, receipt.id), flow.state))).toEqual(['FORBIDDEN']);
    expect(
      codes(
        await impl.postRaw(
          c,
          {
            kind: 'OTHER',
            narrative: 'x',
            language: 'en',
            occurredOn: '2026-11-26',
            componentId: 'training',
            spend: { amount: { amount: 1, currency: 'EUR' }, proof: receipt.id },
          },
          flow.state,
        ),
      ),
    ).toEqual(['FORBIDDEN']);
  });

  it('refuses bad updates, naming the field', async () => {
    const { impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    const photo = await impl.upload(c, 'PHOTO', samplePng(), 'shop.png');
    const other = await approvedCase();
    const foreign = await other.impl.upload(other.c);
    const cases: [string, Record<string, unknown>, string][] = [
      ['a monitoring visit', { kind: 'MONITORING_VISIT', narrative: 'x', language: 'en', occurredOn: '2026-11-25' }, 'kind'],
      [
        'a purchase without spend',
        { kind: 'PURCHASE', componentId: 'training', narrative: 'x', language: 'en', occurredOn: '2026-11-25' },
        'spend',
      ],
      ['spend without a component', { ...purchase('training', 100, receipt.id), componentId: null }, 'componentId'],
      ['an unknown component', purchase('nope', 100, receipt.id), 'componentId'],
      [
        'a training update on materials',
        { kind: 'TRAINING_COMPLETED', componentId: 'tools', narrative: 'x', language: 'en', occurredOn: '2026-11-25' },
        'componentId',
      ],
      ['proof from another case', purchase('training', 100, foreign.id), 'spend.proof'],
      ['a photo as proof of payment', purchase('training', 100, photo.id), 'spend.proof'],
      ['a day in the future', purchase('training', 100, receipt.id, { occurredOn: '2026-11-29' }), 'occurredOn'],
      ['a day before the arrival', purchase('training', 100, receipt.id, { occurredOn: '2026-11-19' }), 'occurredOn'],
      ['no language tag', purchase('training', 100, receipt.id, { language: 'English!' }), 'language'],
      [
        'a negative amount',
        { ...purchase('training', 100, receipt.id), spend: { amount: { amount: -5, currency: 'EUR' }, proof: receipt.id } },
        'spend.amount.amount',
      ],
      [
        'a currency without a rate',
        { ...purchase('training', 100, receipt.id), spend: { amount: { amount: 5, currency: 'CHF' }, proof: receipt.id } },
        'currency',
      ],
    ];
    for (const [what, input, path] of cases) {
      const r = await impl.postRaw(c, input);
      expect(codes(r), what).toEqual(['BAD_USER_INPUT']);
      const problems = (r.errors?.[0]?.extensions.problems ?? []) as { path: string }[];
      expect(
        problems.map((p) => p.path),
        what,
      ).toContain(path);
    }
  });

  it('a closed case takes no more updates', async () => {
    const { flow, impl, c, approved } = await approvedCase();
    const closed = await flow.close({ ...approved, version: c.version }, 'OPTED_OUT');
    c.version = closed.version;
    const r = await impl.postRaw(c, { kind: 'OTHER', narrative: 'x', language: 'en', occurredOn: '2026-11-25' });
    expect(codes(r)).toEqual(['INVALID_TRANSITION']);
    expect(r.errors?.[0]?.extensions.from).toBe('CLOSED');
  });
});

describe('reading and retrying', () => {
  it('progress pages newest first with Relay cursors', async () => {
    const { flow, impl, c } = await approvedCase();
    const posted: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      posted.push(
        (await impl.post(c, { kind: 'OTHER', narrative: `note ${i}`, language: 'en', occurredOn: '2026-11-25' })).update.id,
      );
    }
    const PAGE = `query ($id: ID!, $after: String) { case(id: $id) { progress(first: 2, after: $after) {
      totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
    type Page = {
      case: {
        progress: {
          totalCount: number;
          edges: { node: { id: string } }[];
          pageInfo: { hasNextPage: boolean; endCursor: string };
        };
      };
    };
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 3; page += 1) {
      const r: Page = await flow.state.ok<Page>(PAGE, { id: c.id, after });
      expect(r.case.progress.totalCount).toBe(5);
      seen.push(...r.case.progress.edges.map((e) => e.node.id));
      expect(r.case.progress.pageInfo.hasNextPage).toBe(page < 2);
      after = r.case.progress.pageInfo.endCursor;
    }
    expect(seen).toEqual([...posted].reverse());
    expect(codes(await flow.state.gql(PAGE, { id: c.id, after: 'bm9wZQ' }))).toEqual(['BAD_USER_INPUT']);
  });

  it('a retried post with the same idempotency key writes once and answers the same', async () => {
    const { impl, c } = await approvedCase();
    const receipt = await impl.upload(c);
    const version = c.version;
    const first = await impl.post(c, purchase('training', 1000, receipt.id), undefined, 'purchase-0001');
    c.version = version;
    const retry = await impl.post(c, purchase('training', 1000, receipt.id), undefined, 'purchase-0001');
    expect(retry).toEqual(first);
    const history = await gw.services.log.history(c.id);
    expect(history.filter((e) => e.type === 'ProgressPosted')).toHaveLength(1);
  });
});

describe('narratives at rest', () => {
  it('are encrypted in the store and read back in clear by the parties', async () => {
    const { flow, impl, c } = await approvedCase();
    const narrative = 'Client disclosed a relapse of tuberculosis; needs a clinic near the workshop';
    await impl.post(c, { kind: 'CONCERN', narrative, language: 'en', occurredOn: '2026-11-25' });
    const raw = JSON.stringify(await (await gw.raw()).collection('progress_updates').find({ caseId: c.id }).toArray());
    const events = JSON.stringify(await (await gw.raw()).collection('events').find({ caseId: c.id }).toArray());
    for (const text of [raw, events]) expect(text).not.toContain('tuberculosis');
    for (const client of [flow.state, flow.officer]) {
      const view = await caseView(client, c.id);
      expect(view.progress.edges.map((e) => e.node.narrative)).toContain(narrative);
    }
  });
});
