// Builders for cases and plans, through the real GraphQL API.
import type { Role } from '../../src/auth/principal.ts';
import type { TestGateway } from './gateway.ts';

export const CASE_FIELDS = `id reference status version memberState { code } partner { code } originCountry
  plan { planVersion status totalEur { amount } cashEur { amount } components { id kind cost { amount currency } costEur { amount } } ratesUsed { currency rate validFrom } amendmentOf decisionComment }
  planInForce { planVersion status }`;

export type CaseView = {
  id: string;
  reference: string;
  status: string;
  version: number;
  memberState: { code: string };
  partner: { code: string } | null;
  originCountry: string;
  plan: {
    planVersion: number;
    status: string;
    totalEur: { amount: number } | null;
    cashEur: { amount: number } | null;
    components: { id: string; kind: string; cost: { amount: number; currency: string }; costEur: { amount: number } | null }[];
    ratesUsed: { currency: string; rate: string; validFrom: string }[];
    amendmentOf: number | null;
    decisionComment: string | null;
  } | null;
  planInForce: { planVersion: number; status: string } | null;
};

export type CaseSpec = {
  memberState?: string;
  partner?: string;
  originCountry?: string;
  programme?: string;
  returnType?: 'VOLUNTARY' | 'NON_VOLUNTARY';
  household?: { yearOfBirth: number; gender: string; relation: string }[];
  vulnerability?: { unaccompaniedMinor: boolean; victimOfTrafficking: boolean; medicalNeeds: boolean; notes?: string } | null;
  needsAssessment?: string;
  consent?: { purposes: string[]; givenOn: string; expiresOn: string };
  arrivedOn?: string;
};

/** Every consent purpose (EURP-VOL, the default programme, asks for them all); tests of one purpose give fewer. */
export const ALL_PURPOSES = [
  'REINTEGRATION_SUPPORT',
  'SPECIAL_CATEGORY_DATA',
  'RETURN_ASSISTANCE',
  'MONITORING',
  'EVALUATION_RESEARCH',
];

export function caseInput(spec: CaseSpec = {}) {
  return {
    programme: spec.programme ?? 'EURP-VOL',
    originCountry: spec.originCountry ?? 'AF',
    returnType: spec.returnType ?? 'VOLUNTARY',
    partner: spec.partner ?? 'P-AF-HOPE',
    plannedDepartureDate: '2026-12-20',
    plannedArrivalDate: '2026-12-21',
    ...(spec.arrivedOn ? { arrivedOn: spec.arrivedOn } : {}),
    household: spec.household ?? [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
    needsAssessment: spec.needsAssessment ?? 'Wants to restart a tailoring business; owns no tools.',
    vulnerability: spec.vulnerability === undefined ? null : spec.vulnerability,
    consent: spec.consent ?? {
      purposes: ALL_PURPOSES,
      givenOn: '2026-01-10',
      expiresOn: '2036-01-10',
    },
  };
}

/** The entitlement's amounts (special category, like its lines: every read is audited, so not in CASE_FIELDS). */
export const AMOUNTS = `query ($id: ID!) { case(id: $id) { entitlement { total { amount } cashCap { amount } } } }`;
export type Amounts = { case: { entitlement: { total: { amount: number } | null; cashCap: { amount: number } | null } } };

/** The entitlement's lines of a case (special category: every read is audited). */
export const LINES = `query ($id: ID!) { case(id: $id) { entitlement { lines { category persons each { amount } } } } }`;
export type Lines = { case: { entitlement: { lines: { category: string; persons: number; each: { amount: number } }[] } } };

export const CREATE_CASE = `mutation ($input: CreateCaseInput!, $key: String) { createCase(input: $input, idempotencyKey: $key) { ${CASE_FIELDS} } }`;

/** A client for the member state and one for the partner of a case, with the usual workflow steps. */
export function workflow(gw: TestGateway, memberState = 'NL', partner = 'P-AF-HOPE') {
  const state = gw.as(memberState, ['caseworker', 'coordinator'] as Role[]);
  const officer = gw.as(partner, 'partner-officer');
  const step = async (client: typeof state, mutation: string, variables: Record<string, unknown>): Promise<CaseView> => {
    const data = await client.ok<Record<string, CaseView>>(mutation, variables);
    return Object.values(data)[0]!;
  };
  return {
    state,
    officer,
    create: (spec: CaseSpec = {}) => step(state, CREATE_CASE, { input: caseInput({ memberState, partner, ...spec }) }),
    refer: (c: CaseView) =>
      step(state, `mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { ${CASE_FIELDS} } }`, {
        id: c.id,
        v: c.version,
      }),
    accept: (c: CaseView) =>
      step(
        officer,
        `mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        { id: c.id, v: c.version },
      ),
    decline: (c: CaseView, reason: string) =>
      step(
        officer,
        `mutation ($id: ID!, $v: Int!, $r: String) { respondToReferral(id: $id, decision: DECLINE, reason: $r, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        {
          id: c.id,
          v: c.version,
          r: reason,
        },
      ),
    arrive: (c: CaseView, arrivedOn = '2026-11-20') =>
      step(
        officer,
        `mutation ($id: ID!, $d: Date!, $v: Int!) { confirmArrival(id: $id, arrivedOn: $d, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        {
          id: c.id,
          d: arrivedOn,
          v: c.version,
        },
      ),
    draft: (c: CaseView, plan: unknown) =>
      step(
        officer,
        `mutation ($id: ID!, $p: PlanInput!, $v: Int!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        {
          id: c.id,
          p: plan,
          v: c.version,
        },
      ),
    submit: (c: CaseView) =>
      step(officer, `mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { ${CASE_FIELDS} } }`, {
        id: c.id,
        v: c.version,
      }),
    approve: (c: CaseView, comment?: string) =>
      step(
        state,
        `mutation ($id: ID!, $v: Int!, $c: String) { decidePlan(caseId: $id, decision: APPROVE, comment: $c, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        {
          id: c.id,
          v: c.version,
          c: comment ?? null,
        },
      ),
    requestChanges: (c: CaseView, comment: string) =>
      step(
        state,
        `mutation ($id: ID!, $v: Int!, $c: String) { decidePlan(caseId: $id, decision: REQUEST_CHANGES, comment: $c, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        {
          id: c.id,
          v: c.version,
          c: comment,
        },
      ),
    close: (c: CaseView, reason = 'OPTED_OUT') =>
      step(
        state,
        `mutation ($id: ID!, $v: Int!, $r: ClosureReason!) { closeCase(id: $id, reason: $r, expectedVersion: $v) { ${CASE_FIELDS} } }`,
        {
          id: c.id,
          v: c.version,
          r: reason,
        },
      ),
    /** A case referred, accepted and arrived: ready for a plan. */
    async arrived(spec: CaseSpec = {}, arrivedOn?: string) {
      return this.arrive(await this.accept(await this.refer(await this.create(spec))), arrivedOn);
    },
    /** A case with an approved plan. */
    async approved(plan: unknown, spec: CaseSpec = {}) {
      return this.approve(await this.submit(await this.draft(await this.arrived(spec), plan)));
    },
  };
}

export const trainingComponent = (amount = 80000, currency = 'EUR') => ({
  kind: 'TRAINING',
  title: 'Tailoring course',
  cost: { amount, currency },
  training: {
    provider: 'Kabul Vocational Institute',
    course: 'Industrial sewing',
    startDate: '2027-01-10',
    endDate: '2027-03-10',
    certificateExpected: true,
  },
});

export const materialsComponent = (unitCost = 15000, currency = 'EUR', procurement = 'LOCAL') => ({
  kind: 'MATERIALS',
  title: 'Sewing machines',
  materials: {
    items: [
      { description: 'Industrial sewing machine', quantity: 2, unitCost: { amount: unitCost, currency } },
      { description: 'Thread and fabric stock', quantity: 1, unitCost: { amount: 10000, currency } },
    ],
    supplier: 'Kabul Tools Ltd',
    procurement,
  },
});

export const businessComponent = (amount = 50000) => ({
  kind: 'BUSINESS_PLAN',
  title: 'Tailoring shop',
  businessPlan: {
    sector: 'Garments',
    description: 'A small tailoring shop in the bazaar',
    location: 'Kabul, District 3',
    startupCosts: { amount, currency: 'EUR' },
    expectedMonthlyIncome: { amount: 25000, currency: 'EUR' },
  },
});

export const serviceComponent = (amount = 20000) => ({
  kind: 'SERVICE',
  title: 'Housing for three months',
  cost: { amount, currency: 'EUR' },
  service: { category: 'HOUSING', provider: 'Local landlord', description: 'Rent for a room' },
});

export const cashComponent = (amount = 10000) => ({
  kind: 'CASH',
  title: 'Cash for transport',
  cost: { amount, currency: 'EUR' },
  cash: { purpose: 'Transport to training' },
});
