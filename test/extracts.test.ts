// Evaluation extracts through the GraphQL API and the download route: a researcher's
// request, each member state's data-protection officer deciding its part, the build from
// the approved parts only, k-anonymity of every quasi-identifier combination, fresh
// pseudonyms, no identifier of the exchange in the file, expiry and the audit trail; only
// cases whose consent covers EVALUATION_RESEARCH.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../src/clock.ts';
import { EXTRACT_VARIABLES } from '../src/modules/extracts/extract.catalogue.ts';
import { clockAt, codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow, type CaseSpec } from './helpers/factories.ts';

let gw: TestGateway;
const clock = clockAt('2026-11-30T09:00:00Z');

const EXTRACT = `id status version k memberStates { code } researchBody { code }
  parts { memberState { code } status comment decidedAt }
  file { downloadUrl rows casesConsidered suppressedRows expiresAt sha256 downloads generalisations { variable level label } }`;
type Extract = {
  id: string;
  status: string;
  version: number;
  k: number;
  memberStates: { code: string }[];
  parts: { memberState: { code: string }; status: string; comment: string | null }[];
  file: {
    downloadUrl: string;
    rows: number;
    casesConsidered: number;
    suppressedRows: number;
    expiresAt: string;
    sha256: string;
    downloads: number;
    generalisations: { variable: string; level: number; label: string }[];
  } | null;
};

const REQUEST = `mutation ($input: ExtractRequestInput!) { requestExtract(input: $input) { ${EXTRACT} } }`;
const DECIDE = `mutation ($id: ID!, $d: ExtractDecision!, $c: String, $v: Int!) {
  decideExtract(id: $id, decision: $d, comment: $c, expectedVersion: $v) { ${EXTRACT} } }`;
const BUILD = `mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { ${EXTRACT} } }`;
const GET = `query ($id: ID!) { extractRequest(id: $id) { ${EXTRACT} } }`;

const ALL_VARIABLES = [...EXTRACT_VARIABLES];
const requestInput = (memberStates: string[]) => ({
  purpose: 'Evaluation of the in-kind reintegration programmes 2026 (WODC)',
  variables: ALL_VARIABLES,
  periodFrom: '2026-01',
  periodTo: '2026-12',
  memberStates,
});

const researcher = () => gw.as('R-EVAL', 'researcher');
const dpo = (state: string) => gw.as(state, 'data-protection-officer');

/** Cases of a member state, registered after return and referred (drafts are never extracted). */
async function referredCases(state: string, partner: string, count: number, spec: (i: number) => CaseSpec) {
  const flow = workflow(gw, state, partner);
  const made = [];
  for (let i = 0; i < count; i += 1) made.push(await flow.refer(await flow.create(spec(i))));
  return { flow, made };
}

async function download(url: string, token: string | undefined) {
  const response = await fetch(`${gw.url}${url}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

function parseCsv(text: string): { header: string[]; rows: string[][] } {
  // The builder's values hold no separators or quotes; a quoted field would fail this test.
  const lines = text.split('\r\n').filter((l) => l.length > 0);
  expect(text).not.toContain('"');
  const [header, ...rows] = lines.map((l) => l.split(','));
  return { header: header!, rows };
}

let nlBe: { id: string; reference: string }[] = [];
let se: { id: string; reference: string }[] = [];

beforeAll(async () => {
  gw = await startGateway({ clock });
  const household = (i: number): CaseSpec['household'] => [
    { yearOfBirth: 1980 + (i % 4) * 5, gender: i % 3 === 0 ? 'FEMALE' : 'MALE', relation: 'PRINCIPAL' },
    ...(i % 2 === 0 ? [{ yearOfBirth: 2015, gender: 'FEMALE', relation: 'CHILD' }] : []),
  ];
  const nl = await referredCases('NL', 'P-AF-HOPE', 14, (i) => ({
    household: household(i),
    arrivedOn: `2026-0${1 + (i % 6)}-1${i % 10}`,
  }));
  const be = await referredCases('BE', 'P-AF-HOPE', 10, (i) => ({
    household: household(i),
    arrivedOn: `2026-0${3 + (i % 4)}-0${1 + (i % 9)}`,
  }));
  // Dutch returnees who did not consent to evaluation research, or withdrew their consent:
  // never in an extract (casesConsidered below counts nlBe only).
  const notForResearch = {
    purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA'],
    givenOn: '2026-01-10',
    expiresOn: '2028-01-10',
  };
  await referredCases('NL', 'P-AF-HOPE', 3, (i) => ({
    household: household(i),
    arrivedOn: `2026-0${1 + i}-20`,
    consent: notForResearch,
  }));
  const withdrawn = await referredCases('NL', 'P-AF-HOPE', 1, (i) => ({ household: household(i), arrivedOn: '2026-02-20' }));
  for (const c of withdrawn.made) {
    await withdrawn.flow.state.ok(`mutation ($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { id } }`, {
      id: c.id,
      v: c.version,
    });
  }
  // Sweden's cases are closed (RE_MIGRATED): a status no approved case has.
  const sweden = await referredCases('SE', 'P-AF-HOPE', 6, (i) => ({ household: household(i), arrivedOn: '2026-04-15' }));
  for (const c of sweden.made) await sweden.flow.close(c, 'RE_MIGRATED');
  nlBe = [...nl.made, ...be.made];
  se = sweden.made;
  // Every case was registered in 2026's last quarter: extracts of it are built once it is over.
  clock.set(new Date('2027-01-04T09:00:00Z'));
}, 180_000);

afterAll(async () => {
  await gw?.close();
});

describe('evaluation extracts', () => {
  let extract: Extract;
  let csv = '';

  it('the catalogue says which variables are quasi-identifiers and how they generalise', async () => {
    const { extractVariables } = await researcher().ok<{
      extractVariables: { variable: string; columns: string[]; quasiIdentifier: boolean; generalisations: string[] }[];
    }>('{ extractVariables { variable columns quasiIdentifier generalisations } }');
    expect(extractVariables.map((v) => v.variable)).toEqual(ALL_VARIABLES);
    const age = extractVariables.find((v) => v.variable === 'AGE_GROUP')!;
    expect(age).toMatchObject({ quasiIdentifier: true, columns: ['age_group'] });
    expect(age.generalisations.at(-1)).toBe('suppressed');
    expect(extractVariables.find((v) => v.variable === 'CLOSURE_REASON')).toMatchObject({
      quasiIdentifier: false,
      generalisations: [],
    });
  });

  it('only a researcher asks, only of member states, with a valid period and variables', async () => {
    expect(codes(await gw.as('NL', 'coordinator').gql(REQUEST, { input: requestInput(['NL']) }))).toEqual(['FORBIDDEN']);
    expect(codes(await dpo('NL').gql(REQUEST, { input: requestInput(['NL']) }))).toEqual(['FORBIDDEN']);
    for (const input of [
      { ...requestInput(['NL']), periodFrom: '2026-13' },
      { ...requestInput(['NL']), periodFrom: '2026-06', periodTo: '2026-01' },
      { ...requestInput(['NL']), variables: [] },
      { ...requestInput(['NL']), variables: ['STATUS', 'STATUS'] },
      { ...requestInput(['NL']), purpose: '   ' },
      requestInput(['P-AF-HOPE']),
      requestInput(['XX']),
      requestInput([]),
      requestInput(['NL', 'NL']),
    ]) {
      const r = await researcher().gql(REQUEST, { input });
      expect(codes(r), JSON.stringify(input)).toEqual(['BAD_USER_INPUT']);
    }
    const wrongVariable = await researcher().gql(REQUEST, {
      input: { ...requestInput(['NL']), variables: ['NEEDS_ASSESSMENT'] },
    });
    expect(codes(wrongVariable)).toEqual(['BAD_USER_INPUT']);
  });

  it('a request waits for each member state’s officer, who sees it and decides only its own part', async () => {
    const { requestExtract } = await researcher().ok<{ requestExtract: Extract }>(REQUEST, {
      input: requestInput(['NL', 'BE', 'SE']),
    });
    extract = requestExtract;
    expect(extract).toMatchObject({ status: 'PENDING', k: 5, file: null, version: 1 });
    expect(extract.parts.map((p) => [p.memberState.code, p.status])).toEqual([
      ['NL', 'PENDING'],
      ['BE', 'PENDING'],
      ['SE', 'PENDING'],
    ]);

    // Who may not see it or decide it.
    for (const [org, role] of [
      ['DE', 'data-protection-officer'],
      ['NL', 'caseworker'],
      ['P-AF-HOPE', 'partner-officer'],
      ['EMN-REG', 'reg-analyst'],
      ['ERIN-NET', 'network-admin'],
    ] as const) {
      const seen = await gw.as(org, role).gql<{ extractRequest: unknown }>(GET, { id: extract.id });
      expect(seen.data?.extractRequest ?? null, `${org} ${role}`).toBeNull();
      expect(['NOT_FOUND', 'FORBIDDEN']).toContain(codes(seen)[0]);
      const decided = await gw.as(org, role).gql(DECIDE, { id: extract.id, d: 'APPROVE', v: extract.version });
      expect(['NOT_FOUND', 'FORBIDDEN']).toContain(codes(decided)[0]);
    }
    const { extractRequests } = await dpo('DE').ok<{ extractRequests: { id: string }[] }>('{ extractRequests { id } }');
    expect(extractRequests).toEqual([]);

    // The officers concerned see it.
    for (const state of ['NL', 'BE', 'SE']) {
      const list = await dpo(state).ok<{ extractRequests: { id: string }[] }>('{ extractRequests { id } }');
      expect(list.extractRequests.map((x) => x.id)).toContain(extract.id);
    }
    // Nothing to build yet.
    expect(codes(await researcher().gql(BUILD, { id: extract.id, v: extract.version }))).toEqual(['INVALID_TRANSITION']);
    // A refusal gives its reason.
    expect(codes(await dpo('SE').gql(DECIDE, { id: extract.id, d: 'REFUSE', v: extract.version }))).toEqual(['BAD_USER_INPUT']);

    const approve = async (state: string) => {
      const { decideExtract } = await dpo(state).ok<{ decideExtract: Extract }>(DECIDE, {
        id: extract.id,
        d: 'APPROVE',
        v: extract.version,
      });
      extract = decideExtract;
    };
    await approve('NL');
    // Twice is refused, and a stale version is a conflict.
    expect(codes(await dpo('NL').gql(DECIDE, { id: extract.id, d: 'REFUSE', c: 'changed my mind', v: extract.version }))).toEqual(
      ['INVALID_TRANSITION'],
    );
    expect(codes(await dpo('BE').gql(DECIDE, { id: extract.id, d: 'APPROVE', v: extract.version - 1 }))).toEqual(['CONFLICT']);
    await approve('BE');
    const { decideExtract } = await dpo('SE').ok<{ decideExtract: Extract }>(DECIDE, {
      id: extract.id,
      d: 'REFUSE',
      c: 'No legal basis for this purpose under Swedish law',
      v: extract.version,
    });
    extract = decideExtract;
    expect(extract.status).toBe('APPROVED');
    expect(extract.parts.map((p) => [p.memberState.code, p.status])).toEqual([
      ['NL', 'APPROVED'],
      ['BE', 'APPROVED'],
      ['SE', 'REFUSED'],
    ]);
  });

  it('the download holds only the approved states’ cases, no identifier of the exchange, and k rows per combination', async () => {
    // Only the research body builds.
    expect(codes(await dpo('NL').gql(BUILD, { id: extract.id, v: extract.version }))).toEqual(['FORBIDDEN']);
    const { buildExtract } = await researcher().ok<{ buildExtract: Extract }>(BUILD, { id: extract.id, v: extract.version });
    extract = buildExtract;
    expect(extract.status).toBe('AVAILABLE');
    const file = extract.file!;
    // Counts rounded to five (24 cases).
    expect(file.casesConsidered).toBe(25);
    expect(Math.abs(file.rows + file.suppressedRows - nlBe.length)).toBeLessThanOrEqual(2);
    expect(file.rows).toBeGreaterThan(0);
    // Built once: a second build is refused.
    expect(codes(await researcher().gql(BUILD, { id: extract.id, v: extract.version }))).toEqual(['INVALID_TRANSITION']);

    // Nobody but the research body's researchers downloads it.
    expect((await download(file.downloadUrl, undefined)).status).toBe(401);
    expect((await download(file.downloadUrl, dpo('NL').token)).status).toBe(403);
    expect((await download(file.downloadUrl, gw.as('NL', 'coordinator').token)).status).toBe(403);
    const got = await download(file.downloadUrl, researcher().token);
    expect(got.status).toBe(200);
    // A file, never a page of the gateway's origin (as evidence files: test/evidence.test.ts).
    expect(got.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(got.headers.get('content-security-policy')).toContain('sandbox');
    expect(got.headers.get('cross-origin-resource-policy')).toBe('same-origin');
    csv = got.text;
    const { header, rows } = parseCsv(csv);
    expect(rows).toHaveLength(file.rows);
    expect(header[0]).toBe('pseudonym');

    // 1. Only the approved states' cases: Sweden's (all closed) are not there.
    const status = header.indexOf('status');
    expect(rows.every((r) => r[status] === 'REFERRED')).toBe(true);
    const state = header.indexOf('member_state');
    for (const r of rows) expect(['NL', 'BE', '*']).toContain(r[state]);

    // 2. No value that appears in the exchange's identifiers.
    const db = await gw.raw();
    const identifiers = new Set<string>();
    for (const c of await db.collection('cases').find({}).toArray()) {
      identifiers.add(String(c._id));
      identifiers.add(String(c.reference));
    }
    for (const name of ['case_references', 'extracts', 'plans', 'evidence', 'webhook_endpoints']) {
      for (const d of await db
        .collection(name)
        .find({}, { projection: { _id: 1 } })
        .toArray())
        identifiers.add(String(d._id));
    }
    // Every aggregate's id but the network's directory (programme and organisation codes are names, not identifiers of people).
    const directory = ['organisation', 'programme', 'contract', 'exchangeRate'];
    for (const e of await db
      .collection('events')
      .find({}, { projection: { aggregateType: 1, aggregateId: 1, actor: 1 } })
      .toArray()) {
      if (!directory.includes(String(e.aggregateType))) identifiers.add(String(e.aggregateId));
      identifiers.add(String((e.actor as { subject: string }).subject));
    }
    expect(identifiers.size).toBeGreaterThan(nlBe.length + se.length);
    for (const c of [...nlBe, ...se]) expect(identifiers.has(c.id) && identifiers.has(c.reference)).toBe(true);
    for (const value of rows.flat()) expect(identifiers.has(value), `identifier ${value} in the extract`).toBe(false);
    for (const id of identifiers) expect(csv.includes(id), `identifier ${id} in the extract`).toBe(false);
    // Pseudonyms are unique and look like nothing of the exchange.
    const pseudonyms = rows.map((r) => r[0]!);
    expect(new Set(pseudonyms).size).toBe(rows.length);
    for (const p of pseudonyms) expect(p).toMatch(/^[0-9a-f]{16}$/);
    // Dates are months at best.
    expect(csv).not.toMatch(/\d{4}-\d{2}-\d{2}/);

    // 3. Every combination of the quasi-identifiers covers at least k rows.
    const { extractVariables } = await researcher().ok<{
      extractVariables: { variable: string; columns: string[]; quasiIdentifier: boolean }[];
    }>('{ extractVariables { variable columns quasiIdentifier } }');
    const quasi = extractVariables.filter((v) => v.quasiIdentifier).flatMap((v) => v.columns);
    expect(quasi.every((c) => header.includes(c))).toBe(true);
    const combinations = new Map<string, number>();
    for (const r of rows) {
      const key = JSON.stringify(quasi.map((c) => r[header.indexOf(c)]));
      combinations.set(key, (combinations.get(key) ?? 0) + 1);
    }
    for (const [key, count] of combinations) expect(count, key).toBeGreaterThanOrEqual(extract.k);
    // What was generalised is reported, for every quasi-identifier.
    expect(file.generalisations.map((g) => g.variable)).toEqual(
      extractVariables.filter((v) => v.quasiIdentifier).map((v) => v.variable),
    );
  });

  it('another research body gets nothing of it', async () => {
    await gw
      .as('ERIN-NET', 'network-admin')
      .ok(
        'mutation { createOrganisation(input: { code: "R-OTHER", kind: RESEARCH_BODY, name: "Other institute", countries: [] }) { code } }',
      );
    const other = gw.as('R-OTHER', 'researcher');
    expect((await other.gql<{ extractRequest: unknown }>(GET, { id: extract.id })).data?.extractRequest ?? null).toBeNull();
    expect((await other.ok<{ extractRequests: unknown[] }>('{ extractRequests { id } }')).extractRequests).toEqual([]);
    // A page of none is none (a limit of 0 is "no limit" to the store).
    expect(
      (await researcher().ok<{ extractRequests: unknown[] }>('{ extractRequests(first: 1) { id } }')).extractRequests,
    ).toHaveLength(1);
    expect(
      (await researcher().ok<{ extractRequests: unknown[] }>('{ extractRequests(first: 0) { id } }')).extractRequests,
    ).toEqual([]);
    expect((await download(extract.file!.downloadUrl, other.token)).status).toBe(404);
    // A research body holds researchers only.
    expect((await gw.gql('{ me { roles } }', {}, { token: gw.token('R-OTHER', 'caseworker') })).status).toBe(401);
  });

  it('a second extract gets fresh pseudonyms: nothing links its rows to the first', async () => {
    let second = (await researcher().ok<{ requestExtract: Extract }>(REQUEST, { input: requestInput(['NL', 'BE']) }))
      .requestExtract;
    for (const state of ['NL', 'BE']) {
      second = (await dpo(state).ok<{ decideExtract: Extract }>(DECIDE, { id: second.id, d: 'APPROVE', v: second.version }))
        .decideExtract;
    }
    second = (await researcher().ok<{ buildExtract: Extract }>(BUILD, { id: second.id, v: second.version })).buildExtract;
    const got = await download(second.file!.downloadUrl, researcher().token);
    expect(got.status).toBe(200);
    const firstPseudonyms = new Set(parseCsv(csv).rows.map((r) => r[0]));
    const secondRows = parseCsv(got.text).rows;
    expect(secondRows.length).toBe(parseCsv(csv).rows.length);
    for (const r of secondRows) expect(firstPseudonyms.has(r[0])).toBe(false);
  });

  it('two builds at once: one wins, the other is a conflict, and one file is kept', async () => {
    let x = (await researcher().ok<{ requestExtract: Extract }>(REQUEST, { input: requestInput(['BE']) })).requestExtract;
    x = (await dpo('BE').ok<{ decideExtract: Extract }>(DECIDE, { id: x.id, d: 'APPROVE', v: x.version })).decideExtract;
    const results = await Promise.all([1, 2, 3].map(() => researcher().gql(BUILD, { id: x.id, v: x.version })));
    const outcomes = results.map((r) => codes(r)[0] ?? 'OK').sort();
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o !== 'OK')) expect(['CONFLICT']).toContain(o);
    const files = await (await gw.raw()).collection('extract_files').find({ extractId: x.id }).toArray();
    expect(files).toHaveLength(1);
  });

  it('every step is in the audit trail, and the file is gone once it expires', async () => {
    const { extractRequest } = await dpo('SE').ok<{
      extractRequest: { auditTrail: { type: string; actor: { organisation: string; roles: string[] } }[] };
    }>('query ($id: ID!) { extractRequest(id: $id) { auditTrail { type actor { organisation roles } hash } } }', {
      id: extract.id,
    });
    expect(extractRequest.auditTrail.map((e) => [e.type, e.actor.organisation])).toEqual([
      ['ExtractRequested', 'R-EVAL'],
      ['ExtractPartDecided', 'NL'],
      ['ExtractPartDecided', 'BE'],
      ['ExtractPartDecided', 'SE'],
      ['ExtractBuilt', 'R-EVAL'],
      ['ExtractDownloaded', 'R-EVAL'],
    ]);
    const before = (await researcher().ok<{ extractRequest: Extract }>(GET, { id: extract.id })).extractRequest;
    expect(before.file!.downloads).toBe(1);

    clock.advance(7 * DAY_MS + 1000);
    const expired = (await researcher().ok<{ extractRequest: Extract }>(GET, { id: extract.id })).extractRequest;
    expect(expired.status).toBe('EXPIRED');
    const refused = await download(extract.file!.downloadUrl, researcher().token);
    expect(refused.status).toBe(410);
    expect(refused.text).not.toContain('pseudonym');
    await gw.services.extracts.purge();
    const left = await (await gw.raw()).collection('extract_files').find({ extractId: extract.id }).toArray();
    expect(left).toEqual([]);
  });
});
