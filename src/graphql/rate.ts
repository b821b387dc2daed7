// What one GraphQL request may carry more of than one request's worth, counted on the caller's
// rate limit (src/http/rate-limit.ts): the limiter counts a request once, before it is parsed,
// and the cost limit counts what a write answers, not the write. So a mutation document of a
// hundred aliased writes (or fragments of them) would be a hundred writes for one request, and
// a WebSocket connection could start and stop subscriptions (each a read of the store) with no
// limit at all. Each write beyond the first, and each subscription started, is one request more.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getDirectiveValues,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { Principal } from '../auth/principal.ts';
import { rateLimited } from '../errors.ts';
import type { ConsumeRate } from '../http/rate-limit.ts';
import type { Context } from './context.ts';

/**
 * The root fields a mutation operation will execute: one per response key (fields of one key are
 * merged into one execution), through inline fragments and fragment spreads, without those that
 * `@skip`/`@include` leave out for these variables. 0 for a query or subscription.
 */
export function writesOf(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
): number {
  if (operation.operation !== OperationTypeNode.MUTATION) return 0;
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
      if (selection.kind === Kind.FIELD) keys.add((selection.alias ?? selection.name).value);
      else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
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
 * Counts each write of a mutation beyond the first (the limiter counted the request) on the
 * caller's limit, before anything runs: a document that does not fit runs none of its writes.
 * Anonymous callers write nothing (every mutation needs a caller), so they are not counted here.
 */
export function writeRatePlugin(consume: ConsumeRate): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document, operation, request, schema }) {
          const principal = contextValue.principal;
          if (!principal || operation?.operation !== OperationTypeNode.MUTATION) return;
          // Variables that do not coerce run nothing: execution answers them (a request error).
          const variables = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
          if (variables.errors) return;
          await consumeOrRefuse(consume, principal, writesOf(document, operation, variables.coerced) - 1);
        },
      };
    },
  };
}
