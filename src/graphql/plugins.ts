// Apollo Server plugins and error presentation: query cost and depth limits, metrics
// and logging per operation, and the one place errors are turned into what clients see.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getDirectiveValues,
  getVariableValues,
  separateOperations,
  visit,
  type GraphQLField,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
  type ValueNode,
  GraphQLError,
} from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { getComplexity, simpleEstimator } from 'graphql-query-complexity';
import Negotiator from 'negotiator';
import { AppError, ErrorCode, queryTooComplex, storeUnavailable } from '../errors.ts';
import type { DocumentNode } from 'graphql';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { isStoreUnavailable } from '../store/errors.ts';
import type { Context } from './context.ts';

// Codes other layers (Apollo, graphql-ws) may set that mean what ours mean. Never
// INTERNAL_SERVER_ERROR: an unexpected error's message is replaced, not passed on.
const PASS_THROUGH = new Set<string>(Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR));

/** Validation and parse failures are the client's: BAD_USER_INPUT, with Apollo's reason kept. */
const CLIENT_ERROR_CODES: Record<string, string> = {
  GRAPHQL_PARSE_FAILED: ErrorCode.BAD_USER_INPUT,
  GRAPHQL_VALIDATION_FAILED: ErrorCode.BAD_USER_INPUT,
  BAD_USER_INPUT: ErrorCode.BAD_USER_INPUT,
  BAD_REQUEST: ErrorCode.BAD_USER_INPUT,
  OPERATION_RESOLUTION_FAILURE: ErrorCode.BAD_USER_INPUT,
  PERSISTED_QUERY_NOT_FOUND: 'PERSISTED_QUERY_NOT_FOUND',
  PERSISTED_QUERY_NOT_SUPPORTED: 'PERSISTED_QUERY_NOT_SUPPORTED',
};

function originalOf(error: unknown): unknown {
  let e = error;
  for (let i = 0; i < 5 && !(e instanceof AppError); i += 1) {
    const inner = (e as { originalError?: unknown } | null)?.originalError;
    if (!inner) break;
    e = inner;
  }
  return e;
}

export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = originalOf(error);
    if (original instanceof AppError) {
      const { http: _http, ...extensions } = original.extensions as Record<string, unknown>;
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions };
    }
    if (isStoreUnavailable(original)) {
      const e = storeUnavailable();
      const { http: _http, ...extensions } = e.extensions as Record<string, unknown>;
      return { message: e.message, locations: formatted.locations, path: formatted.path, extensions };
    }
    const code = formatted.extensions?.code;
    const status = (error as { extensions?: { http?: { status?: unknown } } } | null)?.extensions?.http?.status;
    if (code === ErrorCode.INTERNAL_SERVER_ERROR && typeof status === 'number' && status >= 400 && status < 500) {
      // Apollo's own refusals of a request (a persisted query whose hash does not match its
      // text, an unknown protocol version) carry a 4xx status and no code: the client's fault.
      return { message: formatted.message, extensions: { code: ErrorCode.BAD_USER_INPUT, reason: 'BAD_REQUEST' } };
    }
    if (!formatted.path && /^Variable "\$/.test(formatted.message)) {
      // Variables that do not coerce to their declared types: the request's fault.
      return { message: formatted.message, locations: formatted.locations, extensions: { code: ErrorCode.BAD_USER_INPUT } };
    }
    if (typeof code === 'string' && (PASS_THROUGH.has(code) || code in CLIENT_ERROR_CODES)) {
      const mapped = CLIENT_ERROR_CODES[code] ?? code;
      return {
        message: formatted.message,
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: mapped, ...(mapped !== code ? { reason: code } : {}) },
      };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error');
    return {
      message: 'Internal server error; it has been logged.',
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * The depth limit (HTTP and WebSocket): levels of fields below the operation's root fields,
 * a fragment's fields counted where it is spread (a fragment is no level of its own), the
 * introspection fields left to graphql-js's own MaxIntrospectionDepthRule. graphql-armor's
 * rule measures each named fragment once per document: graphql-depth-limit walked a
 * fragment again at each of its spreads, so a few hundred bytes of fragments that spread the
 * next one twice kept the event loop busy for minutes (test/limits.test.ts).
 */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return maxDepthRule({
    n: maxDepth + 1, // graphql-armor counts the root fields as the first level
    flattenFragments: true,
    ignoreIntrospection: true,
    propagateOnRejection: false,
    onReject: [
      (context) =>
        context?.reportError(new GraphQLError(`This operation nests fields deeper than the limit of ${maxDepth} levels.`)),
    ],
  });
}

/** The arguments of a directive (schema/base.graphql) on a field, if the field has it. */
function directiveOn(
  schema: GraphQLSchema,
  name: string,
  field: GraphQLField<unknown, unknown>,
): Record<string, unknown> | undefined {
  const directive = schema.getDirective(name);
  const node = field.astNode;
  if (!directive || !node?.directives?.length) return undefined;
  return getDirectiveValues(directive, node);
}

/** Cost of a `@logPage` field: one query whatever its size, an item a tenth of a listed record. */
const logPageComplexity = (first: number | null | undefined, childComplexity: number) =>
  10 + childComplexity * Math.ceil(Math.max(1, first ?? 100) / 10);

/** The largest page any list serves (a list's page size argument declared without a default). */
const LARGEST_PAGE = 100;

/**
 * The page a list field will answer: its `first` (or `last`) when given, and when the client
 * leaves it out or sends null, what the resolver then takes — the argument's declared default
 * (a null `first` is no page of one: every list's resolver reads it as its default size).
 */
function pageSizeOf(args: Record<string, unknown>, field: GraphQLField<unknown, unknown>): number | undefined {
  for (const name of ['first', 'last']) {
    if (typeof args[name] === 'number') return args[name];
    const declared = field.args.find((arg) => arg.name === name);
    if (declared) return typeof declared.defaultValue === 'number' ? declared.defaultValue : LARGEST_PAGE;
  }
  return undefined;
}

/** The estimated cost of an operation (shared by HTTP and WebSocket). */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Record<string, unknown>,
): number {
  const query = operationName ? separateOperations(document)[operationName] : document;
  const listSizeOf = (field: GraphQLField<unknown, unknown>) =>
    directiveOn(schema, 'listSize', field)?.assumedSize as number | undefined;
  try {
    return getComplexity({
      schema,
      query: query ?? document,
      variables,
      estimators: [
        ({ args, field, childComplexity }) =>
          directiveOn(schema, 'logPage', field as GraphQLField<unknown, unknown>)
            ? logPageComplexity(args.first as number | null | undefined, childComplexity)
            : undefined,
        // A list field multiplies its children's cost by the page size it will answer, or by
        // the size its schema declares when it takes no page size (nested lists multiply).
        ({ args, field, childComplexity }) => {
          const list = field as GraphQLField<unknown, unknown>;
          const size = pageSizeOf(args, list) ?? listSizeOf(list);
          return size === undefined ? undefined : 1 + childComplexity * Math.max(1, size);
        },
        simpleEstimator({ defaultComplexity: 1 }),
      ],
    });
  } catch (error) {
    // The estimator stops at its limit of nodes walked (fragments spread into one another
    // multiply their fields): a document that expands so far costs too much to run.
    if (error instanceof GraphQLError && /maximum allowed number of nodes/.test(error.message)) {
      throw queryTooComplex('This query expands to too many fields; use fewer fragments, aliases or fields.', {});
    }
    throw error;
  }
}

export function assertCostWithin(cost: number, maxCost: number): void {
  if (cost > maxCost) {
    throw queryTooComplex(`This query costs ${cost}, more than the limit of ${maxCost}; ask for fewer items or fields.`, {
      cost,
      limit: maxCost,
    });
  }
}

/**
 * The variables an operation's estimated cost can depend on: the estimators read a field's
 * page size (`first`, `last`) and nothing else of its arguments, and the estimate leaves out
 * what `@include`/`@skip` leave out. Any other variable (an id, a write's input) changes
 * nothing of the cost.
 */
export function costVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  const collect = (value: ValueNode) =>
    visit(value, {
      Variable(node) {
        names.add(node.name.value);
      },
    });
  visit(document, {
    Field(node) {
      for (const arg of node.arguments ?? []) if (arg.name.value === 'first' || arg.name.value === 'last') collect(arg.value);
    },
    Directive(node) {
      for (const arg of node.arguments ?? []) collect(arg.value);
    },
  });
  return [...names].sort();
}

/** Refuses operations whose estimated cost or depth exceeds the limits, before execution. */
export function costLimitPlugin(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin<Context> {
  // Apollo hands over the same document object for the same query text (its document
  // cache), and the cost depends only on it, the operation and the variables it reads
  // (costVariables): each is estimated once, so a case by id costs one estimate whatever
  // the id. Large variables are not worth keeping.
  const costs = new WeakMap<DocumentNode, { reads: string[]; known: Map<string, number> }>();
  const costOf = (document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown>) => {
    let entry = costs.get(document);
    if (!entry) costs.set(document, (entry = { reads: costVariables(document), known: new Map() }));
    const key = `${operationName ?? ''}\u0000${JSON.stringify(entry.reads.filter((name) => name in variables).map((name) => [name, variables[name]]))}`;
    if (key.length > 512) return operationCost(schema, document, operationName, variables);
    let cost = entry.known.get(key);
    if (cost === undefined) {
      cost = operationCost(schema, document, operationName, variables);
      if (entry.known.size < 64) entry.known.set(key, cost);
    }
    return cost;
  };
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operation }) {
          const variables = request.variables ?? {};
          // Variables that do not coerce run nothing: execution answers them (graphql-js's
          // message naming the variable, a request error), where the estimator would throw.
          const definitions = operation?.variableDefinitions;
          if (definitions?.length && getVariableValues(schema, definitions, variables).errors) {
            return;
          }
          assertCostWithin(costOf(document, request.operationName, variables), maxCost);
        },
      };
    },
  };
}

/**
 * Appends the request's special-category reads to the log after the response is computed
 * and before it leaves. If they cannot be recorded, the response is withheld.
 */
export function accessAuditPlugin(logger: Logger): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          try {
            await contextValue.access?.flush();
          } catch (error) {
            logger.error({ err: error }, 'special-category reads could not be recorded; the response is withheld');
            const refusal = storeUnavailable();
            response.body = {
              kind: 'single',
              singleResult: { errors: [{ message: refusal.message, extensions: { code: refusal.code } }] },
            };
            response.http.status = 503;
          }
        },
      };
    },
  };
}

/**
 * Operation names are chosen by clients: as metric labels they are capped (a bounded set of
 * plausible names, then `other`), so nobody can grow the metrics without bound.
 */
const MAX_OPERATION_LABELS = 200;
const operationLabels = new Set<string>();
function metricName(operationName: string | null | undefined): string {
  if (!operationName) return 'anonymous';
  if (operationLabels.has(operationName)) return operationName;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(operationName) || operationLabels.size >= MAX_OPERATION_LABELS) return 'other';
  operationLabels.add(operationName);
  return operationName;
}

/** Per-operation metrics and one log line per operation (names and codes, never variables). */
export function observabilityPlugin(metrics: Metrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse({ operationName, operation, errors, response }) {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const type = operation?.operation ?? 'unknown';
          const name = metricName(operationName);
          const singleErrors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const firstCode = (singleErrors?.[0]?.extensions?.code as string | undefined) ?? (errors?.[0] ? 'ERROR' : undefined);
          metrics.graphqlOperations.inc({ operation: name, type, outcome: firstCode ?? 'ok' });
          metrics.graphqlDuration.observe({ operation: name, type }, seconds);
          contextValue.logger?.info(
            { operation: name, type, ms: Math.round(seconds * 1000), outcome: firstCode ?? 'ok' },
            'graphql operation',
          );
        },
      };
    },
  };
}

/** Codes that are the server's failure; every other code is the client's. */
const SERVER_ERROR_CODES = new Set<unknown>([ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.STORE_UNAVAILABLE]);

/** The media types Apollo Server chooses among for a single result, in its order. */
const RESPONSE_MEDIA_TYPES = [
  'application/json; charset=utf-8',
  'application/graphql-response+json; charset=utf-8',
  'application/json; callbackSpec=1.0; charset=utf-8',
];

/** Whether Apollo Server will answer this Accept header with application/graphql-response+json. */
export function answersGraphqlResponseJson(accept: string | undefined): boolean {
  if (!accept) return false;
  return (
    new Negotiator({ headers: { accept } }).mediaType(RESPONSE_MEDIA_TYPES)?.startsWith('application/graphql-response+json') ??
    false
  );
}

/**
 * GraphQL over HTTP: a request error (the document does not parse or validate, its variables
 * do not coerce, it costs too much) is a 400 for responses in application/graphql-response+json,
 * and a 200 for legacy application/json clients, which read the errors from the body. A
 * request error whose every code is the client's is never a 5xx, whichever stage refused it
 * (Apollo answers 500 for an error thrown by a plugin that set no status).
 */
export function httpStatusPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ request, response }) {
          if (response.body.kind !== 'single') return;
          const { data, errors } = response.body.singleResult;
          if (data !== undefined || !errors?.length) return;
          const clientsFault = errors.every((e) => !SERVER_ERROR_CODES.has(e.extensions?.code));
          if (clientsFault && (response.http.status ?? 500) >= 500) response.http.status = 400;
          // The Accept header is negotiated only for a request error (most requests have none).
          if (response.http.status === 400 && !answersGraphqlResponseJson(request.http?.headers.get('accept'))) {
            response.http.status = 200;
          }
        },
      };
    },
  };
}
