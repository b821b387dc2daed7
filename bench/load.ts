// The load generator of the benchmark, run in its own process so that it does not share
// the event loop of the server it measures. Sends one GraphQL request (or several, taken in
// turn) over `connections` keep-alive connections for `duration` seconds or `amount`
// requests with autocannon, records every response time, and prints one line of JSON.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export type LoadSpec = {
  url: string;
  token?: string;
  /** Request bodies, sent in turn. */
  bodies: string[];
  connections: number;
  duration?: number;
  amount?: number;
};

export type LoadFigures = {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
  /** Response bytes per second. */
  throughput: number;
};

// The spec as an argument, or `@file` when it is too long for one (many bodies).
const arg = process.argv[2] ?? '{}';
const spec = JSON.parse(arg.startsWith('@') ? readFileSync(arg.slice(1), 'utf8') : arg) as LoadSpec;
const times: number[] = [];
let errors = 0;
let turn = 0;
let done: (result: autocannon.Result) => void = () => undefined;
let failed: (error: unknown) => void = () => undefined;
const finished = new Promise<autocannon.Result>((resolve, reject) => {
  done = resolve;
  failed = reject;
});
const instance = autocannon(
  {
    url: spec.url,
    connections: spec.connections,
    ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration ?? 10 }),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(spec.token ? { authorization: `Bearer ${spec.token}` } : {}) },
    requests: [
      {
        setupRequest: (request) => {
          const body = spec.bodies[turn % spec.bodies.length]!;
          turn += 1;
          return { ...request, body };
        },
      },
    ],
  },
  (error: unknown, result: autocannon.Result) => (error ? failed(error) : done(result)),
);
instance.on('response', (_client, status, _bytes, responseTime) => {
  if (status !== 200) errors += 1;
  times.push(responseTime);
});
const result = await finished;
times.sort((a, b) => a - b);
const at = (q: number) => Number((times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1));
const seconds = Math.max(0.001, result.duration);
const figures: LoadFigures = {
  requests: times.length,
  rps: Math.round(times.length / seconds),
  p50: at(0.5),
  p95: at(0.95),
  p99: at(0.99),
  errors: errors + result.errors + result.timeouts,
  throughput: Math.round(result.throughput.average),
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
