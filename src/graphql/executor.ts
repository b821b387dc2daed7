// Compiled execution through Apollo Server's executor interface: each document Apollo has
// parsed and validated is compiled once by graphql-jit per operation (kept as long as
// Apollo keeps the document in its cache) and then run as plain JavaScript. What the
// compiler does not take, operations that are not queries or mutations, and variables
// that do not coerce run on graphql-js, so their answers are graphql-js's own.
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

type Gateway = ApolloServerOptionsWithGateway<Record<string, unknown>>['gateway'];

export type CompiledRequest = {
  document: DocumentNode;
  operation: OperationDefinitionNode | undefined;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | undefined;
  contextValue: unknown;
};

/** graphql-js for this operation (the compiler refused it, or it is not a query or mutation). */
const GRAPHQL_JS = null;

/**
 * @param schema the schema requests are validated against, with the per-field gate of cases
 * @param ungated the same schema without that gate (buildSchema's `caseFieldGate: false`),
 *   for the callers caseFieldsGated says are not gated; without it, everyone runs on `schema`
 */
export function createCompiledExecutor(schema: GraphQLSchema, ungated: GraphQLSchema = schema) {
  // Per document (Apollo hands us the same object for the same query text), per variant
  // (gated or not) and operation name.
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | typeof GRAPHQL_JS>>();

  function compiledFor(document: DocumentNode, operation: OperationDefinitionNode, gated: boolean): CompiledQuery | null {
    let byName = compiled.get(document);
    if (!byName) {
      byName = new Map();
      compiled.set(document, byName);
    }
    const name = operation.name?.value ?? '';
    const key = `${gated ? 'gated' : 'open'}:${name}`;
    let query = byName.get(key);
    if (query === undefined) {
      const result =
        operation.operation === OperationTypeNode.SUBSCRIPTION
          ? GRAPHQL_JS
          : compileQuery(gated ? schema : ungated, document, name || undefined);
      query = result && isCompiledQuery(result) ? result : GRAPHQL_JS;
      byName.set(key, query);
    }
    return query;
  }

  return async function run(request: CompiledRequest): Promise<ExecutionResult> {
    const { document, operation, contextValue } = request;
    const variables = request.variables ?? {};
    // graphql-js (what the compiler refuses) always runs on the gated schema.
    const graphqlJs = () =>
      execute({ schema, document, contextValue, variableValues: variables, operationName: request.operationName });
    if (!operation) return graphqlJs();
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
export function compiledGateway(schema: GraphQLSchema, ungated?: GraphQLSchema): Gateway {
  const run = createCompiledExecutor(schema, ungated);
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
