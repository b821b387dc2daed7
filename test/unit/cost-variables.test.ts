// The variables a query's cost estimate depends on (the cost cache keys on them alone).
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { costVariables } from '../../src/graphql/plugins.ts';

describe('costVariables', () => {
  it('names the page sizes and the directives’ variables, not ids or inputs', () => {
    const document = parse(`query ($id: ID!, $n: Int, $m: Int, $heavy: Boolean!, $light: Boolean!, $input: CaseInput) {
      case(id: $id) { reference plans @include(if: $heavy) { id } }
      cases(first: $n, filter: $input) { edges { node { id ...F } } }
      changes(last: $m) { changes { cursor } }
    }
    fragment F on Case { reference @skip(if: $light) }`);
    expect(costVariables(document)).toEqual(['heavy', 'light', 'm', 'n']);
  });

  it('a query of ids alone has none', () => {
    expect(costVariables(parse('query ($id: ID!) { case(id: $id) { reference } }'))).toEqual([]);
  });
});
