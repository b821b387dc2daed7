// Checks that every query the test suite sent to the store is served by an index its
// model declares. The embedded store scans whole collections whatever the indexes, so
// this is how we know MongoDB will not. Run after the tests (npm test does).
//
// A query is served when it filters on `_id`, or an index starts with one of its
// equality fields, or with its range field, or (no filter) with its sort field.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { RecordedQuery } from '../src/store/command-recorder.ts';

const DIR = path.resolve('test-results/query-shapes');

/**
 * Directory collections, bounded by the size of the network (dozens of records):
 * listing them whole is fine.
 */
const SMALL_COLLECTIONS = new Set(['organisations', 'programmes', 'exchange_rates', 'contracts']);

type Dump = { indexes: Record<string, string[][]>; queries: RecordedQuery[] };

function served(query: RecordedQuery, indexes: string[][]): boolean {
  const { filterFields, equalityFields, sortFields } = query;
  if (filterFields.includes('_id')) return true;
  const firstKeys = new Set(indexes.map((keys) => keys[0]));
  if (equalityFields.some((f) => firstKeys.has(f))) return true;
  if (filterFields.some((f) => firstKeys.has(f))) return true;
  if (filterFields.length === 0) {
    if (SMALL_COLLECTIONS.has(query.collection)) return true;
    return sortFields.length > 0 && (sortFields[0] === '_id' || firstKeys.has(sortFields[0]));
  }
  return false;
}

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

const shapes = new Map<string, { query: RecordedQuery; ok: boolean; count: number }>();
for (const file of files) {
  const dump = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Dump;
  for (const query of dump.queries) {
    const indexes = [['_id'], ...(dump.indexes[query.collection] ?? [])];
    const key = JSON.stringify([query.collection, query.command, query.filterFields, query.equalityFields, query.sortFields]);
    const entry = shapes.get(key) ?? { query, ok: served(query, indexes), count: 0 };
    entry.count += 1;
    shapes.set(key, entry);
  }
}

const unserved = [...shapes.values()].filter((s) => !s.ok);
const total = [...shapes.values()].reduce((n, s) => n + s.count, 0);
process.stdout.write(
  `index coverage: ${total} queries in ${shapes.size} shapes from ${files.length} gateways; ${unserved.length} shapes not served by an index\n`,
);
for (const { query, count } of unserved) {
  process.stdout.write(
    `  UNSERVED ${query.collection}.${query.command} filter=[${query.filterFields.join(', ')}] equality=[${query.equalityFields.join(', ')}] sort=[${query.sortFields.join(', ')}] (${count}×)\n`,
  );
}
process.exit(unserved.length === 0 ? 0 : 1);
