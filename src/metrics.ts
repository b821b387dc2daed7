// Prometheus metrics, one registry per gateway (tests build several in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Request and operation durations, in seconds. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers });
  const duration = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Histogram<L>({ name, help, labelNames, buckets: DURATION_BUCKETS, registers });
  return {
    registry,
    httpRequests: counter('erin_http_requests_total', 'HTTP requests by method, route and status', ['method', 'route', 'status']),
    httpDuration: duration('erin_http_request_duration_seconds', 'HTTP request duration', ['method', 'route']),
    graphqlOperations: counter(
      'erin_graphql_operations_total',
      'GraphQL operations by name, type and outcome (ok or the first error code)',
      ['operation', 'type', 'outcome'],
    ),
    graphqlDuration: duration('erin_graphql_operation_duration_seconds', 'GraphQL operation duration', ['operation', 'type']),
    graphqlCompiled: counter(
      'erin_graphql_compiled_documents_total',
      "Operations compiled by graphql-jit (at their second run; gated is the variant for member states' units)",
      ['variant'],
    ),
    storeUp: new Gauge({ name: 'erin_store_up', help: '1 when the store answers a ping, else 0', registers }),
    storeCommands: counter('erin_store_commands_total', 'Commands sent to the store, by command name', ['command']),
    eventsAppended: counter('erin_events_appended_total', 'Events appended to the log, by type', ['type']),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
