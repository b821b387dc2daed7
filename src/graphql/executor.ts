// Compiled execution through Apollo Server's executor interface: each document Apollo has
// parsed and validated is compiled once by graphql-jit per operation when it comes a second
// time (kept as long as Apollo keeps the document in its cache) and then run as plain
// JavaScript; its first run is graphql-js's. What the compiler does not take and variables
// that do not coerce run on graphql-js too, so their answers are graphql-js's own.
// Subscriptions are WebSocket's (ws.ts): over HTTP they are refused as bad input.
//
// Each document is compiled twice at most: over the schema every request is validated
// against (with the per-field gate of cases), for member states' units and anonymous
// callers, and over the same schema without that gate, for everyone else, whom the gate
// never refuses (caseFieldsGated in src/auth/case-team.ts decides which; a dashboard page
// then reads a case's plain fields as properties instead of calling the gate for each).
import type { ApolloServerOptionsWithGateway } from '@apollo/server';
import {
  execute,
  getVariableValues,
  GraphQLError,
  OperationTypeNode,
  printSchema,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { caseFieldsGated } from '../auth/case-team.ts';
import type { Principal } from '../auth/principal.ts';
import { badInput } from '../errors.ts';

type Gateway = ApolloServerOptionsWithGateway<Record<string, unknown>>['gateway'];

export type CompiledRequest = {
  document: DocumentNode;
  operation: OperationDefinitionNode | undefined;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | undefined;
  contextValue: unknown;
};

/** graphql-js for this operation (the compiler refused it). */
const GRAPHQL_JS = null;
/** Run once on graphql-js, compiled if it comes again. */
const SEEN = Symbol('seen once');

export type CompiledExecutorOptions = {
  /**
   * Runs of a document on graphql-js before it is compiled (default 1). Compiling costs many
   * times one run — a document of a few hundred fields costs about 100 ms of CPU to compile,
   * a few to run — so a document sent once (a client trying queries, an attacker sending a new
   * text each time) is not worth compiling; a client's own documents come again at once.
   */
  compileAfter?: 0 | 1;
  /** Told of each compilation (the metrics count them). */
  onCompile?: (variant: 'gated' | 'open') => void;
};

/**
 * @param schema the schema requests are validated against, with the per-field gate of cases
 * @param ungated the same schema without that gate (buildSchema's `caseFieldGate: false`),
 *   for the callers caseFieldsGated says are not gated; without it, everyone runs on `schema`
 */
export function createCompiledExecutor(
  schema: GraphQLSchema,
  ungated: GraphQLSchema = schema,
  options: CompiledExecutorOptions = {},
) {
  const compileAfter = options.compileAfter ?? 1;
  // Per document (Apollo hands us the same object for the same query text), per variant
  // (gated or not) and operation name.
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | typeof GRAPHQL_JS | typeof SEEN>>();

  function compiledFor(document: DocumentNode, operation: OperationDefinitionNode, gated: boolean): CompiledQuery | null {
    let byName = compiled.get(document);
    if (!byName) {
      byName = new Map();
      compiled.set(document, byName);
    }
    const name = operation.name?.value ?? '';
    const key = `${gated ? 'gated' : 'open'}:${name}`;
    const known = byName.get(key);
    if (known === undefined && compileAfter > 0) {
      byName.set(key, SEEN);
      return GRAPHQL_JS;
    }
    if (known === undefined || known === SEEN) {
      const result = compileQuery(gated ? schema : ungated, document, name || undefined);
      options.onCompile?.(gated ? 'gated' : 'open');
      const query = result && isCompiledQuery(result) ? result : GRAPHQL_JS;
      byName.set(key, query);
      return query;
    }
    return known;
  }

  return async function run(request: CompiledRequest): Promise<ExecutionResult> {
    const { document, operation, contextValue } = request;
    const variables = request.variables ?? {};
    // graphql-js (what the compiler refuses) always runs on the gated schema.
    const graphqlJs = () =>
      execute({ schema, document, contextValue, variableValues: variables, operationName: request.operationName });
    if (!operation) return graphqlJs();
    if (operation.operation === OperationTypeNode.SUBSCRIPTION) {
      // graphql-js would run it as a query of the Subscription type and fail inside.
      return { errors: [badInput('Subscriptions are served over WebSocket at /graphql (graphql-transport-ws), not over HTTP.')] };
    }
    const principal = (contextValue as { principal?: Principal | null } | null)?.principal ?? null;
    const query = compiledFor(document, operation, caseFieldsGated(principal));
    if (!query) return graphqlJs();
    // Variables that do not coerce get graphql-js's own answer (message, locations, status).
    if (operation.variableDefinitions?.length && getVariableValues(schema, operation.variableDefinitions, variables).errors) {
      return graphqlJs();
    }
    return asGraphqlJsErrors(await query.query(undefined, contextValue, variables));
  };
}

/**
 * graphql-jit reports a resolver's failure as its own error object, whose `extensions` is
 * undefined unless the thrown error had some: Apollo reads `extensions.code` before our
 * formatter runs and answered a bare "Internal server error" (a store outage lost its
 * STORE_UNAVAILABLE). Each error is handed on as graphql-js would have made it.
 */
function asGraphqlJsErrors(result: ExecutionResult): ExecutionResult {
  if (!result.errors?.length) return result;
  const errors = result.errors.map((jit) => {
    const error = new GraphQLError(jit.message, {
      path: jit.path,
      originalError: jit.originalError ?? undefined,
      extensions: jit.extensions ?? {},
    });
    // graphql-js computes locations from AST nodes; the compiled query kept only the locations.
    if (jit.locations) (error as { locations?: GraphQLError['locations'] }).locations = jit.locations;
    return error;
  });
  return { ...result, errors };
}

/** Apollo Server's gateway interface, serving one fixed schema with the compiled executor. */
export function compiledGateway(schema: GraphQLSchema, ungated?: GraphQLSchema, options?: CompiledExecutorOptions): Gateway {
  const run = createCompiledExecutor(schema, ungated, options);
  let onLoad: ((schemaContext: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void) | undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      onLoad = callback;
      return () => {
        onLoad = undefined;
      };
    },
    async load() {
      onLoad?.({ apiSchema: schema, coreSupergraphSdl: printSchema(schema) });
      return {
        executor: (requestContext) =>
          run({
            document: requestContext.document,
            operation: requestContext.operation,
            operationName: requestContext.operationName,
            variables: requestContext.request.variables,
            contextValue: requestContext.context,
          }) as never,
      };
    },
    async stop() {},
  };
}
