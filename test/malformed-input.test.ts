// Bad input is the client's fault and answers like it: generated from the schema, every
// argument of every query and mutation gets values of the wrong type, nulls for non-nulls,
// out-of-range numbers, invalid dates and cursors, oversized strings and lists, one place at
// a time. No answer is a 5xx or INTERNAL_SERVER_ERROR; a value that does not coerce is a
// request error naming the variable (400 for application/graphql-response+json, 200 for
// application/json, as the GraphQL-over-HTTP specification says).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPTS, CALLERS, GRAPHQL_RESPONSE, inPool, problemsOf } from './helpers/bad-input.ts';
import { workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import {
  gatewaySchema,
  malformedRequests,
  operationFor,
  rootFields,
  type Hints,
  type RootField,
} from './helpers/schema-inputs.ts';

let gw: TestGateway;
let hints: Hints;
const fields = rootFields(await gatewaySchema()).filter(({ field }) => field.args.length > 0);

beforeAll(async () => {
  gw = await startGateway();
  const flow = workflow(gw);
  const c = await flow.refer(await flow.create());
  // Arguments naming a case point at one that exists, so hostile values get past the lookup.
  hints = { id: c.id, caseId: c.id };
});
afterAll(async () => {
  await gw?.close();
});

describe('malformed variables, generated from the schema', () => {
  it('covers every query and mutation that takes arguments', () => {
    expect(fields.length).toBeGreaterThan(30);
    expect(fields.map((f) => f.field.name)).toEqual(expect.arrayContaining(['case', 'changes', 'createCase', 'saveDraftPlan']));
  });

  it.each(fields.map((f) => [`${f.kind} ${f.field.name}`, f] as [string, RootField]))(
    '%s: no 5xx, no INTERNAL_SERVER_ERROR, and a value that does not coerce is a request error naming its variable',
    async (_name, root) => {
      const query = operationFor(root);
      const requests = malformedRequests(root.field, hints);
      expect(requests.some((r) => r.variant.invalid)).toBe(true);
      const failures: string[] = [];
      await inPool(requests, 4, async ({ argument, variant, variables }, index) => {
        const accept = ACCEPTS[index % 2]!;
        const [org, roles] = CALLERS[Math.floor(index / 2) % CALLERS.length]!;
        const response = await gw.gql(query, variables, { token: gw.token(org, roles), headers: { accept } });
        const problems = problemsOf(response, { accept, invalid: variant.invalid, variable: argument });
        if (problems.length) {
          const shown = JSON.stringify(variant.value)?.slice(0, 80);
          failures.push(`${variant.at} = ${shown} (${org}, ${accept}): ${problems.join('; ')}`);
        }
      });
      expect(failures).toEqual([]);
    },
    120_000,
  );
});

describe('the variables of the issue report', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['null for an ID!', 'query ($id: ID!) { case(id: $id) { id } }', { id: null }, 'id'],
    ['an impossible Date', 'query ($d: Date) { contracts(activeOn: $d) { id } }', { d: '2026-02-30' }, 'd'],
    ['a string that is not a cursor', 'query ($c: Cursor) { changes(after: $c) { endCursor } }', { c: 'not-a-cursor' }, 'c'],
  ];
  it.each(cases)(
    '%s is 400 for graphql-response+json and 200 for json clients, BAD_USER_INPUT',
    async (_n, query, variables, name) => {
      for (const accept of ACCEPTS) {
        const r = await gw.gql(query, variables, { token: gw.token('NL', 'caseworker'), headers: { accept } });
        expect(r.status).toBe(accept === GRAPHQL_RESPONSE ? 400 : 200);
        expect(r.headers.get('content-type')).toContain(accept);
        expect(r.errors?.[0]?.extensions.code).toBe('BAD_USER_INPUT');
        expect(r.errors?.[0]?.message).toContain(`"$${name}"`);
      }
    },
  );

  it('a client accepting both media types gets the status of the one it is answered in', async () => {
    for (const accept of [`application/json, ${GRAPHQL_RESPONSE}`, `${GRAPHQL_RESPONSE}, application/json;q=0.9`]) {
      const r = await gw.gql(
        'query ($id: ID!) { case(id: $id) { id } }',
        { id: null },
        {
          token: gw.token('NL', 'caseworker'),
          headers: { accept },
        },
      );
      expect(r.status).toBe(r.headers.get('content-type')?.startsWith(GRAPHQL_RESPONSE) ? 400 : 200);
    }
  });

  it('a query that costs too much is a request error too, never a 5xx', async () => {
    for (const accept of ACCEPTS) {
      const r = await gw.gql(
        '{ contracts { memberState { contracts { partner { contracts { id } } } } } }',
        {},
        { token: gw.token('NL', 'caseworker'), headers: { accept } },
      );
      expect(r.errors?.[0]?.extensions.code).toBe('QUERY_TOO_COMPLEX');
      expect(r.status).toBe(accept === GRAPHQL_RESPONSE ? 400 : 200);
    }
  });

  it('an id of nearly a megabyte is not found, and not sent back whole', async () => {
    const id = 'x'.repeat(900_000);
    const response = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${gw.token('NL', 'caseworker')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query ($id: ID!) { case(id: $id) { id } }', variables: { id } }),
    });
    const text = await response.text();
    expect(text.length).toBeLessThan(2_000);
    const answer = JSON.parse(text) as { errors: { message: string; extensions: { code: string; id: string } }[] };
    expect(answer.errors[0]?.extensions.code).toBe('NOT_FOUND');
    expect(answer.errors[0]?.extensions.id).toBe(`${'x'.repeat(100)}…`);
  });
});
