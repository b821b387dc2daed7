// The index check judges queries as MongoDB's planner does: equality fields first, then the
// sort keys in the index's order, then one range; each `$or` branch on its own; `_id` only as an
// equality or alone; no index bounds from negations or unanchored regexes. Each refusal below is
// a query the check passed before (issue 16): `legacyServed` is that rule, kept here to show it.
import { describe, expect, it } from 'vitest';
import { CommandRecorder } from '../../src/store/command-recorder.ts';
import { fieldsOf, filterShape, planQuery, sortShape, type IndexKeys, type QueryShape } from '../../src/store/query-plan.ts';

function query(filter: Record<string, unknown>, sort: Record<string, 1 | -1> = {}): QueryShape {
  return { filter: filterShape(filter), sort: sortShape(sort) };
}

function index(keys: Record<string, 1 | -1>): IndexKeys {
  return Object.entries(keys);
}

function served(q: QueryShape, indexes: IndexKeys[]): boolean {
  return planQuery(q, indexes).served;
}

/** The rule of scripts/check-index-coverage.ts before issue 16 (any field on any index's first key, `_id` anywhere). */
function legacyServed(q: QueryShape, indexes: IndexKeys[]): boolean {
  const filterFields = fieldsOf(q.filter);
  const equalityFields = q.filter.conditions.filter((c) => c.kind === 'eq' || c.kind === 'in').map((c) => c.field);
  const sortFields = q.sort.map(([field]) => field);
  if (filterFields.includes('_id')) return true;
  const firstKeys = new Set([['_id'], ...indexes.map((keys) => keys.map(([field]) => field))].map((keys) => keys[0]));
  if (equalityFields.some((f) => firstKeys.has(f))) return true;
  if (filterFields.some((f) => firstKeys.has(f))) return true;
  if (filterFields.length === 0) return sortFields.length > 0 && (sortFields[0] === '_id' || firstKeys.has(sortFields[0]));
  return false;
}

/** A query the old rule passed and the planner would answer with a collection scan or a sort in memory. */
function expectNewlyRefused(q: QueryShape, indexes: IndexKeys[]): void {
  expect(legacyServed(q, indexes)).toBe(true);
  expect(planQuery(q, indexes)).toMatchObject({ served: false });
}

const NOW = new Date('2026-11-30T00:00:00Z');

describe('the issue’s examples', () => {
  it('the overdue list sorted on {nextDeadlineAt, _id} is not served by an index on {nextDeadlineAt} alone', () => {
    const overdue = query({ memberState: 'NL', nextDeadlineAt: { $lte: NOW } }, { nextDeadlineAt: 1, _id: 1 });
    expectNewlyRefused(overdue, [index({ nextDeadlineAt: 1 })]);
    // Across tenants (the job) the same: the tie-breaker is sorted in memory.
    expectNewlyRefused(query({ nextDeadlineAt: { $lte: NOW } }, { nextDeadlineAt: 1, _id: 1 }), [index({ nextDeadlineAt: 1 })]);
    expect(served(overdue, [index({ memberState: 1, nextDeadlineAt: 1, _id: 1 })])).toBe(true);
    expect(
      served(query({ nextDeadlineAt: { $lte: NOW } }, { nextDeadlineAt: 1, _id: 1 }), [index({ nextDeadlineAt: 1, _id: 1 })]),
    ).toBe(true);
  });

  it('a case list with a status filter needs the whole sort after its equalities', () => {
    const list = query({ memberState: 'NL', status: { $in: ['REFERRED', 'ACCEPTED'] } }, { updatedAt: -1, _id: -1 });
    expectNewlyRefused(list, [index({ memberState: 1, status: 1, updatedAt: -1 })]);
    expect(served(list, [index({ memberState: 1, status: 1, updatedAt: -1, _id: -1 })])).toBe(true);
    // The index read backwards serves the reversed order; a sort mixing directions it does not.
    const ascending = query({ memberState: 'NL', status: 'CLOSED' }, { updatedAt: 1, _id: 1 });
    expect(served(ascending, [index({ memberState: 1, status: 1, updatedAt: -1, _id: -1 })])).toBe(true);
    const mixed = query({ memberState: 'NL', status: 'CLOSED' }, { updatedAt: -1, _id: 1 });
    expect(served(mixed, [index({ memberState: 1, status: 1, updatedAt: -1, _id: -1 })])).toBe(false);
  });

  it('webhook deliveries by endpoint, newest first, are not served by the index on {endpointId, eventSeq}', () => {
    const byEndpoint = query({ organisation: 'NGO-AF', endpointId: 'we_1' }, { createdAt: -1, _id: -1 });
    expectNewlyRefused(byEndpoint, [index({ endpointId: 1, eventSeq: 1 }), index({ status: 1, nextAttemptAt: 1 })]);
    expect(served(byEndpoint, [index({ organisation: 1, endpointId: 1, createdAt: -1, _id: -1 })])).toBe(true);
  });

  it('an unanchored reference regex is not served, an anchored one is', () => {
    const indexes = [index({ memberState: 1, reference: 1 })];
    expectNewlyRefused(query({ memberState: 'NL', reference: { $regex: '000123' } }), indexes);
    expectNewlyRefused(query({ memberState: 'NL', reference: /000123/ }), indexes);
    expectNewlyRefused(query({ memberState: 'NL', reference: { $regex: '^NL-2026', $options: 'i' } }), indexes);
    // Anchored, but nothing literal to bound the index with.
    expectNewlyRefused(query({ memberState: 'NL', reference: { $regex: '^[A-Z]{2}-2026' } }), indexes);
    expect(served(query({ memberState: 'NL', reference: { $regex: '^NL-2026' } }), indexes)).toBe(true);
    expect(served(query({ reference: /^NL-2026-0001/ }, { reference: 1 }), [index({ reference: 1 })])).toBe(true);
  });
});

describe('the planner’s rule', () => {
  it('_id serves as an equality or $in, or alone, never beside other fields as a range', () => {
    expect(served(query({ _id: 'c1', memberState: 'NL' }), [])).toBe(true);
    expect(served(query({ _id: { $in: ['a', 'b'] } }, { createdAt: 1 }), [])).toBe(true);
    expect(served(query({ _id: { $gt: 10 } }, { _id: 1 }), [])).toBe(true);
    expectNewlyRefused(query({ aggregateId: 'c1', _id: { $gt: 10 } }, { _id: 1 }), []);
    expect(served(query({ aggregateId: 'c1', _id: { $gt: 10 } }, { _id: 1 }), [index({ aggregateId: 1, _id: 1 })])).toBe(true);
  });

  it('each $or branch is served with the outer equalities, or the query is not', () => {
    const indexes = [index({ memberState: 1, reference: 1 })];
    expectNewlyRefused(query({ memberState: 'NL', $or: [{ reference: 'NL-1' }, { note: 'x' }] }), [index({ reference: 1 })]);
    expect(served(query({ memberState: 'NL', $or: [{ reference: 'NL-1' }, { reference: { $gt: 'NL-5' } }] }), indexes)).toBe(
      true,
    );
    // A page after a cursor: both branches walk the index in the sort's order.
    const page = query(
      {
        memberState: 'NL',
        $or: [{ updatedAt: { $lt: NOW } }, { updatedAt: NOW, _id: { $lt: 'c9' } }],
      },
      { updatedAt: -1, _id: -1 },
    );
    expect(served(page, [index({ memberState: 1, updatedAt: -1, _id: -1 })])).toBe(true);
    expect(served(page, [index({ memberState: 1, updatedAt: -1 })])).toBe(false);
  });

  it('negations have no index bounds', () => {
    const indexes = [index({ memberState: 1, status: 1 })];
    expectNewlyRefused(query({ memberState: 'NL', status: { $ne: 'DRAFT' } }), indexes);
    expectNewlyRefused(query({ memberState: 'NL', status: { $nin: ['DRAFT', 'CLOSED'] } }), indexes);
    expectNewlyRefused(query({ memberState: 'NL', erasedAt: { $exists: false } }), indexes);
    expectNewlyRefused(query({ memberState: 'NL', status: { $not: { $eq: 'DRAFT' } } }), indexes);
    expectNewlyRefused(query({ memberState: 'NL', $nor: [{ status: 'DRAFT' }] }), indexes);
    expect(served(query({ memberState: 'NL', status: { $in: ['REFERRED', 'CLOSED'] } }), indexes)).toBe(true);
  });

  it('a sort the index does not supply is a sort in memory', () => {
    expectNewlyRefused(query({ caseId: 'c1' }, { createdAt: 1 }), [index({ caseId: 1, uploadedAt: 1 })]);
    expect(served(query({ caseId: 'c1' }, { createdAt: 1 }), [index({ caseId: 1, createdAt: 1 })])).toBe(true);
    // A sort key held to one value needs no place in the index.
    expect(served(query({ caseId: 'c1' }, { caseId: 1, createdAt: -1 }), [index({ caseId: 1, createdAt: 1 })])).toBe(true);
    // $in values are merged in the sort's order when the sort follows them.
    expect(
      served(query({ memberState: { $in: ['NL', 'DE'] } }, { createdAt: -1 }), [index({ memberState: 1, createdAt: -1 })]),
    ).toBe(true);
  });

  it('equalities lead, all of them: an index that starts with the range or the sort, or leaves one out, does not serve', () => {
    const due = query({ status: 'REFERRED', referralDeadline: { $lt: NOW } });
    expectNewlyRefused(due, [index({ referralDeadline: 1 })]);
    expect(served(due, [index({ status: 1, referralDeadline: 1 })])).toBe(true);
    // Every equality is in the index: one outside it is checked document by document.
    expectNewlyRefused(query({ caseId: 'c1', memberState: 'NL' }), [index({ caseId: 1, createdAt: 1 })]);
    expect(served(query({ caseId: 'c1', memberState: 'NL' }), [index({ memberState: 1, caseId: 1 })])).toBe(true);
    const byEndpoint = query({ organisation: 'NGO-AF', endpointId: 'we_1' }, { createdAt: -1, _id: -1 });
    expectNewlyRefused(byEndpoint, [index({ organisation: 1, createdAt: -1, _id: -1 })]);
  });

  it('optional filters named by the caller may stay outside the index, the rest may not', () => {
    const list = query({ memberState: 'NL', originCountry: 'IQ' }, { updatedAt: -1, _id: -1 });
    const indexes = [index({ memberState: 1, updatedAt: -1, _id: -1 })];
    expect(served(list, indexes)).toBe(false);
    expect(planQuery(list, indexes, new Set(['originCountry'])).served).toBe(true);
    // The index must still lead with the query's other equalities, and supply the sort.
    const withStatus = query({ memberState: 'NL', status: 'CLOSED', originCountry: 'IQ' }, { updatedAt: -1, _id: -1 });
    expect(planQuery(withStatus, indexes, new Set(['originCountry'])).served).toBe(false);
    expect(planQuery(query({ originCountry: 'IQ' }, { updatedAt: -1 }), indexes, new Set(['originCountry'])).served).toBe(false);
  });

  it('a query without a filter is served only by an index that supplies its sort', () => {
    expect(served(query({}), [index({ createdAt: 1 })])).toBe(false);
    expect(served(query({}, { createdAt: -1 }), [index({ createdAt: 1 })])).toBe(true);
    expect(served(query({}, { _id: 1 }), [])).toBe(true);
    expect(served(query({ markers: { $exists: true } }, { _id: 1 }), [])).toBe(false);
  });
});

describe('the recorder', () => {
  it('records each field’s kind of condition, the $or branches and the sort’s directions', () => {
    const recorder = new CommandRecorder();
    recorder.record('find', {
      find: 'case_list',
      filter: {
        $and: [{ memberState: 'NL' }, { status: { $in: ['A', 'B'] } }],
        reference: { $regex: '^NL-' },
        $or: [{ updatedAt: { $lt: NOW } }, { updatedAt: NOW, _id: { $lt: 'c9' } }],
      },
      sort: new Map([
        ['updatedAt', -1],
        ['_id', -1],
      ]),
    });
    const [recorded] = recorder.queries;
    expect(recorded!.shape).toEqual({
      filter: {
        conditions: [
          { field: 'memberState', kind: 'eq' },
          { field: 'status', kind: 'in' },
          { field: 'reference', kind: 'prefix' },
        ],
        or: [
          [
            { conditions: [{ field: 'updatedAt', kind: 'range' }], or: [] },
            {
              conditions: [
                { field: 'updatedAt', kind: 'eq' },
                { field: '_id', kind: 'range' },
              ],
              or: [],
            },
          ],
        ],
      },
      sort: [
        ['updatedAt', -1],
        ['_id', -1],
      ],
    });
  });

  it('takes an aggregation’s leading $match and $sort, not a $sort after a $group', () => {
    const recorder = new CommandRecorder();
    recorder.record('aggregate', {
      aggregate: 'cases',
      pipeline: [{ $match: { memberState: 'NL' } }, { $group: { _id: '$status' } }, { $sort: { count: -1 } }],
    });
    recorder.record('aggregate', {
      aggregate: 'cases',
      pipeline: [{ $match: { memberState: 'NL' } }, { $sort: { createdAt: 1 } }, { $limit: 5 }],
    });
    expect(recorder.queries.map((q) => q.shape.sort)).toEqual([[], [['createdAt', 1]]]);
  });
});
