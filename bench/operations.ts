// The operations the benchmarks send (shared by bench/run.ts, bench/profile.ts and bench/in-memory.ts).
import { readFileSync } from 'node:fs';

export const PARTNER = 'P-AF-HOPE';

/** A partner's dashboard page: 50 cases with their plans. */
export const DASHBOARD = `query Dashboard { cases(first: 50, filter: { partner: "${PARTNER}" }) { edges { node {
  reference status version memberState { name } partner { name } programme { name }
  plan { planVersion status totalEur { amount } } } } } }`;

export const CASE_BY_ID = `query Case($id: ID!) { case(id: $id) { reference status version household { age } plan { status totalEur { amount } } } }`;
/** A case's own page showing its files. */
export const CASE_FILES = `query CaseFiles($id: ID!) { case(id: $id) { reference evidence { id kind filename size uploadedAt } } }`;
export const CREATE = `mutation Create($input: CreateCaseInput!) { createCase(input: $input) { id version } }`;
export const CHANGES = `query Changes { changes(first: 1000) { changes { cursor kind aggregateId version type at removed
  state { __typename ... on Case { reference status version } } } endCursor hasMore } }`;

/** The portal's home page: what needs the signed-in person (its own query document). */
export const WORK_LIST = readFileSync(new URL('../portal/graphql/work-list.graphql', import.meta.url), 'utf8');

export const caseInput = {
  programme: 'EURP-VOL',
  originCountry: 'AF',
  returnType: 'VOLUNTARY',
  partner: PARTNER,
  household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
  consent: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-01-01', expiresOn: '2036-12-31' },
};
