// Checks that every query the test suite sent to the store is served by an index its
// model declares, as MongoDB's planner would serve it: no collection scan, no sort in memory
// (the rule is in src/store/query-plan.ts). The embedded store scans whole collections
// whatever the indexes, so this is how we know MongoDB will not. Run after the tests (npm test does).
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedQuery } from '../src/store/command-recorder.ts';
import { describeQuery, planQuery, type IndexKeys } from '../src/store/query-plan.ts';

const DIR = path.resolve('test-results/query-shapes');

/**
 * Directory collections, bounded by the size of the network (dozens of records):
 * listing them whole is fine.
 */
const SMALL_COLLECTIONS = new Set(['organisations', 'programmes', 'exchange_rates', 'contracts']);

/**
 * Equality fields an index need not hold (see planQuery), for two reasons only:
 * - the case list's optional filters, checked on the entries the scope's index walks in the
 *   list's order: an index for every combination of them would cost every case write more than
 *   it saves (the scope and the status are held by the index);
 * - the tenant's fields on a case's own documents, looked up by case: the index leads with
 *   `caseId`, and a case's few documents are checked for the caller's scope.
 */
const TENANT_FIELDS = ['memberState', 'partner', 'sharedWithPartner', 'units'];
const BY_CASE = new Set(TENANT_FIELDS);
const OPTIONAL_FILTERS: Record<string, ReadonlySet<string>> = {
  case_list: new Set(['originCountry', 'programme', 'partner', 'memberState']),
  plans: BY_CASE,
  evidence: BY_CASE,
  progress_updates: BY_CASE,
  shipments: BY_CASE,
  surveys: BY_CASE,
  final_reports: BY_CASE,
};

type Dump = { testFile?: string; indexes: Record<string, IndexKeys[]>; queries: RecordedQuery[] };

const files = (() => {
  try {
    return readdirSync(DIR).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
})();
if (files.length === 0) {
  process.stderr.write(`index coverage: no recorded queries in ${DIR}; run the tests first\n`);
  process.exit(1);
}

type Entry = { query: RecordedQuery; reason: string | undefined; count: number; files: Set<string> };
const shapes = new Map<string, Entry>();
for (const file of files) {
  const dump = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Dump;
  for (const query of dump.queries) {
    const key = `${query.collection}.${query.command} ${describeQuery(query.shape)}`;
    let entry = shapes.get(key);
    if (!entry) {
      const verdict = SMALL_COLLECTIONS.has(query.collection)
        ? { served: true as const }
        : planQuery(query.shape, dump.indexes[query.collection] ?? [], OPTIONAL_FILTERS[query.collection]);
      entry = { query, reason: verdict.served ? undefined : verdict.reason, count: 0, files: new Set() };
      shapes.set(key, entry);
    }
    entry.count += 1;
    entry.files.add(dump.testFile || file);
  }
}

const unserved = [...shapes.entries()].filter(([, s]) => s.reason !== undefined);
const total = [...shapes.values()].reduce((n, s) => n + s.count, 0);
process.stdout.write(
  `index coverage: ${total} queries in ${shapes.size} shapes from ${files.length} gateways; ${unserved.length} shapes not served by an index\n`,
);
for (const [key, { reason, count, files: from }] of unserved.sort(([a], [b]) => a.localeCompare(b))) {
  process.stdout.write(`  UNSERVED ${key} (${count}×)\n    ${reason}\n    sent by ${[...from].sort().join(', ')}\n`);
}
process.exit(unserved.length === 0 ? 0 : 1);
