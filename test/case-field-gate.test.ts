// The compiled execution skips the per-field gate of cases for callers it never refuses
// (src/graphql/executor.ts, caseFieldsGated). That must change nothing but speed: for a member
// state, its partner and the network's administrator, every field of a case (and of its return
// leg), a list of cases and the feed answer exactly what the gated execution answers — data,
// errors, their paths and codes — over the real store, with the gateway's own services. A rule
// added to the gate for anyone but units without saying so in caseFieldsGated fails here.
import {
  getNamedType,
  isCompositeType,
  isLeafType,
  isNonNullType,
  parse,
  validate,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../src/auth/principal.ts';
import { createContext } from '../src/graphql/context.ts';
import { createCompiledExecutor } from '../src/graphql/executor.ts';
import { loadResolvers } from '../src/graphql/resolvers.ts';
import { buildSchema } from '../src/graphql/schema.ts';
import { createLogger } from '../src/logger.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';

let gw: TestGateway;
let schema: GraphQLSchema;
let gatedOnly: ReturnType<typeof createCompiledExecutor>;
let twoVariants: ReturnType<typeof createCompiledExecutor>;
let caseId: string;
const logger = createLogger('silent');

beforeAll(async () => {
  gw = await startGateway();
  const resolvers = await loadResolvers();
  schema = buildSchema(resolvers);
  // Compiled at the first run (the gateway compiles at the second): the comparison is of compiled answers.
  gatedOnly = createCompiledExecutor(schema, schema, { compileAfter: 0 });
  twoVariants = createCompiledExecutor(schema, buildSchema(resolvers, { caseFieldGate: false }), { compileAfter: 0 });
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  const approved = await flow.approved({
    summary: 'Tailoring workshop',
    components: [trainingComponent(), materialsComponent()],
  });
  caseId = approved.id;
  // A second case, still a draft, so lists and the feed hold more than one shape.
  await flow.create();
});
afterAll(async () => {
  await gw?.close();
});

/** A field's smallest useful selection: a leaf as it is, an object with its leaves without arguments. */
function selectionOf(field: GraphQLField<unknown, unknown>): string | undefined {
  if (field.args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined)) return undefined;
  const type = getNamedType(field.type);
  if (isLeafType(type)) return field.name;
  if (!isCompositeType(type)) return undefined;
  if (!('getFields' in type)) return `${field.name} { __typename }`;
  const leaves = Object.values((type as GraphQLObjectType).getFields())
    .filter(
      (f) => isLeafType(getNamedType(f.type)) && f.args.every((a) => !isNonNullType(a.type) || a.defaultValue !== undefined),
    )
    .map((f) => f.name);
  return `${field.name} { __typename ${leaves.join(' ')} }`;
}

function selectionsOf(typeName: string): string[] {
  const type = schema.getType(typeName) as GraphQLObjectType;
  return Object.values(type.getFields())
    .map((f) => selectionOf(f))
    .filter((s): s is string => s !== undefined);
}

async function principalOf(organisation: string, role: Parameters<TestGateway['token']>[1]): Promise<Principal> {
  return (await gw.gateway.principalFrom(`Bearer ${gw.token(organisation, role)}`, logger))!;
}

/** The answer of one run, as a client would compare it: data, and each error's message, path and code. */
async function answer(executor: ReturnType<typeof createCompiledExecutor>, query: string, principal: Principal): Promise<string> {
  const document = parse(query);
  expect(validate(schema, document), query).toEqual([]);
  const operation = document.definitions[0] as OperationDefinitionNode;
  const result = await executor({
    document,
    operation,
    operationName: operation.name?.value,
    variables: { id: caseId },
    contextValue: createContext({ principal, requestId: 'gate-test', logger, services: gw.services, source: 'test' }),
  });
  return JSON.stringify({
    data: result.data,
    errors: result.errors?.map((e) => ({ message: e.message, path: e.path, code: e.extensions?.code })),
  });
}

const CALLERS = [
  ['NL', 'caseworker'],
  ['P-AF-HOPE', 'partner-officer'],
  ['ERIN-NET', 'network-admin'],
] as const;

describe('compiled execution without the per-field gate', () => {
  it('answers every field of a case, and of its return leg, as the gated execution does, for every caller it applies to', async () => {
    const caseFields = selectionsOf('Case');
    const legFields = selectionsOf('ReturnSupport');
    expect(caseFields.length).toBeGreaterThan(40);
    let compared = 0;
    let withData = 0;
    for (const [organisation, role] of CALLERS) {
      const principal = await principalOf(organisation, role);
      const queries = [
        ...caseFields.map((s) => `query One($id: ID!) { case(id: $id) { ${s} } }`),
        ...legFields.map((s) => `query Leg($id: ID!) { case(id: $id) { returnSupport { ${s} } } }`),
      ];
      for (const query of queries) {
        const gated = await answer(gatedOnly, query, principal);
        expect(await answer(twoVariants, query, principal), `${organisation}: ${query}`).toBe(gated);
        compared += 1;
        if (!gated.includes('"data":{"case":null}') && !gated.includes('"data":null')) withData += 1;
      }
    }
    // The member state and its partner see the case: most comparisons are over real answers.
    expect(compared).toBeGreaterThan(100);
    expect(withData).toBeGreaterThan(compared / 2);
  });

  it('answers a list of cases and a page of the feed as the gated execution does', async () => {
    const leaves = selectionsOf('Case').filter((s) => !s.includes('{'));
    const LIST = `query List { cases(first: 50) { edges { node { ${leaves.join(' ')}
      plan { __typename planVersion status totalEur { amount } } memberState { code name } partner { code } } } } }`;
    const FEED = `query Feed { changes(first: 200) { changes { kind aggregateId version
      state { __typename ... on Case { ${leaves.join(' ')} plan { planVersion status } } } } } }`;
    for (const [organisation, role] of CALLERS) {
      const principal = await principalOf(organisation, role);
      for (const query of [LIST, FEED]) {
        const gated = await answer(gatedOnly, query, principal);
        expect(await answer(twoVariants, query, principal), `${organisation}: ${query.slice(0, 40)}`).toBe(gated);
      }
    }
    // Not vacuous: the member state's list holds both cases.
    const list = JSON.parse(await answer(twoVariants, LIST, await principalOf('NL', 'caseworker'))) as {
      data: { cases: { edges: unknown[] } };
    };
    expect(list.data.cases.edges.length).toBeGreaterThanOrEqual(2);
  });
});
