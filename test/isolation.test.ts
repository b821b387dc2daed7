// The isolation suite. It enumerates every query, mutation and subscription field of the
// schema and requires a probe for each, so a field added later without one fails here.
// Each probe acts as organisations that do not own some data and proves they get
// nothing of it: not in answers, not through errors, not by changing it.
import { makeExecutableSchema } from '@graphql-tools/schema';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../src/auth/principal.ts';
import { loadTypeDefs } from '../src/graphql/schema.ts';
import { codes, startGateway, type GqlResponse, type TestGateway } from './helpers/gateway.ts';
import { trainingComponent, workflow, type CaseView } from './helpers/factories.ts';
import { surveyAnswers, uploadFile } from './helpers/implementation.ts';
import { samplePdf } from '../src/seed/sample-files.ts';

/** `onTeam`: a unit on the case's team, whose role excludes the owner's secrets (it may know the case's id and reference). */
type Outsider = { org: string; role: Role; onTeam?: true };
type Client = ReturnType<TestGateway['as']>;
type Fixture = {
  case: CaseView;
  contract: string;
  webhook: { id: string; version: number };
  delivery: string;
  evidence: string;
  extract: { id: string; version: number };
};
type Probe = {
  /** Who may not see the owner's data through this field. */
  outsiders: Outsider[];
  /** Strings that appear only in the owner's data (as far as this outsider is concerned). */
  markers: (f: Fixture, outsider: Outsider) => string[];
  attempt: (client: Client, f: Fixture) => Promise<GqlResponse>;
  /** Error codes an outsider may get instead of data. */
  refusals?: string[];
};

let gw: TestGateway;
let fixture: Fixture;

// The owner: Sweden, and the case it referred to Horn of Africa Reintegration.
const SECRET_NEEDS = 'owner-only: needs a wheelchair-accessible workshop';
const SECRET_NOTE = 'owner-only: counselling notes on family tensions';
const STATE_OUTSIDERS: Outsider[] = [
  { org: 'NL', role: 'caseworker' },
  { org: 'NL', role: 'coordinator' },
];
const PARTNER_OUTSIDERS: Outsider[] = [
  { org: 'P-IQ-TIGRIS', role: 'partner-officer' },
  // Sweden contracts Hope too, but this case is not referred to it.
  { org: 'P-AF-HOPE', role: 'partner-officer' },
];
const CASE_OUTSIDERS: Outsider[] = [
  ...STATE_OUTSIDERS,
  ...PARTNER_OUTSIDERS,
  { org: 'EMN-REG', role: 'reg-analyst' },
  { org: 'ERIN-NET', role: 'network-admin' },
  // A member state's implementing organisation, of another state than the owner.
  { org: 'IOM-NL', role: 'return-counsellor' },
  // Units of another state (a municipality, the police, an NGO); Sweden's own municipality,
  // not on the case's team; and Sweden's police, on the team, whose role sees no needs,
  // vulnerability, progress or files.
  { org: 'NL-GEM-UTRECHT', role: 'municipal-officer' },
  { org: 'NL-POLITIE', role: 'agency-officer' },
  { org: 'NL-NGO-HAVEN', role: 'ngo-worker' },
  { org: 'SE-KOMMUN', role: 'municipal-officer' },
  { org: 'SE-POLIS', role: 'agency-officer', onTeam: true },
  // A researcher receives approved extracts, never a case; Sweden's own data-protection
  // officer decides extracts of its cases but reads none.
  { org: 'R-EVAL', role: 'researcher' },
  { org: 'SE', role: 'data-protection-officer' },
];
// Sweden's extract request by R-EVAL: another research body and another state's officer get nothing of it.
const SECRET_PURPOSE = 'owner-only: evaluation of the Swedish country approach';
const EXTRACT_OUTSIDERS: Outsider[] = [
  ...CASE_OUTSIDERS.filter((o) => o.org !== 'R-EVAL' && o.role !== 'data-protection-officer'),
  { org: 'R-OTHER', role: 'researcher' },
  { org: 'NL', role: 'data-protection-officer' },
];
const extractMarkers = (f: Fixture) => [...caseMarkers(f), f.extract.id, SECRET_PURPOSE];
const CONTRACT_OUTSIDERS: Outsider[] = [
  ...STATE_OUTSIDERS,
  { org: 'R-EVAL', role: 'researcher' },
  { org: 'SE', role: 'data-protection-officer' },
  { org: 'P-IQ-TIGRIS', role: 'partner-officer' },
  { org: 'P-AF-HOPE', role: 'partner-officer' },
  { org: 'EMN-REG', role: 'reg-analyst' },
  { org: 'IOM-NL', role: 'return-counsellor' },
];
const NON_ADMINS: Outsider[] = [
  ...CONTRACT_OUTSIDERS,
  { org: 'SE', role: 'coordinator' },
  { org: 'P-ET-HORN', role: 'partner-officer' },
];

const caseMarkers = (f: Fixture) => [f.case.id, f.case.reference, SECRET_NEEDS, SECRET_NOTE, f.evidence];
const contractMarkers = (f: Fixture) => [f.contract];
// Sweden's integration settings: its endpoint, its URL, a delivery to it.
const SECRET_HOOK = 'http://127.0.0.1:9/sweden-only-receiver';
const webhookMarkers = (f: Fixture) => [f.webhook.id, f.delivery, SECRET_HOOK];
const allMarkers = (f: Fixture) => [...caseMarkers(f), ...contractMarkers(f), ...webhookMarkers(f), f.extract.id, SECRET_PURPOSE];
const WEBHOOK_OUTSIDERS: Outsider[] = [...CASE_OUTSIDERS, { org: 'P-ET-HORN', role: 'partner-officer' }];
const CASE_REFUSALS = ['NOT_FOUND', 'FORBIDDEN'];
const onCase = (mutation: string) => (c: Client, f: Fixture) => c.gql(mutation, { id: f.case.id, v: f.case.version });

const probes: Record<string, Probe> = {
  'Query.ping': { outsiders: CASE_OUTSIDERS, markers: allMarkers, attempt: (c) => c.gql('{ ping }') },
  'Query.me': {
    outsiders: CASE_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        '{ me { subject organisation { code contracts { id } } cases(first: 100) { edges { node { id reference needsAssessment } } } } }',
      ),
  },
  'Query.organisations': {
    outsiders: CONTRACT_OUTSIDERS,
    markers: contractMarkers,
    attempt: (c) => c.gql('{ organisations { code contracts { id memberState { code } } } }'),
  },
  'Query.organisation': {
    outsiders: CONTRACT_OUTSIDERS,
    markers: contractMarkers,
    attempt: (c) =>
      c.gql('{ a: organisation(code: "SE") { contracts { id } } b: organisation(code: "P-ET-HORN") { contracts { id } } }'),
  },
  'Query.contracts': {
    outsiders: CONTRACT_OUTSIDERS,
    markers: contractMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        '{ a: contracts(memberState: "SE") { id } b: contracts(partner: "P-ET-HORN") { id } c: contracts(originCountry: "ET") { id } }',
      ),
  },
  'Query.programmes': { outsiders: CASE_OUTSIDERS, markers: allMarkers, attempt: (c) => c.gql('{ programmes { code } }') },
  'Query.exchangeRates': {
    outsiders: CASE_OUTSIDERS,
    markers: allMarkers,
    attempt: (c) => c.gql('{ exchangeRates { currency rate } }'),
  },
  'Query.case': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        `query ($id: ID!) { case(id: $id) { id reference needsAssessment vulnerability { notes } plan { planVersion }
          progress { edges { node { id narrative } } } budget { actual { amount } } shipments { id } evidence { id filename }
          monitoring { schedule { dueOn } surveys { id } latestScores { composite } } deadlines { kind dueOn }
          finalReport { feedback } } }`,
        { id: f.case.id },
      ),
  },
  'Query.overdue': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) => c.gql('{ overdue(first: 500) { case { id reference } deadline { kind dueOn } daysLate } }'),
  },
  'Query.workList': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) => c.gql('{ workList(first: 100) { action case { id reference needsAssessment } deadline { kind dueOn } } }'),
  },
  'Query.planCosting': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        'query ($id: ID!, $plan: PlanInput!) { planCosting(caseId: $id, plan: $plan) { totalEur { amount } entitlement { amount } } }',
        {
          id: f.case.id,
          plan: {
            components: [{ kind: 'CASH', title: 'Transport', cost: { amount: 1000, currency: 'EUR' }, cash: { purpose: 'Bus' } }],
          },
        },
      ),
  },
  'Query.sustainabilitySurvey': {
    outsiders: CASE_OUTSIDERS,
    markers: allMarkers,
    attempt: (c) => c.gql('{ sustainabilitySurvey { version indicators { code } } }'),
  },
  'Mutation.postProgressUpdate': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        `mutation ($id: ID!, $v: Int!, $input: ProgressUpdateInput!) { postProgressUpdate(caseId: $id, input: $input, expectedVersion: $v) {
          case { id reference } update { id } } }`,
        {
          id: f.case.id,
          v: f.case.version,
          input: { kind: 'CONCERN', narrative: 'planted', language: 'en', occurredOn: '2026-11-21' },
        },
      ),
  },
  'Mutation.recordShipmentEvent': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        `mutation ($id: ID!, $v: Int!, $input: ShipmentEventInput!) { recordShipmentEvent(caseId: $id, input: $input, expectedVersion: $v) {
          case { id } shipment { id } } }`,
        {
          id: f.case.id,
          v: f.case.version,
          input: {
            componentId: 'x',
            status: 'ORDERED',
            at: '2026-11-21T10:00:00Z',
            place: 'x',
            shipment: { carrier: 'x', trackingReference: 'x', origin: 'x', destination: 'x' },
          },
        },
      ),
  },
  'Mutation.recordMonitoringVisit': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        `mutation ($id: ID!, $v: Int!, $input: MonitoringVisitInput!) { recordMonitoringVisit(caseId: $id, input: $input, expectedVersion: $v) {
          case { id } survey { id } } }`,
        {
          id: f.case.id,
          v: f.case.version,
          input: { visitedOn: '2026-11-21', narrative: 'x', language: 'en', answers: surveyAnswers() },
        },
      ),
  },
  'Mutation.submitFinalReport': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        `mutation ($id: ID!, $v: Int!) { submitFinalReport(caseId: $id, expectedVersion: $v,
          input: { finalMeetingOn: "2026-11-21", feedback: "x", language: "en" }) { id finalReport { feedback } } }`,
        { id: f.case.id, v: f.case.version },
      ),
  },
  'Query.cases': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c, f) =>
      c.gql(
        `query ($ref: String) {
          a: cases(first: 100) { edges { node { id reference } } totalCount }
          b: cases(filter: { memberState: "SE" }) { edges { node { id } } totalCount }
          c: cases(filter: { partner: "P-ET-HORN", originCountry: "ET" }) { edges { node { id } } totalCount }
          d: cases(filter: { reference: $ref }) { edges { node { id } } totalCount }
        }`,
        { ref: f.case.reference },
      ),
  },
  'Query.changes': {
    outsiders: CASE_OUTSIDERS,
    // The network's administrators see every contract change in their feed, as in `contracts`.
    markers: (f, o) => (o.role === 'network-admin' ? [...caseMarkers(f), ...webhookMarkers(f)] : allMarkers(f)),
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(`{ changes(first: 1000) { endCursor changes { aggregateId type state { __typename
        ... on Case { id reference needsAssessment vulnerability { notes } plan { planVersion } } } } } }`),
  },
  'Query.auditTrail': {
    outsiders: CASE_OUTSIDERS,
    markers: allMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql('query ($id: ID!) { auditTrail(caseId: $id) { entries { type actor { organisation subject } fields hash } } }', {
        id: f.case.id,
      }),
  },
  'Query.statistics': {
    outsiders: CASE_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      // Filtered to the owner's country and recent quarters: the cell limit counts every value a dimension can take.
      c.gql(`{ statistics(groupBy: [MEMBER_STATE, ORIGIN_COUNTRY, STATUS, QUARTER], filter: { originCountries: ["ET"], quarterFrom: "2020-Q1" }) {
        cells { coordinates { value } caseCount persons } totals { coordinates { value } caseCount } } }`),
  },
  'Query.webhookEndpoints': {
    outsiders: WEBHOOK_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) => c.gql('{ webhookEndpoints { id url events } }'),
  },
  'Query.webhookDeliveries': {
    outsiders: WEBHOOK_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c, f) =>
      c.gql(
        `query ($e: ID) { a: webhookDeliveries(first: 100) { deliveries { id aggregateId endpointId } }
          b: webhookDeliveries(endpointId: $e) { deliveries { id aggregateId } } }`,
        { e: f.webhook.id },
      ),
  },
  'Mutation.registerWebhook': {
    outsiders: WEBHOOK_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql('mutation { registerWebhook(url: "https://outsider.example.org/hook", events: ["*"]) { endpoint { id } } }'),
  },
  'Mutation.rotateWebhookSecret': {
    outsiders: WEBHOOK_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN', 'NOT_FOUND'],
    attempt: (c, f) =>
      c.gql('mutation ($id: ID!, $v: Int!) { rotateWebhookSecret(id: $id, expectedVersion: $v) { secret endpoint { url } } }', {
        id: f.webhook.id,
        v: f.webhook.version,
      }),
  },
  'Mutation.disableWebhook': {
    outsiders: WEBHOOK_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN', 'NOT_FOUND'],
    attempt: (c, f) =>
      c.gql('mutation ($id: ID!, $v: Int!) { disableWebhook(id: $id, expectedVersion: $v) { id url status } }', {
        id: f.webhook.id,
        v: f.webhook.version,
      }),
  },
  'Mutation.redeliver': {
    outsiders: WEBHOOK_OUTSIDERS,
    markers: allMarkers,
    refusals: ['FORBIDDEN', 'NOT_FOUND'],
    attempt: (c, f) => c.gql('mutation ($id: ID!) { redeliver(id: $id) { id aggregateId endpointId } }', { id: f.delivery }),
  },
  'Mutation.ping': { outsiders: CASE_OUTSIDERS, markers: allMarkers, attempt: (c) => c.gql('mutation { ping }') },
  'Query.extractVariables': {
    outsiders: EXTRACT_OUTSIDERS,
    markers: extractMarkers,
    attempt: (c) => c.gql('{ extractVariables { variable columns } }'),
  },
  'Query.extractRequests': {
    outsiders: EXTRACT_OUTSIDERS,
    markers: extractMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) => c.gql('{ extractRequests(first: 200) { id purpose auditTrail { type } file { downloadUrl } } }'),
  },
  'Query.extractRequest': {
    outsiders: EXTRACT_OUTSIDERS,
    markers: extractMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql('query ($id: ID!) { extractRequest(id: $id) { id purpose auditTrail { type } file { downloadUrl rows } } }', {
        id: f.extract.id,
      }),
  },
  'Mutation.requestExtract': {
    outsiders: EXTRACT_OUTSIDERS,
    markers: extractMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(`mutation { requestExtract(input: { purpose: "x", variables: [STATUS], periodFrom: "2026-01", periodTo: "2026-12",
        memberStates: ["SE"] }) { id file { downloadUrl } } }`),
  },
  'Mutation.decideExtract': {
    outsiders: EXTRACT_OUTSIDERS,
    markers: extractMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql('mutation ($id: ID!, $v: Int!) { decideExtract(id: $id, decision: APPROVE, expectedVersion: $v) { id purpose } }', {
        id: f.extract.id,
        v: f.extract.version,
      }),
  },
  'Mutation.buildExtract': {
    outsiders: EXTRACT_OUTSIDERS,
    markers: extractMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql('mutation ($id: ID!, $v: Int!) { buildExtract(id: $id, expectedVersion: $v) { id purpose file { rows } } }', {
        id: f.extract.id,
        v: f.extract.version,
      }),
  },
  'Mutation.createOrganisation': {
    outsiders: NON_ADMINS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        'mutation { createOrganisation(input: { code: "P-ET-HORN2", kind: PARTNER, name: "x", countries: ["ET"] }) { code } }',
      ),
  },
  'Mutation.updateOrganisation': {
    outsiders: NON_ADMINS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        'mutation { updateOrganisation(code: "SE", input: { active: false }, expectedVersion: 1) { code contracts { id } } }',
      ),
  },
  'Mutation.createContract': {
    outsiders: NON_ADMINS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        'mutation { createContract(input: { memberState: "NL", partner: "P-ET-HORN", originCountries: ["ET"], programmes: ["EURP-VOL"], validFrom: "2026-01-01" }) { id partner { contracts { id } } } }',
      ),
  },
  'Mutation.endContract': {
    outsiders: NON_ADMINS,
    markers: allMarkers,
    refusals: ['FORBIDDEN', 'NOT_FOUND'],
    attempt: (c, f) =>
      c.gql('mutation ($id: ID!) { endContract(id: $id, endDate: "2026-12-31", reason: "x", expectedVersion: 1) { id } }', {
        id: f.contract,
      }),
  },
  'Mutation.setExchangeRate': {
    outsiders: NON_ADMINS,
    markers: allMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql('mutation { setExchangeRate(input: { currency: "ETB", rate: "1", validFrom: "2026-01-01" }) { currency } }'),
  },
  'Mutation.createCase': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: ['FORBIDDEN'],
    attempt: (c) =>
      c.gql(
        `mutation { createCase(input: { programme: "EURP-VOL", originCountry: "ET", returnType: VOLUNTARY, partner: "P-ET-HORN",
          household: [{ yearOfBirth: 1990, gender: MALE, relation: PRINCIPAL }],
          consent: { purposes: [REINTEGRATION_SUPPORT], givenOn: "2026-01-01", expiresOn: "2027-01-01" } }) { id reference partner { code } } }`,
      ),
  },
  'Mutation.updateCase': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { updateCase(id: $id, input: { needsAssessment: "hijacked" }, expectedVersion: $v) { id needsAssessment } }',
    ),
  },
  'Mutation.referCase': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id } }'),
  },
  'Mutation.respondToReferral': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: DECLINE, reason: "x", expectedVersion: $v) { id } }',
    ),
  },
  'Mutation.reopenCase': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!, $v: Int!) { reopenCase(id: $id, partner: "P-IQ-TIGRIS", expectedVersion: $v) { id } }'),
  },
  'Mutation.assignImplementingOrganisation': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { assignImplementingOrganisation(id: $id, organisation: "IOM-NL", expectedVersion: $v) { id reference } }',
    ),
  },
  'Mutation.formCaseTeam': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { formCaseTeam(caseId: $id, lead: "SE-KOMMUN", expectedVersion: $v) { id reference needsAssessment } }',
    ),
  },
  'Mutation.inviteToCaseTeam': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: "SE-KOMMUN", expectedVersion: $v) { id reference needsAssessment } }',
    ),
  },
  'Mutation.removeFromCaseTeam': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { removeFromCaseTeam(caseId: $id, unit: "SE-POLIS", expectedVersion: $v) { id reference } }',
    ),
  },
  'Mutation.recordReturnStep': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { recordReturnStep(caseId: $id, step: { kind: COUNSELLING, on: "2026-01-05" }, expectedVersion: $v) { id reference } }',
    ),
  },
  'Mutation.extendSpendingWindow': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { extendSpendingWindow(caseId: $id, until: "2030-01-01", reason: "x", expectedVersion: $v) { id reference } }',
    ),
  },
  'Mutation.confirmArrival': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase(
      'mutation ($id: ID!, $v: Int!) { confirmArrival(id: $id, arrivedOn: "2026-11-01", expectedVersion: $v) { id } }',
    ),
  },
  'Mutation.closeCase': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!, $v: Int!) { closeCase(id: $id, reason: DECEASED, expectedVersion: $v) { id } }'),
  },
  'Mutation.eraseCase': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!) { eraseCase(caseId: $id, reason: SUBJECT_REQUEST) { id reference erasedAt } }'),
  },
  'Mutation.withdrawConsent': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!, $v: Int!) { withdrawConsent(id: $id, expectedVersion: $v) { id reference } }'),
  },
  'Mutation.renewConsent': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        'mutation ($id: ID!, $v: Int!, $c: ConsentInput!) { renewConsent(id: $id, consent: $c, expectedVersion: $v) { id reference } }',
        {
          id: f.case.id,
          v: f.case.version,
          c: { purposes: ['REINTEGRATION_SUPPORT'], givenOn: '2026-01-01', expiresOn: '2099-01-01' },
        },
      ),
  },
  'Mutation.saveDraftPlan': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: (c, f) =>
      c.gql(
        'mutation ($id: ID!, $v: Int!, $p: PlanInput!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { id } }',
        {
          id: f.case.id,
          v: f.case.version,
          p: { components: [trainingComponent(1)] },
        },
      ),
  },
  'Mutation.submitPlan': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { id } }'),
  },
  'Mutation.decidePlan': {
    outsiders: CASE_OUTSIDERS,
    markers: caseMarkers,
    refusals: CASE_REFUSALS,
    attempt: onCase('mutation ($id: ID!, $v: Int!) { decidePlan(caseId: $id, decision: APPROVE, expectedVersion: $v) { id } }'),
  },
};

beforeAll(async () => {
  gw = await startGateway();
  const { registerWebhook } = await gw
    .as('SE', 'coordinator')
    .ok<{ registerWebhook: { endpoint: { id: string; version: number } } }>(
      'mutation ($url: String!) { registerWebhook(url: $url, events: ["*"]) { endpoint { id version } } }',
      { url: SECRET_HOOK },
    );
  const flow = workflow(gw, 'SE', 'P-ET-HORN');
  // Arrived in October: by now its arrival support and plan are overdue, so `overdue` has something to leak.
  const arrived = await flow.arrived(
    {
      originCountry: 'ET',
      needsAssessment: SECRET_NEEDS,
      vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: false, medicalNeeds: true },
    },
    '2026-10-01',
  );
  const submitted = await flow.submit(await flow.draft(arrived, { components: [trainingComponent(50000)] }));
  const upload = await uploadFile(
    gw,
    flow.officer.token,
    { caseId: submitted.id, kind: 'RECEIPT' },
    samplePdf('owner-only receipt'),
  );
  const { postProgressUpdate } = await flow.state.ok<{ postProgressUpdate: { case: { version: number } } }>(
    `mutation ($id: ID!, $v: Int!, $input: ProgressUpdateInput!) { postProgressUpdate(caseId: $id, input: $input, expectedVersion: $v) { case { version } } }`,
    {
      id: submitted.id,
      v: submitted.version,
      input: { kind: 'COUNSELLING', narrative: SECRET_NOTE, language: 'sv', occurredOn: '2026-10-02' },
    },
  );
  // Sweden's units: a municipality (not on the case) and the police, which Sweden puts on the case's team.
  const admin = gw.as('ERIN-NET', 'network-admin');
  await admin.ok(
    'mutation { createOrganisation(input: { code: "SE-KOMMUN", kind: MUNICIPALITY, name: "Malmö stad", countries: ["SE"], memberState: "SE" }) { code } }',
  );
  await admin.ok(
    'mutation { createOrganisation(input: { code: "SE-POLIS", kind: AGENCY, agency: POLICE, name: "Polisen", countries: ["SE"], memberState: "SE" }) { code } }',
  );
  const { inviteToCaseTeam } = await flow.state.ok<{ inviteToCaseTeam: { version: number } }>(
    'mutation ($id: ID!, $v: Int!) { inviteToCaseTeam(caseId: $id, unit: "SE-POLIS", expectedVersion: $v) { version } }',
    { id: submitted.id, v: postProgressUpdate.case.version },
  );
  // Turn the log into deliveries for Sweden's endpoint (nothing is sent: no job runs here).
  while ((await gw.services.webhookDelivery.dispatch()) > 0);
  const { webhookDeliveries } = await gw
    .as('SE', 'coordinator')
    .ok<{ webhookDeliveries: { deliveries: { id: string }[] } }>('{ webhookDeliveries(first: 1) { deliveries { id } } }');
  // An extract of Sweden's cases for R-EVAL, approved by Sweden's officer and not yet built.
  await gw
    .as('ERIN-NET', 'network-admin')
    .ok(
      'mutation { createOrganisation(input: { code: "R-OTHER", kind: RESEARCH_BODY, name: "Other institute", countries: [] }) { code } }',
    );
  const { requestExtract } = await gw.as('R-EVAL', 'researcher').ok<{ requestExtract: { id: string; version: number } }>(
    `mutation ($purpose: String!) { requestExtract(input: { purpose: $purpose, variables: [MEMBER_STATE, STATUS],
      periodFrom: "2026-01", periodTo: "2026-12", memberStates: ["SE"] }) { id version } }`,
    { purpose: SECRET_PURPOSE },
  );
  const { decideExtract } = await gw
    .as('SE', 'data-protection-officer')
    .ok<{ decideExtract: { id: string; version: number } }>(
      'mutation ($id: ID!, $v: Int!) { decideExtract(id: $id, decision: APPROVE, expectedVersion: $v) { id version } }',
      { id: requestExtract.id, v: requestExtract.version },
    );
  fixture = {
    extract: decideExtract,
    case: { ...submitted, version: inviteToCaseTeam.version },
    contract: 'SE-ET-2026',
    webhook: registerWebhook.endpoint,
    delivery: webhookDeliveries.deliveries[0]!.id,
    evidence: upload.body.evidence!.id,
  };
});
afterAll(async () => {
  await gw?.close();
});

function rootFields(): string[] {
  const schema = makeExecutableSchema({ typeDefs: loadTypeDefs() });
  const fields: string[] = [];
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (type) for (const name of Object.keys(type.getFields())) fields.push(`${type.name}.${name}`);
  }
  return fields.sort();
}

describe('isolation between organisations', () => {
  it('every query, mutation and subscription field of the schema has a probe', () => {
    const missing = rootFields().filter((f) => !(f in probes) && !f.startsWith('Subscription.'));
    expect(missing, 'add an isolation probe for these fields').toEqual([]);
  });

  const cases = Object.entries(probes).flatMap(([field, probe]) =>
    probe.outsiders.map((o) => [field, `${o.org} ${o.role}`, o, probe] as const),
  );

  it.each(cases)('%s: %s gets nothing of the owner’s data', async (_field, _who, outsider, probe) => {
    // What the outsider sent it knows already (an id echoed in NOT_FOUND is no leak).
    const client = gw.as(outsider.org, outsider.role);
    let sent = '';
    const recording: Client = {
      ...client,
      gql: (query, variables = {}) => ((sent = query + JSON.stringify(variables)), client.gql(query, variables)),
    };
    const response = await probe.attempt(recording, fixture);
    const text = JSON.stringify({ data: response.data, errors: response.errors });
    // A unit on the case's team knows which case it is; its secrets are what it must not get.
    const known = outsider.onTeam ? [fixture.case.id, fixture.case.reference] : [];
    for (const marker of probe.markers(fixture, outsider).filter((m) => !sent.includes(m) && !known.includes(m)))
      expect(text, `leaked ${marker}`).not.toContain(marker);
    const errorCodes = codes(response);
    if (errorCodes.length > 0)
      expect(probe.refusals ?? [], `unexpected error ${errorCodes.join(', ')}: ${text.slice(0, 300)}`).toEqual(
        expect.arrayContaining(errorCodes),
      );
  });

  it('after all attempts the owner’s data is unchanged', async () => {
    const owner = gw.as('SE', 'coordinator');
    const { contracts } = await owner.ok<{ contracts: { id: string; version: number; endedAt: string | null }[] }>(
      '{ contracts { id version endedAt } }',
    );
    expect(contracts).toEqual([
      { id: 'SE-AF-2026', version: 1, endedAt: null },
      { id: 'SE-ET-2026', version: 1, endedAt: null },
    ]);
    const se = await owner.ok<{ organisation: { active: boolean; version: number } }>(
      '{ organisation(code: "SE") { active version } }',
    );
    expect(se.organisation).toEqual({ active: true, version: 1 });
    const { case: c } = await owner.ok<{
      case: {
        version: number;
        status: string;
        needsAssessment: string;
        plan: { status: string };
        progress: { edges: { node: { narrative: string } }[] };
        evidence: { id: string }[];
        shipments: unknown[];
        monitoring: { surveys: unknown[] };
        finalReport: unknown;
        team: unknown;
      };
    }>(
      `query ($id: ID!) { case(id: $id) { version status needsAssessment plan { status } progress { edges { node { narrative } } }
        evidence { id } shipments { id } monitoring { surveys { id } } finalReport { feedback }
        team { lead { code } members { organisation { code } role } } } }`,
      { id: fixture.case.id },
    );
    expect(c).toEqual({
      version: fixture.case.version,
      status: 'PLAN_SUBMITTED',
      needsAssessment: SECRET_NEEDS,
      plan: { status: 'SUBMITTED' },
      progress: { edges: [{ node: { narrative: SECRET_NOTE } }] },
      evidence: [{ id: fixture.evidence }],
      shipments: [],
      monitoring: { surveys: [] },
      finalReport: null,
      team: { lead: null, members: [{ organisation: { code: 'SE-POLIS' }, role: 'POLICE' }] },
    });
    // The overdue probe had something to find: the owner and its partner see the case there.
    for (const [org, role] of [
      ['SE', 'coordinator'],
      ['P-ET-HORN', 'partner-officer'],
    ] as const) {
      const { overdue } = await gw.as(org, role).ok<{ overdue: { case: { id: string } }[] }>('{ overdue { case { id } } }');
      expect(overdue.map((o) => o.case.id)).toContain(fixture.case.id);
    }
    // The extract is as it was: approved by Sweden, not built by any outsider.
    const { extractRequest } = await gw
      .as('R-EVAL', 'researcher')
      .ok<{ extractRequest: { version: number; status: string; purpose: string } }>(
        'query ($id: ID!) { extractRequest(id: $id) { version status purpose } }',
        { id: fixture.extract.id },
      );
    expect(extractRequest).toEqual({ version: fixture.extract.version, status: 'APPROVED', purpose: SECRET_PURPOSE });
    // So had the work list probe: the plan waits for Sweden's coordinator.
    const { workList } = await gw
      .as('SE', 'coordinator')
      .ok<{ workList: { action: string; case: { id: string } }[] }>('{ workList { action case { id } } }');
    expect(workList.find((i) => i.case.id === fixture.case.id)?.action).toBe('DECIDE_PLAN');
  });
});
