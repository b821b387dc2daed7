// Inputs generated from the schema itself, for the malformed-input and fuzz tests: every root
// field with its arguments, a well-typed value for each argument type, and values that are
// wrong for it (they do not coerce) or well-typed but hostile (out of range, oversized).
import fc from 'fast-check';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { loadResolvers } from '../../src/graphql/resolvers.ts';
import { buildSchema } from '../../src/graphql/schema.ts';

/** The gateway's executable schema, as it serves it. */
export async function gatewaySchema(): Promise<GraphQLSchema> {
  return buildSchema(await loadResolvers());
}

export type RootKind = 'query' | 'mutation' | 'subscription';

export type RootField = { kind: RootKind; field: GraphQLField<unknown, unknown> };

export function rootFields(schema: GraphQLSchema, kinds: RootKind[] = ['query', 'mutation']): RootField[] {
  const roots = { query: schema.getQueryType(), mutation: schema.getMutationType(), subscription: schema.getSubscriptionType() };
  return kinds.flatMap((kind) => Object.values(roots[kind]?.getFields() ?? {}).map((field) => ({ kind, field })));
}

/** `query ($a: T, …) { field(a: $a, …) { __typename } }`, each argument a variable named like it. */
export function operationFor({ kind, field }: RootField): string {
  const args = field.args;
  const definitions = args.length ? `(${args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ')})` : '';
  const passed = args.length ? `(${args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const named = getNamedType(field.type);
  const selection = isScalarType(named) || isEnumType(named) ? '' : ' { __typename }';
  return `${kind} ${definitions} { ${field.name}${passed}${selection} }`;
}

/** Scalars whose valid forms the generator knows; another custom scalar fails the test, so it gets added here. */
const SCALAR_SAMPLES: Record<string, { valid: unknown; invalid: unknown[]; hostile: unknown[] }> = {
  Int: {
    valid: 1,
    invalid: ['one', 1.5, 2 ** 31, -(2 ** 31) - 1, 1e300, true, {}],
    hostile: [-1, 0, 2 ** 31 - 1, -(2 ** 31)],
  },
  Float: { valid: 1.5, invalid: ['1.5x', true, {}], hostile: [-1, 0, 1e308, -1e308, 5e-324] },
  String: {
    valid: 'x',
    invalid: [123, true, {}],
    hostile: [
      '',
      ' ',
      'x'.repeat(100_000),
      '\u0000',
      '\ud800',
      '{"$ne":null}',
      '.*',
      '(a+)+$',
      'a.b$c',
      // shaped like the opaque cursors the API hands out, with garbage inside
      Buffer.from('["UPDATED_DESC","not a date","x"]').toString('base64url'),
      Buffer.from('erin1:-1').toString('base64url'),
    ],
  },
  ID: {
    valid: '00000000-0000-4000-8000-000000000000',
    invalid: [true, 1.5, {}, ['a']],
    hostile: ['', 'x'.repeat(100_000), '{"$ne":null}', '../../etc/passwd', 12345, '\u0000'],
  },
  Boolean: { valid: true, invalid: ['true', 1, {}], hostile: [false] },
  Date: {
    valid: '2026-06-01',
    invalid: ['2026-02-30', '2026-13-01', 'yesterday', '2026-1-1', 20260101, '2026-06-01T00:00:00Z', true],
    hostile: ['0001-01-01', '9999-12-31', '1970-01-01'],
  },
  DateTime: {
    valid: '2026-06-01T10:00:00Z',
    invalid: ['2026-02-30T10:00:00Z', 'now', '2026-06-01', true, {}],
    hostile: ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z'],
  },
  Cursor: {
    valid: Buffer.from('erin1:0').toString('base64url'),
    invalid: ['garbage', 12, '', Buffer.from('erin1:-1').toString('base64url'), 'x'.repeat(100), true],
    hostile: [Buffer.from('erin1:9007199254740991').toString('base64url'), Buffer.from('erin1:999999').toString('base64url')],
  },
  JSON: { valid: {}, invalid: [], hostile: [{ $where: '1' }, [[[[[[[[[[1]]]]]]]]]]] },
};

function scalarSamples(name: string) {
  const samples = SCALAR_SAMPLES[name];
  if (!samples) throw new Error(`no samples for the scalar ${name}: add them to test/helpers/schema-inputs.ts`);
  return samples;
}

/** Known-good values for arguments by name (ids of records that exist), so hostile values get past the lookup. */
export type Hints = Record<string, unknown>;

/** A well-typed value: required fields only, lists of one. */
export function validValue(type: GraphQLInputType, hints: Hints = {}, name = ''): unknown {
  if (isNonNullType(type)) return validValue(type.ofType, hints, name);
  if (name in hints) return hints[name];
  if (isListType(type)) return [validValue(type.ofType, hints, name)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return Object.fromEntries(fields.map((f) => [f.name, validValue(f.type, hints, f.name)]));
  }
  return scalarSamples(type.name).valid;
}

export type Variant = {
  /** Where in the argument the value is wrong, e.g. `input.household[0].yearOfBirth`. */
  at: string;
  value: unknown;
  /** True when the value does not coerce to the type: a request error naming the variable. */
  invalid: boolean;
  /** True when the variable is left out rather than sent. */
  omitted?: boolean;
};

/** Every wrong or hostile value for a type, one place at a time, nested into input objects and lists. */
export function malformedValues(type: GraphQLInputType, at: string, hints: Hints = {}, depth = 0): Variant[] {
  const variants: Variant[] = [];
  const nonNull = isNonNullType(type);
  const inner = nonNull ? type.ofType : type;
  if (nonNull) variants.push({ at, value: null, invalid: true });
  else variants.push({ at, value: null, invalid: false });
  if (isListType(inner)) {
    const item = validValue(inner.ofType, hints);
    const itemSize = JSON.stringify(item).length + 1;
    variants.push(
      { at, value: [], invalid: false },
      // oversized: as many items as fit well under the 1 MB body limit
      { at, value: Array.from({ length: Math.min(10_000, Math.floor(600_000 / itemSize)) }, () => item), invalid: false },
      { at: `${at}[0]`, value: [null], invalid: isNonNullType(inner.ofType) },
    );
    if (depth < 3) {
      for (const v of malformedValues(inner.ofType, `${at}[0]`, hints, depth + 1)) {
        if (v.omitted || v.value === null) continue;
        variants.push({ ...v, value: [v.value] });
      }
    }
    return variants;
  }
  if (isEnumType(inner)) {
    variants.push(
      { at, value: 'PIRATE', invalid: true },
      { at, value: inner.getValues()[0]!.value.toLowerCase(), invalid: true },
      { at, value: 1, invalid: true },
    );
    for (const v of inner.getValues()) variants.push({ at, value: v.value, invalid: false });
    return variants;
  }
  if (isInputObjectType(inner)) {
    const base = validValue(inner, hints) as Record<string, unknown>;
    const fields = Object.values(inner.getFields());
    const required = fields.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    variants.push(
      { at, value: 'not an object', invalid: true },
      { at, value: {}, invalid: required.length > 0 },
      { at: `${at}.unknownField`, value: { ...base, unknownField: 1 }, invalid: true },
    );
    if (depth < 3) {
      for (const f of fields) {
        const filled = { ...base, [f.name]: base[f.name] ?? validValue(f.type, hints, f.name) };
        for (const v of malformedValues(f.type, `${at}.${f.name}`, hints, depth + 1)) {
          if (v.omitted) {
            const { [f.name]: _left, ...rest } = filled;
            variants.push({ at: v.at, value: rest, invalid: v.invalid });
          } else {
            variants.push({ ...v, value: { ...filled, [f.name]: v.value } });
          }
        }
      }
    }
    if (nonNull) variants.push({ at, value: undefined, invalid: true, omitted: true });
    return variants;
  }
  const samples = scalarSamples(inner.name);
  for (const value of samples.invalid) variants.push({ at, value, invalid: true });
  for (const value of samples.hostile) variants.push({ at, value, invalid: false });
  if (nonNull) variants.push({ at, value: undefined, invalid: true, omitted: true });
  return variants;
}

/** For each argument of a field in turn, its malformed values with every other argument well-typed. */
export function malformedRequests(field: GraphQLField<unknown, unknown>, hints: Hints = {}) {
  const baseline = (args: readonly GraphQLArgument[]) =>
    Object.fromEntries(
      args
        .filter((a) => isNonNullType(a.type) || a.name in hints)
        .map((a) => [a.name, a.name in hints ? hints[a.name] : validValue(a.type, hints, a.name)]),
    );
  return field.args.flatMap((arg) =>
    malformedValues(arg.type, arg.name, hints).map((variant) => {
      const variables: Record<string, unknown> = { ...baseline(field.args) };
      if (variant.omitted) delete variables[arg.name];
      else variables[arg.name] = variant.value;
      return { argument: arg.name, variant, variables };
    }),
  );
}

/** Values the fuzz may pick for a named type or argument: ids of records that exist, the current version. */
export type Pools = { ids: unknown[]; strings: unknown[]; ints: unknown[] };

const isoDate = (d: Date) => d.toISOString().slice(0, 10);

/**
 * An arbitrary for an argument's type: almost always well-typed (random within the type,
 * records that exist, hostile strings and numbers), so that the services' own validation is
 * what gets exercised; now and then a value that does not coerce, or any JSON at all.
 */
export function arbitraryFor(type: GraphQLInputType, pools: Pools): fc.Arbitrary<unknown> {
  const wrong = fc.oneof(fc.constantFrom(...malformedValues(type, '', {}, 3).map((v) => v.value)), fc.jsonValue({ maxDepth: 2 }));
  return fc.oneof({ arbitrary: typedArbitrary(type, pools, 0), weight: 30 }, { arbitrary: wrong, weight: 1 });
}

function typedArbitrary(type: GraphQLInputType, pools: Pools, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return nonNullArbitrary(type.ofType, pools, depth);
  return fc.oneof({ arbitrary: nonNullArbitrary(type, pools, depth), weight: 4 }, { arbitrary: fc.constant(null), weight: 1 });
}

function nonNullArbitrary(type: GraphQLInputType, pools: Pools, depth: number): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return nonNullArbitrary(type.ofType, pools, depth);
  if (isListType(type)) return fc.array(typedArbitrary(type.ofType, pools, depth + 1), { maxLength: depth > 1 ? 2 : 4 });
  if (isEnumType(type)) return fc.constantFrom(...type.getValues().map((v) => v.value));
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields());
    const model = Object.fromEntries(fields.map((f) => [f.name, typedArbitrary(f.type, pools, depth + 1)]));
    const requiredKeys = fields.filter((f) => isNonNullType(f.type) && f.defaultValue === undefined).map((f) => f.name);
    return fc.record(model, { requiredKeys });
  }
  const samples = scalarSamples(type.name);
  const hostile = samples.hostile.length ? fc.constantFrom(...samples.hostile) : fc.constant(samples.valid);
  const byName: Record<string, fc.Arbitrary<unknown>> = {
    Int: fc.oneof(
      fc.constantFrom(...pools.ints),
      fc.integer({ min: -2, max: 120 }),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    ),
    Float: fc.double({ noNaN: true, noDefaultInfinity: true }),
    String: fc.oneof(
      { arbitrary: fc.constantFrom(...pools.strings), weight: 3 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
      { arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }), weight: 1 },
    ),
    ID: fc.oneof({ arbitrary: fc.constantFrom(...pools.ids), weight: 4 }, { arbitrary: fc.uuid(), weight: 1 }),
    Boolean: fc.boolean(),
    Date: fc.oneof(
      fc.date({ min: new Date('2025-01-01'), max: new Date('2027-12-31'), noInvalidDate: true }).map(isoDate),
      fc.date({ min: new Date('1900-01-01'), max: new Date('2100-12-31'), noInvalidDate: true }).map(isoDate),
    ),
    DateTime: fc
      .date({ min: new Date('2025-01-01'), max: new Date('2027-12-31'), noInvalidDate: true })
      .map((d) => d.toISOString()),
    Cursor: fc.nat().map((n) => Buffer.from(`erin1:${n}`).toString('base64url')),
    JSON: fc.jsonValue({ maxDepth: 3 }),
  };
  const typed = byName[type.name] ?? fc.constant(samples.valid);
  return fc.oneof({ arbitrary: typed, weight: 6 }, { arbitrary: hostile, weight: 1 });
}
