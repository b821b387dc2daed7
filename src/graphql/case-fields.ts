// Field-level access to a case for a member state's units: every field of Case (and of the
// return leg, ReturnSupport) asks the case-team table (src/auth/case-team.ts) before it
// resolves, wherever the case comes from (a query, a list, the feed, a mutation's answer).
// Applied to the schema itself, so a field added later is covered too (and closed to units
// until the table grants it). The same gate keeps a case's team and units from its partner
// (HIDDEN_FROM_PARTNERS). A refused field answers FORBIDDEN, naming the field.
import { defaultFieldResolver, type GraphQLFieldConfig } from 'graphql';
import { maySeeCaseField, type TeamFacts } from '../auth/case-team.ts';
import { requirePrincipal } from '../auth/policy.ts';
import { forbidden } from '../errors.ts';
import type { Context } from './context.ts';

/** Where the case is found from a gated type's source, and the table's name for the field. */
const GATED: Record<string, { caseOf: (source: unknown) => TeamFacts; field: (name: string) => string }> = {
  Case: { caseOf: (source) => source as TeamFacts, field: (name) => name },
  ReturnSupport: { caseOf: (source) => (source as { case: TeamFacts }).case, field: (name) => `returnSupport.${name}` },
};

export function gateCaseField(
  typeName: string,
  fieldName: string,
  config: GraphQLFieldConfig<unknown, Context>,
): GraphQLFieldConfig<unknown, Context> {
  const gate = GATED[typeName];
  if (!gate || fieldName === '__typename') return config;
  const resolve = config.resolve ?? defaultFieldResolver;
  const name = gate.field(fieldName);
  return {
    ...config,
    resolve: (source, args, context, info) => {
      const principal = requirePrincipal(context.principal);
      if (!maySeeCaseField(principal, gate.caseOf(source), name)) throw forbidden(`read Case.${name}`);
      return resolve(source, args, context, info);
    },
  };
}
