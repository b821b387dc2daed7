// Faults of the gateway process itself, run as an operator runs it (`src/main.ts` against the
// test store): SIGTERM under load drains the requests in flight and loses no acknowledged write;
// `kill -9` in the middle of writes, then a start on the same store, reconciles: every
// acknowledged write is there exactly once, every event's documents are projected, and a
// write whose answer was lost is applied once when retried with its idempotency key.
import { request } from 'node:http';
import mongoose, { type Connection } from 'mongoose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGateway, uniqueDbName } from './helpers/gateway.ts';
import { caseInput } from './helpers/factories.ts';
import { killAll, productionLike, startGatewayProcess, type GatewayProcess } from './helpers/process.ts';

const CREATE = `mutation ($input: CreateCaseInput!, $key: String) { createCase(input: $input, idempotencyKey: $key) { id version } }`;

type Answer =
  | {
      status: number;
      body: { data?: { createCase?: { id: string } } | null; errors?: { extensions?: Record<string, unknown> }[] };
    }
  | { failed: string };

/** One POST on a connection of its own (no keep-alive: a request in flight is a request on the wire). */
function post(url: string, token: string, payload: unknown): Promise<Answer> {
  const body = JSON.stringify(payload);
  return new Promise((resolve) => {
    const req = request(
      `${url}/graphql`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never });
          } catch {
            resolve({ failed: `unparsable answer ${res.statusCode}` });
          }
        });
        res.on('error', (error) => resolve({ failed: error.message }));
      },
    );
    req.on('error', (error) => resolve({ failed: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end(body);
  });
}

type Write = { key: string; startedAt: number; answer?: Answer; id?: string };

/** Writers creating cases with idempotency keys until told to stop or the gateway is gone. */
function load(gateway: GatewayProcess, token: string, writers: number, prefix: string) {
  const writes: Write[] = [];
  let stop = false;
  const run = async (n: number) => {
    for (let i = 0; !stop; i += 1) {
      const write: Write = { key: `${prefix}-${n}-${i}`, startedAt: Date.now() };
      writes.push(write);
      write.answer = await post(gateway.url, token, { query: CREATE, variables: { input: caseInput(), key: write.key } });
      if ('status' in write.answer) write.id = write.answer.body.data?.createCase?.id;
      else return; // the gateway is gone
    }
  };
  const done = Promise.all(Array.from({ length: writers }, (_, n) => run(n)));
  return {
    writes,
    acknowledged: () => writes.filter((w) => w.id !== undefined),
    async stop() {
      stop = true;
      await done;
    },
    done,
  };
}

const dbName = uniqueDbName('faults');
const prod = productionLike(dbName);
let raw: Connection;

beforeAll(async () => {
  // The demo network, written with the key the gateway processes will use.
  const seeding = await startGateway({ dbName, env: { ERIN_ENCRYPTION_KEY: prod.env.ERIN_ENCRYPTION_KEY } });
  await seeding.close({ keepData: true });
  raw = await mongoose.createConnection(inject('mongoUri'), { dbName }).asPromise();
}, 120_000);
afterAll(async () => {
  killAll();
  await raw?.dropDatabase().catch(() => undefined);
  await raw?.close();
});

const until = async (predicate: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
};

/** Every acknowledged write is one event (by its idempotency key) and one case document. */
async function expectPresentOnce(writes: Write[]): Promise<void> {
  const db = raw.db!;
  const keys = writes.map((w) => `NL:${w.key}`);
  const events = await db
    .collection('events')
    .find({ requestKey: { $in: keys } }, { projection: { requestKey: 1, aggregateId: 1 } })
    .toArray();
  const byKey = new Map<string, string[]>();
  for (const e of events)
    byKey.set(e.requestKey as string, [...(byKey.get(e.requestKey as string) ?? []), e.aggregateId as string]);
  for (const w of writes) expect(byKey.get(`NL:${w.key}`), w.key).toEqual([w.id]);
  const ids = writes.map((w) => w.id!);
  const cases = await db
    .collection('cases')
    .find({ _id: { $in: ids as never[] } }, { projection: { _id: 1 } })
    .toArray();
  expect(cases.map((c) => String(c._id)).sort()).toEqual([...ids].sort());
}

/** Every document every event wrote is at that event's version or later (nothing left unprojected). */
async function expectAllProjected(): Promise<void> {
  const db = raw.db!;
  const events = await db
    .collection('events')
    .find({}, { projection: { changes: 1 } })
    .toArray();
  const behind: string[] = [];
  for (const event of events) {
    for (const change of (event.changes ?? []) as { collection: string; doc: { _id: string; version: number } }[]) {
      const doc = await db
        .collection(change.collection)
        .findOne({ _id: change.doc._id as never }, { projection: { version: 1 } });
      if (((doc?.version as number | undefined) ?? 0) < change.doc.version) behind.push(`${change.collection}/${change.doc._id}`);
    }
  }
  expect(behind).toEqual([]);
}

describe('the gateway process under faults', () => {
  it('SIGTERM under load: requests in flight are answered, and every acknowledged write is in the store once', async () => {
    const gateway = await startGatewayProcess(prod.env);
    const traffic = load(gateway, prod.token('NL', ['caseworker']), 6, 'term');
    await until(() => traffic.acknowledged().length >= 12, 60_000);
    // If not: what the first writes were answered (a writer stops at its first failed request).
    const firstAnswers = JSON.stringify(traffic.writes.slice(0, 12).map((w) => w.answer ?? 'unanswered'));
    expect(traffic.acknowledged().length, firstAnswers.slice(0, 2000)).toBeGreaterThanOrEqual(12);
    const signalledAt = Date.now();
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
    await traffic.stop();

    // Sent well before the signal: answered (drained), not cut off, and answered 200.
    const inFlight = traffic.writes.filter((w) => w.startedAt < signalledAt - 200);
    const cut = inFlight.filter((w) => !w.answer || !('status' in w.answer));
    expect(cut.map((w) => w.answer)).toEqual([]);
    expect(inFlight.filter((w) => w.id === undefined).map((w) => w.answer)).toEqual([]);
    expect(gateway.logs.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
    await expectPresentOnce(traffic.acknowledged());
    await expectAllProjected();
  }, 240_000);

  it('kill -9 in the middle of writes, then a start: every acknowledged write is there once, and retries apply once', async () => {
    const token = prod.token('NL', ['caseworker']);
    const first = await startGatewayProcess(prod.env);
    const traffic = load(first, token, 6, 'kill');
    await until(() => traffic.acknowledged().length >= 12, 60_000);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    await traffic.stop();
    const unanswered = traffic.writes.filter((w) => w.id === undefined);
    // Some were on the wire when the process died (their outcome is unknown to the client).
    expect(unanswered.length).toBeGreaterThan(0);

    const second = await startGatewayProcess(prod.env);
    try {
      // The start reconciled the log: nothing is left unprojected, nothing acknowledged is missing.
      await expectAllProjected();
      await expectPresentOnce(traffic.acknowledged());
      // The writes whose answer was lost, retried with their keys: each applied once.
      // A claim the killed process left pending is trusted for a grace period: until then the
      // gateway answers REQUEST_IN_PROGRESS with a delay, and the client retries as told.
      const retry = async (key: string): Promise<Answer> => {
        for (const giveUpAt = Date.now() + 60_000; ;) {
          const answer = await post(second.url, token, { query: CREATE, variables: { input: caseInput(), key } });
          const error = 'status' in answer ? answer.body.errors?.[0]?.extensions : undefined;
          if (error?.reason !== 'REQUEST_IN_PROGRESS' || Date.now() > giveUpAt) return answer;
          await new Promise((resolve) => setTimeout(resolve, Number(error.retryAfterSeconds ?? 1) * 1000));
        }
      };
      for (const w of unanswered) {
        const answer = await retry(w.key);
        expect('status' in answer && answer.status, JSON.stringify(answer)).toBe(200);
        w.id = 'status' in answer ? answer.body.data?.createCase?.id : undefined;
        expect(w.id, JSON.stringify(answer)).toBeDefined();
      }
      await expectPresentOnce(traffic.writes);
      await expectAllProjected();
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 300_000);
});
