// A property-based fuzz of every mutation's input (fast-check), its arbitraries generated from
// the schema: mostly well-typed values (records that exist, random and hostile strings,
// numbers, dates), sometimes anything at all. Whatever it sends, no answer is a 5xx or
// INTERNAL_SERVER_ERROR, and a refused write changes nothing in the store.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPTS, CALLERS, problemsOf } from './helpers/bad-input.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { isNonNullType } from 'graphql';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { implementation } from './helpers/implementation.ts';
import { arbitraryFor, gatewaySchema, operationFor, rootFields, type Pools } from './helpers/schema-inputs.ts';

/** What writes change. Background bookkeeping (leases, feed segments, webhook dispatch) is left out. */
const WRITTEN = [
  'case_references',
  'cases',
  'contracts',
  'events',
  'evidence',
  'evidence_chunks',
  'exchange_rates',
  'final_reports',
  'idempotency',
  'organisations',
  'plans',
  'programmes',
  'progress_updates',
  'shipments',
  'surveys',
  'webhook_endpoints',
];
const RUNS_PER_MUTATION = Number(process.env.FUZZ_RUNS ?? 20);

let gw: TestGateway;
let pools: Pools;
let caseId: string;
// Erasure last: once the shared case is erased, every other write on it is refused.
const mutations = rootFields(await gatewaySchema(), ['mutation'])
  .filter(({ field }) => field.args.length > 0)
  .sort((a, b) => Number(a.field.name === 'eraseCase') - Number(b.field.name === 'eraseCase'));

/** A digest of every written collection, as an attacker with the database would read it. */
async function snapshot(): Promise<{ digest: string; caseVersion: number }> {
  const db = await gw.raw();
  const hash = createHash('sha256');
  let caseVersion = 0;
  for (const name of WRITTEN) {
    const docs = await db.collection(name).find({}).sort({ _id: 1 }).toArray();
    hash.update(`${name}:${JSON.stringify(docs)}\n`);
    if (name === 'cases') caseVersion = (docs.find((d) => String(d._id) === caseId)?.version as number | undefined) ?? 0;
  }
  return { digest: hash.digest('hex'), caseVersion };
}

beforeAll(async () => {
  gw = await startGateway();
  const flow = workflow(gw);
  // A case in implementation with a shipment and a component of each kind to post against.
  const approved = await flow.approved({
    components: [
      { ...materialsComponent(15000, 'EUR', 'SHIPPED'), id: 'machines' },
      { ...trainingComponent(50000), id: 'training' },
    ],
  });
  const c = { id: approved.id, version: approved.version };
  const { shipment } = await implementation(gw, flow).ship(c, {
    componentId: 'machines',
    status: 'ORDERED',
    at: new Date(Date.now() - 3_600_000).toISOString(),
    place: 'Dubai',
    shipment: { carrier: 'Ariana Cargo', trackingReference: 'AC-1', origin: 'Dubai, AE', destination: 'Kabul, AF' },
  });
  caseId = c.id;
  const contracts = await gw.as('ERIN-NET', 'network-admin').ok<{ contracts: { id: string }[] }>('{ contracts { id } }');
  pools = {
    ids: [c.id, shipment.id, 'machines', 'training', 'NL', 'P-AF-HOPE', 'EURP-VOL', contracts.contracts[0]!.id],
    // 0 stands for "the case's current version" (see below); the rest are plausible and hostile counts.
    ints: [0, 1, 2, 100, 2 ** 31 - 1],
    strings: ['AF', 'EUR', 'AFN', 'NL', 'P-AF-HOPE', 'EURP-VOL', 'machines', 'training', 'en', 'https://cms.example.nl/erin'],
  };
}, 120_000);
afterAll(async () => {
  await gw?.close();
});

describe('fuzzing every mutation', () => {
  it('fuzzes every mutation that takes arguments', () => {
    expect(mutations.map((m) => m.field.name)).toEqual(
      expect.arrayContaining(['createCase', 'saveDraftPlan', 'postProgressUpdate']),
    );
  });

  it.each(mutations.map((m) => [m.field.name, m] as const))(
    '%s: no 5xx or INTERNAL_SERVER_ERROR, and a refused write changes nothing',
    async (_name, mutation) => {
      const query = operationFor(mutation);
      const variables = fc.record(Object.fromEntries(mutation.field.args.map((a) => [a.name, arbitraryFor(a.type, pools)])), {
        requiredKeys: mutation.field.args.filter((a) => isNonNullType(a.type)).map((a) => a.name),
      });
      // Callers who got past the role check before are asked most of the time, so that runs
      // reach the services' validation rather than stop at FORBIDDEN.
      const able = new Set<number>();
      const caller = fc.record({ any: fc.nat(CALLERS.length - 1), able: fc.nat(99), pick: fc.nat() });
      let before = await snapshot();
      let run = 0;
      await fc.assert(
        fc.asyncProperty(variables, caller, async (generated, choice) => {
          run += 1;
          const known = [...able];
          const who = known.length && choice.able < 80 ? known[choice.pick % known.length]! : choice.any;
          // An expectedVersion of 0 becomes the case's current one, so writes get past the version check.
          const sent = { ...generated };
          if (sent.expectedVersion === 0) sent.expectedVersion = before.caseVersion;
          const accept = ACCEPTS[run % 2]!;
          const [org, roles] = CALLERS[who]!;
          const response = await gw.gql(query, sent, { token: gw.token(org, roles), headers: { accept } });
          expect(problemsOf(response, { accept })).toEqual([]);
          if (response.data !== undefined && response.errors?.[0]?.extensions.code !== 'FORBIDDEN') able.add(who);
          const after = await snapshot();
          const refused = !response.data?.[mutation.field.name];
          if (refused) expect(after.digest, `refused with ${JSON.stringify(response.errors)}`).toBe(before.digest);
          before = after;
        }),
        { numRuns: RUNS_PER_MUTATION, endOnFailure: true },
      );
    },
    180_000,
  );
});
