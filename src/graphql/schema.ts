// The executable schema: SDL from schema/*.graphql, resolvers from the modules. Every
// root field (query, mutation, subscription) requires an authenticated caller, and every
// field of a case asks the case-team table (case-fields.ts); both are applied here to the
// schema itself, so a field added later is covered too.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import { defaultFieldResolver, type GraphQLSchema } from 'graphql';
import { HIDDEN_FROM_PARTNERS } from '../auth/case-team.ts';
import { requirePrincipal } from '../auth/policy.ts';
import { gateCaseField } from './case-fields.ts';
import type { Context } from './context.ts';
import type { Resolvers } from './generated/types.ts';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schema/', import.meta.url));

export function loadTypeDefs(dir = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8'));
}

/**
 * The schema every request is validated against and every caller whose case fields are gated
 * runs on. `{ caseFieldGate: false }` builds the same schema without the per-field gate of
 * cases, for the callers the gate refuses nothing else (caseFieldsGated, src/auth/case-team.ts):
 * a field with nothing to resolve is then a property read, not a function call per case. The
 * fields hidden from partners (HIDDEN_FROM_PARTNERS) keep their gate in both.
 */
export function buildSchema(resolvers: Resolvers[], options: { caseFieldGate?: boolean } = {}): GraphQLSchema {
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
  const gate = options.caseFieldGate ?? true;
  return mapSchema(schema, {
    [MapperKind.COMPOSITE_FIELD]: (field, fieldName, typeName) =>
      gate || (typeName === 'Case' && HIDDEN_FROM_PARTNERS.includes(fieldName))
        ? gateCaseField(typeName, fieldName, field)
        : field,
    [MapperKind.ROOT_FIELD]: (field) => {
      const resolve = field.resolve ?? defaultFieldResolver;
      const subscribe = field.subscribe;
      return {
        ...field,
        resolve: (source, args, context: Context, info) => {
          requirePrincipal(context.principal);
          return resolve(source, args, context, info);
        },
        ...(subscribe
          ? {
              subscribe: ((source, args, context: Context, info) => {
                requirePrincipal(context.principal);
                return subscribe(source, args, context, info);
              }) as typeof subscribe,
            }
          : {}),
      };
    },
  });
}
