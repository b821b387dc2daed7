// Whether MongoDB's query planner can answer a query from an index, without a collection scan
// and without a sort in memory, judged from the query's shape and the indexes a collection
// declares. The embedded store scans whole collections whatever the indexes, so this is how we
// know a production replica set will not (scripts/check-index-coverage.ts runs it over every
// query the test suite sent).
//
// The rule, after MongoDB's planner (equality, sort, range):
// - an index serves a query when its keys are, in order: all of the query's equality fields
//   (`$eq` or `$in`, in any order), then the sort keys in the index's order (all in its
//   direction or all reversed; a sort key held to one value by an equality needs no place),
//   then at most one range field (`$gt`…, or a regex anchored with `^`). An equality the index
//   does not hold would be checked document by document: a tenant's whole list walked to find
//   one endpoint's deliveries;
// - a query without equality fields must lead with its range field; a query without any filter
//   is served by an index that supplies its sort;
// - a list's optional filters (named by the caller, e.g. the case list's country, partner and
//   programme) may be left to the documents the index walks: the index must lead with the
//   query's other equalities (its scope) and supply the sort;
// - `_id` by equality or `$in` is always served (a few primary-key lookups); `_id` as a range
//   only through an index that leads with it, like any other field (so `_id > n` alone, yes;
//   `{aggregateId, _id > n}`, only by an index on `{aggregateId, _id}`);
// - each branch of an `$or`, with the conditions outside the `$or` added, must be served;
// - an unanchored or case-insensitive regex, `$ne`, `$nin`, `$not`, `$nor` and `$exists: false`
//   are never served: no index bounds come from a negation, and MongoDB walks the whole index or
//   collection to answer one.

export type ConditionKind =
  /** One value (`x`, `{$eq: x}`, `{$in: [x]}`): an index prefix, and a sort key it holds needs no place. */
  | 'eq'
  /** Several values (`{$in: [...]}`): an index prefix; the planner merges its points for a sort. */
  | 'in'
  /** `$gt`, `$gte`, `$lt`, `$lte`. */
  | 'range'
  /** A regex anchored at the start, case-sensitive: a range of the index. */
  | 'prefix'
  /** A regex that is not anchored, or case-insensitive: no index bounds. */
  | 'regex'
  /** `$ne`, `$nin`, `$not`, `$nor`, `$exists: false`: no index bounds. */
  | 'negation'
  /** Anything else (`$exists: true`, `$elemMatch`, `$size`, `$expr`, …): checked on the documents. */
  | 'other';

export type FieldCondition = { field: string; kind: ConditionKind };

/** A filter as the planner sees it: conditions that all hold, and `$or`s whose branches are alternatives. */
export type FilterShape = { conditions: FieldCondition[]; or: FilterShape[][] };

export type SortKey = [field: string, direction: 1 | -1];

/** An index's keys in order, with their directions. */
export type IndexKeys = [field: string, direction: number][];

export type QueryShape = { filter: FilterShape; sort: SortKey[] };

export type Verdict = { served: true; index: IndexKeys | 'primary key' } | { served: false; reason: string };

// ---- Shapes of filters and sorts, from the values the driver sends ----

export function filterShape(filter: Record<string, unknown>): FilterShape {
  const shape: FilterShape = { conditions: [], or: [] };
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const part of value) {
        const inner = filterShape(asObject(part));
        shape.conditions.push(...inner.conditions);
        shape.or.push(...inner.or);
      }
    } else if (key === '$or' && Array.isArray(value)) {
      const branches = value.map((branch) => filterShape(asObject(branch)));
      // `$or` of one branch is that branch.
      if (branches.length === 1) {
        shape.conditions.push(...branches[0]!.conditions);
        shape.or.push(...branches[0]!.or);
      } else shape.or.push(branches);
    } else if (key === '$nor' && Array.isArray(value)) {
      for (const branch of value) {
        for (const field of fieldsOf(filterShape(asObject(branch)))) shape.conditions.push({ field, kind: 'negation' });
      }
    } else if (key.startsWith('$')) {
      shape.conditions.push({ field: key, kind: 'other' });
    } else {
      shape.conditions.push({ field: key, kind: conditionKind(value) });
    }
  }
  return shape;
}

/** Every field a filter names, `$or` branches included. */
export function fieldsOf(shape: FilterShape): string[] {
  const fields = shape.conditions.map((c) => c.field);
  for (const branches of shape.or) for (const branch of branches) fields.push(...fieldsOf(branch));
  return [...new Set(fields)];
}

export function sortShape(sort: unknown): SortKey[] {
  if (sort instanceof Map) return sortShape(Object.fromEntries(sort as Map<string, unknown>));
  if (typeof sort !== 'object' || sort === null) return [];
  return Object.entries(sort).map(([field, direction]) => [field, direction === -1 || direction === 'desc' ? -1 : 1]);
}

const RANGE_OPERATORS = new Set(['$gt', '$gte', '$lt', '$lte']);
const NEGATIONS = new Set(['$ne', '$nin', '$not']);

function conditionKind(value: unknown): ConditionKind {
  if (value instanceof RegExp) return regexKind(value.source, value.flags);
  if (typeof value !== 'object' || value === null || value instanceof Date || Array.isArray(value)) return 'eq';
  if ('_bsontype' in value) {
    const bson = value as { _bsontype: string; pattern?: string; options?: string };
    return bson._bsontype === 'BSONRegExp' ? regexKind(bson.pattern ?? '', bson.options ?? '') : 'eq';
  }
  const operators = Object.keys(value);
  // An embedded document compared whole.
  if (operators.length === 0 || operators.every((k) => !k.startsWith('$'))) return 'eq';
  const v = value as Record<string, unknown>;
  if (operators.some((k) => NEGATIONS.has(k)) || v.$exists === false) return 'negation';
  if ('$regex' in v) {
    const source = v.$regex;
    const options = typeof v.$options === 'string' ? v.$options : '';
    if (source instanceof RegExp) return regexKind(source.source, source.flags + options);
    return regexKind(typeof source === 'string' ? source : '', options);
  }
  if ('$eq' in v) return 'eq';
  if ('$in' in v) {
    const values = v.$in;
    if (!Array.isArray(values)) return 'other';
    // Regexes in a list: ranges of the index if every one is anchored.
    const regexes = values.filter((x): x is RegExp => x instanceof RegExp);
    if (regexes.length > 0) return regexes.every((r) => regexKind(r.source, r.flags) === 'prefix') ? 'prefix' : 'regex';
    return values.length <= 1 ? 'eq' : 'in';
  }
  if (operators.some((k) => RANGE_OPERATORS.has(k))) return 'range';
  return 'other';
}

/**
 * Anchored and starting with a literal (`^NL-2026`), case-sensitive, single-line and without
 * alternation: the literal is a range of the index. `^[A-Z]{2}-2026` is anchored but bounds nothing.
 */
function regexKind(source: string, flags: string): ConditionKind {
  const anchor = source.startsWith('^') ? 1 : source.startsWith('\\A') ? 2 : 0;
  if (anchor === 0 || /[im]/.test(flags) || /(^|[^\\])\|/.test(source)) return 'regex';
  const rest = source.slice(anchor);
  // The first character: a literal, or punctuation escaped (`\.`); not a class, group or escape like `\d`.
  const literal = rest.startsWith('\\') ? /^\\[^A-Za-z0-9]/.exec(rest)?.[0] : /^[^[(.*+?{|$^\\]/.exec(rest)?.[0];
  if (!literal) return 'regex';
  // …and not optional (`^a?`, `^a*`, `^a{0,}`).
  return /^[?*]|^\{0/.test(rest.slice(literal.length)) ? 'regex' : 'prefix';
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

// ---- The planner's verdict ----

/** Whether one of the indexes (the primary key `{_id: 1}` is always there) serves the query. */
export function planQuery(
  query: QueryShape,
  indexes: readonly IndexKeys[],
  /**
   * Equality fields an index need not hold: a list's optional filters, checked on the entries
   * the index walks in the sort's order within the caller's scope (an index per combination of
   * them is not worth its writes). The index must still lead with the query's other equalities.
   */
  optionalFilters: ReadonlySet<string> = new Set(),
): Verdict {
  const all: IndexKeys[] = [[['_id', 1]], ...indexes];
  const bad = unindexable(query.filter);
  if (bad) return { served: false, reason: bad };
  const alternatives = expandOr(query.filter);
  let used: IndexKeys | 'primary key' = 'primary key';
  for (const conditions of alternatives) {
    const verdict = planConditions(conditions, query.sort, all, optionalFilters);
    if (!verdict.served) {
      const branch = alternatives.length > 1 ? ` (in the $or branch ${describeConditions(conditions)})` : '';
      return { served: false, reason: `${verdict.reason}${branch}` };
    }
    used = verdict.index;
  }
  return { served: true, index: used };
}

function unindexable(filter: FilterShape): string | undefined {
  for (const { field, kind } of filter.conditions) {
    if (kind === 'regex') return `${field}: a regex not anchored with ^ (or case-insensitive) walks the whole index`;
    if (kind === 'negation') return `${field}: a negation ($ne, $nin, $not, $nor, $exists: false) has no index bounds`;
  }
  for (const branches of filter.or) {
    for (const branch of branches) {
      const bad = unindexable(branch);
      if (bad) return bad;
    }
  }
  return undefined;
}

/**
 * The alternatives the planner plans one by one: each branch of each `$or` with the conditions
 * outside it (nested `$or`s expanded the same way). Several `$or`s side by side: each is planned
 * with the outer conditions; the others are then checked on the documents.
 */
function expandOr(filter: FilterShape): FieldCondition[][] {
  if (filter.or.length === 0) return [filter.conditions];
  const alternatives: FieldCondition[][] = [];
  for (const branches of filter.or) {
    for (const branch of branches) {
      for (const inner of expandOr(branch)) alternatives.push([...filter.conditions, ...inner]);
    }
  }
  return alternatives;
}

type Conditions = { equality: Map<string, 'eq' | 'in'>; range: Set<string>; any: boolean };

function classify(conditions: FieldCondition[]): Conditions {
  const equality = new Map<string, 'eq' | 'in'>();
  const range = new Set<string>();
  for (const { field, kind } of conditions) {
    if (kind === 'eq') equality.set(field, 'eq');
    else if (kind === 'in' && equality.get(field) !== 'eq') equality.set(field, 'in');
    else if (kind === 'range' || kind === 'prefix') range.add(field);
  }
  for (const field of equality.keys()) range.delete(field);
  return { equality, range, any: conditions.length > 0 };
}

function planConditions(
  conditions: FieldCondition[],
  sort: SortKey[],
  indexes: IndexKeys[],
  optionalFilters: ReadonlySet<string>,
): Verdict {
  const c = classify(conditions);
  if (c.equality.has('_id')) return { served: true, index: 'primary key' };
  for (const index of indexes) if (serves(index, c, sort, optionalFilters)) return { served: true, index };
  return { served: false, reason: whyNot(c, sort) };
}

function serves(index: IndexKeys, c: Conditions, sort: SortKey[], optionalFilters: ReadonlySet<string>): boolean {
  let i = 0;
  // Equality fields first, in any order: all of them, but for optional filters (at least one).
  const leading = new Set<string>();
  while (i < index.length && c.equality.has(index[i]![0])) leading.add(index[i++]![0]);
  for (const field of c.equality.keys()) if (!leading.has(field) && !optionalFilters.has(field)) return false;
  if (c.equality.size > 0 && leading.size === 0) return false;
  // Then the sort keys, in the index's order, all in its direction or all against it. A key held
  // to one value is sorted already; so is one the equality prefix holds.
  const needed = sort.filter(([field]) => c.equality.get(field) !== 'eq' && !leading.has(field));
  let direction = 0;
  for (const [field, dir] of needed) {
    const key = index[i];
    if (!key || key[0] !== field) return false;
    const relative = Math.sign(dir * key[1]);
    if (direction !== 0 && relative !== direction) return false;
    direction = relative;
    i += 1;
  }
  if (leading.size > 0) return true;
  // No equality: the scan must be bounded by the range on the index's first key.
  const first = index[0]![0];
  if (c.range.has(first)) return true;
  // No filter at all: the index supplies the order (a page of the whole collection).
  return !c.any && needed.length > 0;
}

function whyNot(c: Conditions, sort: SortKey[]): string {
  const parts = [
    c.equality.size > 0 ? `equality on ${[...c.equality.keys()].join(', ')}` : '',
    c.range.size > 0 ? `range on ${[...c.range].join(', ')}` : '',
    sort.length > 0 ? `sort ${sort.map(([f, d]) => `${f}:${d}`).join(', ')}` : '',
  ].filter(Boolean);
  if (!c.any && sort.length === 0) return 'no filter and no sort: a whole-collection scan';
  return `no index leads with ${parts.join(', then ')}`;
}

function describeConditions(conditions: FieldCondition[]): string {
  return `{${conditions.map((c) => `${c.field}: ${c.kind}`).join(', ')}}`;
}

/** A query's shape in one line (for reports). */
export function describeQuery(query: QueryShape): string {
  const filter = (f: FilterShape): string => {
    const parts = f.conditions.map((c) => `${c.field}:${c.kind}`);
    for (const branches of f.or) parts.push(`$or[${branches.map(filter).join(' | ')}]`);
    return `{${parts.join(', ')}}`;
  };
  const sort = query.sort.length > 0 ? ` sort {${query.sort.map(([f, d]) => `${f}:${d}`).join(', ')}}` : '';
  return `${filter(query.filter)}${sort}`;
}
