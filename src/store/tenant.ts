// Tenant scoping for mongoose models that hold an organisation's data. A model with this
// plugin refuses every query that does not carry a scope (`.setOptions({ scope })` on a
// query, `.option({ scope })` on an aggregation) and adds the scope's filter itself, so a
// forgotten filter is an error, never a leak. Background jobs pass SYSTEM explicitly.
import mongoose, { type Schema } from 'mongoose';

/** Marks a filter value as built by the app, so `sanitizeFilter` keeps its operators. */
export const op = <T extends object>(value: T): T => {
  mongoose.trusted(value);
  return value;
};

export const SYSTEM = Symbol.for('erin.scope.system');
export type TenantScope = { filter: Record<string, unknown> } | typeof SYSTEM;

export class UnscopedQueryError extends Error {
  constructor(model: string, operation: string) {
    super(`unscoped ${operation} on tenant-owned model ${model}: pass a scope from the tenant policy`);
    this.name = 'UnscopedQueryError';
  }
}

const QUERY_OPERATIONS = [
  'find',
  'findOne',
  'countDocuments',
  'estimatedDocumentCount',
  'distinct',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
] as const;

/** Deep-marks operator objects of a scope filter as trusted. */
function trustFilter(filter: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    out[key] =
      typeof value === 'object' && value !== null && !(value instanceof Date) && !Array.isArray(value) ? op(value) : value;
  }
  return out;
}

/** True for `{ _id: <string> }` and nothing else: a primary-key lookup on every store. */
function isIdLookup(filter: Record<string, unknown>): boolean {
  const keys = Object.keys(filter);
  return keys.length === 1 && keys[0] === '_id' && typeof filter._id === 'string';
}

/**
 * Scope filters are equalities and `$in` lists; true when a document satisfies one. As in
 * the store, a condition on an array field holds when one of its elements satisfies it.
 */
export function matchesScope(doc: Record<string, unknown>, filter: Record<string, unknown>): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    const value = doc[key];
    const values: unknown[] = Array.isArray(value) ? value : [value];
    if (condition !== null && typeof condition === 'object' && '$in' in condition) {
      const allowed = (condition as { $in: unknown[] }).$in ?? [];
      return values.some((v) => allowed.includes(v));
    }
    return values.some((v) => v === condition);
  });
}

function simpleScope(filter: Record<string, unknown>): boolean {
  return Object.values(filter).every(
    (c) => c === null || typeof c !== 'object' || (Object.keys(c).length === 1 && Array.isArray((c as { $in?: unknown }).$in)),
  );
}

export function tenantScoped(schema: Schema): void {
  for (const operation of QUERY_OPERATIONS) {
    schema.pre(operation, function (this: mongoose.Query<unknown, unknown>) {
      const scope = this.getOptions().scope as TenantScope | undefined;
      if (scope === undefined) throw new UnscopedQueryError(this.model.modelName, operation);
      if (scope === SYSTEM) return;
      if (operation === 'estimatedDocumentCount') throw new UnscopedQueryError(this.model.modelName, operation);
      // A read of one record by id stays a primary-key lookup (the embedded store scans for
      // anything more); the scope is then applied to the record found, before it is returned.
      if ((operation === 'findOne' || operation === 'find') && isIdLookup(this.getFilter()) && simpleScope(scope.filter)) {
        const filter = scope.filter;
        this.transform((result: unknown) => {
          if (Array.isArray(result)) return result.filter((doc: Record<string, unknown>) => matchesScope(doc, filter));
          return result && matchesScope(result as Record<string, unknown>, filter) ? result : null;
        });
        return;
      }
      this.and([trustFilter(scope.filter)]);
    });
  }
  schema.pre('aggregate', function (this: mongoose.Aggregate<unknown>) {
    const scope = this.options.scope as TenantScope | undefined;
    if (scope === undefined) throw new UnscopedQueryError(this.model().modelName, 'aggregate');
    if (scope === SYSTEM) return;
    this.pipeline().unshift({ $match: scope.filter });
  });
}

/**
 * The filter for a batch of ids: one id is an equality (a primary-key lookup even on the
 * embedded store, which scans for `$in`); several are one `$in` (one round trip).
 */
export function idsFilter(ids: readonly string[]): Record<string, unknown> {
  return ids.length === 1 ? { _id: ids[0] } : { _id: op({ $in: [...ids] }) };
}
