// Paging through the lists with their cursors: every order pages through all cases once,
// and a cursor that is not this list's (another order, another list, tampered, made up,
// oversized) is the client's mistake, BAD_USER_INPUT naming `after`, never a 5xx.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

let gw: TestGateway;
let flow: ReturnType<typeof workflow>;
beforeAll(async () => {
  gw = await startGateway();
  flow = workflow(gw);
  for (let i = 0; i < 5; i += 1) await flow.create();
});
afterAll(async () => {
  await gw?.close();
});

const CASES = `query ($first: Int, $after: String, $order: CaseOrder) {
  cases(first: $first, after: $after, orderBy: $order) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } }
}`;
type Page = {
  cases: { edges: { cursor: string; node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
};
const PROGRESS = `query ($id: ID!, $after: String) { case(id: $id) { progress(first: 2, after: $after) { totalCount } } }`;
const DELIVERIES = `query ($after: String) { webhookDeliveries(first: 2, after: $after) { __typename } }`;
const ORDERS = ['UPDATED_DESC', 'UPDATED_ASC', 'CREATED_DESC', 'REFERENCE_ASC'] as const;

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('list cursors', () => {
  it('each order pages through every case once, in the order of one long page', async () => {
    for (const order of ORDERS) {
      const whole = (await flow.state.ok<Page>(CASES, { first: 100, order })).cases.edges.map((e) => e.node.id);
      expect(whole.length).toBeGreaterThanOrEqual(5);
      const paged: string[] = [];
      let after: string | null = null;
      for (let i = 0; i < 100; i += 1) {
        const page: Page = await flow.state.ok<Page>(CASES, { first: 2, after, order });
        paged.push(...page.cases.edges.map((e) => e.node.id));
        if (!page.cases.pageInfo.hasNextPage) break;
        after = page.cases.pageInfo.endCursor;
      }
      expect(paged, order).toEqual(whole);
    }
  });

  it('a cursor of another order, of another list, tampered with, made up or oversized is refused as bad input', async () => {
    const byUpdate = (await flow.state.ok<Page>(CASES, { first: 1, order: 'UPDATED_DESC' })).cases.edges[0]!.cursor;
    const byReference = (await flow.state.ok<Page>(CASES, { first: 1, order: 'REFERENCE_ASC' })).cases.edges[0]!.cursor;
    const caseId = (await flow.state.ok<Page>(CASES, { first: 1 })).cases.edges[0]!.node.id;
    const bad = [
      byReference, // another order
      b64(['progress', 3]), // another list's
      b64(['UPDATED_DESC', 'not an instant', caseId]),
      b64(['UPDATED_DESC', 12, caseId]),
      b64(['UPDATED_DESC', '2026-01-01T00:00:00.000Z']),
      b64({ order: 'UPDATED_DESC' }),
      b64('erin1:12'), // a feed cursor
      byUpdate.slice(0, -3),
      '!!not base64!!',
      'A'.repeat(100_000),
    ];
    for (const after of bad) {
      const r = await flow.state.gql(CASES, { first: 2, after, order: 'UPDATED_DESC' });
      expect(r.status, after.slice(0, 40)).toBeLessThan(500);
      expect(codes(r), after.slice(0, 40)).toEqual(['BAD_USER_INPUT']);
      expect(JSON.stringify(r.errors)).toContain('after');
    }
    // A case cursor where a progress or delivery cursor belongs.
    expect(codes(await flow.state.gql(PROGRESS, { id: caseId, after: byUpdate }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await flow.state.gql(PROGRESS, { id: caseId, after: b64(['progress', 'x']) }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await flow.state.gql(DELIVERIES, { after: byUpdate }))).toEqual(['BAD_USER_INPUT']);
    expect(codes(await flow.state.gql(DELIVERIES, { after: b64(['deliveries', 'yesterday', 'wd_1']) }))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });
});
