// What one GraphQL request may carry more of than one request's worth, counted on the caller's
// rate limit (src/http/rate-limit.ts). The limiter counts a request once, before it is parsed,
// and the cost limit bounds the size of an answer, not how many independent resolutions it
// takes: each root field runs on its own (a write, a lookup, a list read of its own — the
// embedded store scans a collection for each), so a document of a hundred aliased root fields
// was a hundred requests' work for one. And a WebSocket connection could start and stop
// subscriptions (each a read of the store) with no limit at all. So each root field beyond the
// first, and each subscription started, is one request more.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getDirectiveValues,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Principal } from '../auth/principal.ts';
import { rateLimited } from '../errors.ts';
import type { ConsumeRate } from '../http/rate-limit.ts';
import type { Context } from './context.ts';

/**
 * The root fields an operation will execute: one per response key (fields of one key are merged
 * into one execution), through inline fragments and fragment spreads, without those that
 * `@skip`/`@include` leave out for these variables, and without the introspection fields
 * (`__typename`, `__schema`, `__type`: answered from the schema, and depth-limited).
 */
export function rootFieldsOf(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): number {
  const fragments = new Map(
    document.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  const included = (node: Parameters<typeof getDirectiveValues>[1]) =>
    getDirectiveValues(GraphQLSkipDirective, node, variables)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
  const keys = new Set<string>();
  const visited = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (!included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        if (!selection.name.value.startsWith('__')) keys.add((selection.alias ?? selection.name).value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
      else if (!visited.has(selection.name.value)) {
        // Validation refuses cycles; a fragment spread twice at the root adds its keys once.
        visited.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return keys.size;
}

/** Counts `hits` on the caller's limit; throws RATE_LIMITED (429) when they do not fit. */
export async function consumeOrRefuse(consume: ConsumeRate, principal: Principal, hits: number): Promise<void> {
  if (hits <= 0) return;
  const verdict = await consume(principal, hits);
  if (!verdict.allowed) throw rateLimited(verdict.retryAfterSeconds);
}

/**
 * Counts each root field of an operation beyond the first (the limiter counted the request) on
 * the caller's limit, before anything runs: a document that does not fit runs none of its
 * fields (none of its writes). Anonymous callers are answered UNAUTHENTICATED for every root
 * field without any work, so only verified callers are counted here.
 */
export function rootFieldRatePlugin(consume: ConsumeRate): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation, request, schema }) {
          const principal = contextValue.principal;
          if (!principal || !operation) return;
          // The common case, one root field: counted by the limiter already.
          const [only, ...more] = operation.selectionSet.selections;
          if (more.length === 0 && only?.kind === Kind.FIELD) return;
          // Variables that do not coerce run nothing: execution answers them (a request error).
          const variables = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
          if (variables.errors) return;
          await consumeOrRefuse(consume, principal, rootFieldsOf(document, operation, variables.coerced) - 1);
        },
      };
    },
  };
}
