// Prometheus metrics, one registry per gateway (tests build several in one process).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'erin_http_requests_total',
      help: 'HTTP requests by method, route and status',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'erin_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: 'erin_graphql_operations_total',
      help: 'GraphQL operations by name, type and outcome (ok or the first error code)',
      labelNames: ['operation', 'type', 'outcome'] as const,
      registers: [registry],
    }),
    graphqlDuration: new Histogram({
      name: 'erin_graphql_operation_duration_seconds',
      help: 'GraphQL operation duration',
      labelNames: ['operation', 'type'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    storeUp: new Gauge({
      name: 'erin_store_up',
      help: '1 when the store answers a ping, else 0',
      registers: [registry],
    }),
    storeCommands: new Counter({
      name: 'erin_store_commands_total',
      help: 'Commands sent to the store, by command name',
      labelNames: ['command'] as const,
      registers: [registry],
    }),
    eventsAppended: new Counter({
      name: 'erin_events_appended_total',
      help: 'Events appended to the log, by type',
      labelNames: ['type'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
