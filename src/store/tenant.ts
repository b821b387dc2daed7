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

export function tenantScoped(schema: Schema): void {
  for (const operation of QUERY_OPERATIONS) {
    schema.pre(operation, function (this: mongoose.Query<unknown, unknown>) {
      const scope = this.getOptions().scope as TenantScope | undefined;
      if (scope === undefined) throw new UnscopedQueryError(this.model.modelName, operation);
      if (scope === SYSTEM) return;
      if (operation === 'estimatedDocumentCount') throw new UnscopedQueryError(this.model.modelName, operation);
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
