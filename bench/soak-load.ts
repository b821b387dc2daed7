// The soak's load generator, in its own process so it does not share the gateway's event
// loop: `connections` workers send a mix of reads, writes and bad input for `duration`
// seconds, tally every answer by HTTP status and GraphQL error code, and print one line of JSON.
export type SoakSpec = {
  url: string;
  tokens: { partner: string; memberState: string };
  caseIds: string[];
  connections: number;
  duration: number;
};

export type SoakFigures = {
  requests: number;
  /** Answers by `<status> <operation>: <first error code, or OK>`. */
  outcomes: Record<string, number>;
  /** Per operation: count, p50 / p99 ms. */
  operations: Record<string, { count: number; p50: number; p99: number }>;
};

const spec = JSON.parse(process.argv[2] ?? '{}') as SoakSpec;

const DASHBOARD = `query { cases(first: 20, filter: { partner: "P-AF-HOPE" }) { edges { node { id reference status version plan { status } } } } }`;
const CASE_BY_ID = `query ($id: ID!) { case(id: $id) { reference status version plan { status totalEur { amount } } } }`;
const CHANGES = `query { changes(first: 100) { endCursor hasMore changes { cursor type } } }`;
const ME = `query { me { subject roles organisation { code } } }`;
const CREATE = `mutation ($input: CreateCaseInput!, $key: String) { createCase(input: $input, idempotencyKey: $key) { id version } }`;
const input = {
  programme: 'EURP-VOL',
  originCountry: 'AF',
  returnType: 'VOLUNTARY',
  partner: 'P-AF-HOPE',
  plannedDepartureDate: '2026-12-20',
  plannedArrivalDate: '2026-12-21',
  household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
  needsAssessment: 'Soak: wants to restart a tailoring business.',
  vulnerability: null,
  consent: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-01-01', expiresOn: '2027-12-31' },
};

type Op = { name: string; weight: number; token: 'partner' | 'memberState'; body: () => unknown };
let written = 0;
const ids = [...spec.caseIds];
const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
const OPS: Op[] = [
  { name: 'dashboard', weight: 30, token: 'partner', body: () => ({ query: DASHBOARD }) },
  { name: 'case by id', weight: 20, token: 'memberState', body: () => ({ query: CASE_BY_ID, variables: { id: pick(ids) } }) },
  { name: 'changes', weight: 10, token: 'memberState', body: () => ({ query: CHANGES }) },
  { name: 'me', weight: 10, token: 'partner', body: () => ({ query: ME }) },
  {
    name: 'createCase',
    weight: 20,
    token: 'memberState',
    body: () => ({ query: CREATE, variables: { input, key: `soak-${process.pid}-${(written += 1)}` } }),
  },
  // Bad input: a date that does not exist, a null for an ID!: 4xx/BAD_USER_INPUT, never 5xx.
  {
    name: 'bad input',
    weight: 10,
    token: 'memberState',
    body: () =>
      Math.random() < 0.5
        ? { query: CREATE, variables: { input: { ...input, plannedDepartureDate: '2026-02-30' } } }
        : { query: CASE_BY_ID, variables: { id: null } },
  },
];
const totalWeight = OPS.reduce((sum, op) => sum + op.weight, 0);
const choose = (): Op => {
  let r = Math.random() * totalWeight;
  for (const op of OPS) if ((r -= op.weight) < 0) return op;
  return OPS[0]!;
};

const outcomes: Record<string, number> = {};
const times = new Map<string, number[]>();
let requests = 0;
const count = (key: string) => (outcomes[key] = (outcomes[key] ?? 0) + 1);

async function worker(end: number): Promise<void> {
  while (Date.now() < end) {
    const op = choose();
    const started = performance.now();
    let outcome: string;
    try {
      const response = await fetch(spec.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: `Bearer ${spec.tokens[op.token]}`,
        },
        body: JSON.stringify(op.body()),
      });
      const body = (await response.json()) as {
        data?: { createCase?: { id: string } } | null;
        errors?: { extensions?: { code?: string } }[];
      };
      const code = body.errors?.[0]?.extensions?.code ?? 'OK';
      if (body.data?.createCase) ids.push(body.data.createCase.id);
      outcome = `${response.status} ${op.name}: ${code}`;
    } catch (error) {
      outcome = `network ${op.name}: ${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name}`;
    }
    requests += 1;
    count(outcome);
    const list = times.get(op.name) ?? [];
    list.push(performance.now() - started);
    times.set(op.name, list);
  }
}

const end = Date.now() + spec.duration * 1000;
await Promise.all(Array.from({ length: spec.connections }, () => worker(end)));
const operations: SoakFigures['operations'] = {};
for (const [name, list] of times) {
  list.sort((a, b) => a - b);
  const at = (q: number) => Math.round(list[Math.min(list.length - 1, Math.floor(q * list.length))] ?? 0);
  operations[name] = { count: list.length, p50: at(0.5), p99: at(0.99) };
}
const figures: SoakFigures = { requests, outcomes, operations };
console.log(JSON.stringify(figures));
