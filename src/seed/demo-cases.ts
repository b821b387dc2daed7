// Demo cases in every status the referral and plan workflow reaches, written through the
// services (so every one has its real event history). Each step carries a fixed
// idempotency key: a second run replays the first run's answers and writes nothing.
import type { Principal } from '../auth/principal.ts';
import { createServices, type Services } from '../services.ts';
import type { CaseDoc } from '../modules/cases/case.model.ts';
import { todayIso } from '../validation.ts';
import { minorDigits } from '../money.ts';
import { SYSTEM_PRINCIPAL } from '../auth/principal.ts';
import { readDemoRates } from './demo.ts';
import { DAY_MS } from '../clock.ts';

function principal(code: string, kind: Principal['organisation']['kind'], roles: Principal['roles']): Principal {
  return { subject: `demo-${roles[0]}@${code}`, issuer: 'erin-exchange', organisation: { code, kind, name: code }, roles };
}

const state = (code: string) => principal(code, 'MEMBER_STATE', ['caseworker', 'coordinator']);
const partner = (code: string) => principal(code, 'PARTNER', ['partner-officer']);

type Scenario = {
  key: string;
  memberState: string;
  partner: string;
  originCountry: string;
  programme: string;
  /** How far the case goes. */
  until:
    | 'DRAFT'
    | 'REFERRED'
    | 'ACCEPTED'
    | 'DECLINED'
    | 'EXPIRED'
    | 'ARRIVED'
    | 'PLAN_SUBMITTED'
    | 'CHANGES_REQUESTED'
    | 'PLAN_APPROVED'
    | 'AMENDMENT_PENDING'
    | 'CLOSED';
  household: { yearOfBirth: number; gender: 'FEMALE' | 'MALE'; relation: 'PRINCIPAL' | 'SPOUSE' | 'CHILD' }[];
  needs: string;
  vulnerability?: { unaccompaniedMinor: boolean; victimOfTrafficking: boolean; medicalNeeds: boolean; notes: string | null };
  plan?: (currency: string, scale: number) => unknown[];
  currency?: string;
};

const tailoring = (currency: string, scale: number) => [
  {
    kind: 'TRAINING',
    title: 'Industrial sewing course',
    cost: { amount: Math.round(45_000 * scale), currency },
    training: {
      provider: 'Vocational Training Centre',
      course: 'Industrial sewing, level 2',
      startDate: '2027-01-11',
      endDate: '2027-03-19',
      certificateExpected: true,
    },
  },
  {
    kind: 'MATERIALS',
    title: 'Sewing machines and stock',
    materials: {
      items: [
        { description: 'Industrial sewing machine', quantity: 2, unitCost: { amount: Math.round(30_000 * scale), currency } },
        { description: 'Fabric and thread stock', quantity: 1, unitCost: { amount: Math.round(20_000 * scale), currency } },
      ],
      supplier: 'Local tools supplier',
      procurement: 'LOCAL',
    },
  },
];

const farming = (currency: string, scale: number) => [
  {
    kind: 'BUSINESS_PLAN',
    title: 'Poultry farm',
    businessPlan: {
      sector: 'Agriculture',
      description: 'Fifty laying hens, a coop and feed for the first three months',
      location: 'Outskirts of the home town',
      startupCosts: { amount: Math.round(90_000 * scale), currency },
      expectedMonthlyIncome: { amount: Math.round(12_000 * scale), currency },
    },
  },
  {
    kind: 'MATERIALS',
    title: 'Incubator shipped from Europe',
    materials: {
      items: [{ description: 'Egg incubator, 200 eggs', quantity: 1, unitCost: { amount: 450_00, currency: 'EUR' } }],
      supplier: 'AgriTech BV',
      procurement: 'SHIPPED',
    },
  },
  {
    kind: 'SERVICE',
    title: 'Three months of rent',
    cost: { amount: Math.round(15_000 * scale), currency },
    service: { category: 'HOUSING', provider: 'Landlord', description: 'Room close to the farm' },
  },
];

/** Minor units of a currency worth one euro cent at the demo rates, so amounts are plausible. */
function scaleFor(currency: string): number {
  const rate = readDemoRates().find((r) => r.currency === currency)?.rate;
  return rate ? Number(rate) * 10 ** (minorDigits(currency) - 2) : 1;
}
const CURRENCY: Record<string, string> = { AF: 'AFN', IQ: 'IQD', MA: 'MAD', NG: 'NGN', PK: 'PKR', GE: 'GEL', ET: 'ETB' };

type Person = Scenario['household'][number];
const person =
  (gender: Person['gender']) =>
  (yearOfBirth: number, relation: Person['relation'] = 'PRINCIPAL'): Person => ({ yearOfBirth, gender, relation });
const man = person('MALE');
const woman = person('FEMALE');

/**
 * A scenario under EURP-VOL unless `more` says otherwise: its key begins with the member
 * state's code, and the partner's code (`P-AF-HOPE`) names the country of origin.
 */
function scenario(
  key: string,
  partner: string,
  until: Scenario['until'],
  household: Person[],
  needs: string,
  more: Partial<Scenario> = {},
): Scenario {
  const memberState = key.slice(0, 2).toUpperCase();
  return {
    key,
    memberState,
    partner,
    originCountry: partner.slice(2, 4),
    programme: 'EURP-VOL',
    until,
    household,
    needs,
    ...more,
  };
}

const SCENARIOS: Scenario[] = [
  scenario('nl-draft', 'P-AF-HOPE', 'DRAFT', [man(1994)], 'Carpenter; wants his own workshop.', { programme: 'NL-AVRR' }),
  scenario(
    'nl-referred',
    'P-IQ-TIGRIS',
    'REFERRED',
    [woman(1987), man(2016, 'CHILD')],
    'Single mother; experience in hairdressing.',
  ),
  scenario('de-accepted', 'P-PK-INDUS', 'ACCEPTED', [man(1990)], 'Motorbike mechanic.'),
  scenario('be-declined', 'P-MA-ATLAS', 'DECLINED', [man(1999)], 'Wants to study; no vocational plan yet.'),
  scenario('se-expired', 'P-ET-HORN', 'EXPIRED', [woman(1985)], 'Coffee trader before leaving.'),
  scenario(
    'nl-arrived',
    'P-AF-HOPE',
    'ARRIVED',
    [man(2009)],
    'Unaccompanied minor returning to his uncle; wants to finish school.',
    {
      vulnerability: {
        unaccompaniedMinor: true,
        victimOfTrafficking: false,
        medicalNeeds: false,
        notes: 'Guardian: uncle in Kabul, verified by the partner.',
      },
    },
  ),
  scenario('de-submitted', 'P-IQ-TIGRIS', 'PLAN_SUBMITTED', [man(1983), woman(1986, 'SPOUSE')], 'Tailor; his wife sews too.', {
    plan: tailoring,
  }),
  scenario('no-changes', 'P-ET-HORN', 'CHANGES_REQUESTED', [woman(1991)], 'Farming background.', {
    plan: farming,
  }),
  scenario(
    'nl-approved',
    'P-IQ-TIGRIS',
    'PLAN_APPROVED',
    [man(1980), woman(1982, 'SPOUSE'), woman(2012, 'CHILD')],
    'Family returning to Erbil; father was a poultry farmer.',
    {
      programme: 'NL-AVRR',
      vulnerability: {
        unaccompaniedMinor: false,
        victimOfTrafficking: false,
        medicalNeeds: true,
        notes: 'Daughter needs insulin; partner to arrange a clinic.',
      },
      plan: farming,
    },
  ),
  scenario('at-amendment', 'P-PK-INDUS', 'AMENDMENT_PENDING', [man(1995)], 'Tailor.', { plan: tailoring }),
  scenario('fr-closed', 'P-NG-DELTA', 'CLOSED', [woman(1993)], 'Opted out after arrival; moved to Lagos.'),
];

const ORDER: Scenario['until'][] = [
  'DRAFT',
  'REFERRED',
  'ACCEPTED',
  'ARRIVED',
  'PLAN_SUBMITTED',
  'PLAN_APPROVED',
  'AMENDMENT_PENDING',
];
const reaches = (s: Scenario, step: Scenario['until']) => {
  const target =
    s.until === 'CHANGES_REQUESTED'
      ? 'PLAN_SUBMITTED'
      : s.until === 'CLOSED'
        ? 'ARRIVED'
        : s.until === 'DECLINED' || s.until === 'EXPIRED'
          ? 'REFERRED'
          : s.until;
  return ORDER.indexOf(step) <= ORDER.indexOf(target);
};

/** Writes the demo cases; returns how many scenarios it wrote and how many were there already. */
export async function seedDemoCases(services: Services): Promise<{ created: number; existing: number; cases: CaseDoc[] }> {
  const now = services.clock.now();
  const daysAgo = (n: number) => todayIso(new Date(now.getTime() - n * DAY_MS));
  // The expired referral happened eight days ago: those steps run on a clock set back.
  const past = createServices({
    store: services.store,
    clock: { now: () => new Date(now.getTime() - 8 * DAY_MS) },
    logger: services.logger,
    sealer: services.sealer,
  });
  let created = 0;
  let existing = 0;
  const cases: CaseDoc[] = [];
  for (const s of SCENARIOS) {
    const k = (step: string) => `demo-${s.key}-${step}`;
    const svc = s.until === 'EXPIRED' ? past : services;
    const ms = state(s.memberState);
    const po = partner(s.partner);
    const before = await services.log.lastSeq();
    let c = (
      await svc.cases.create(
        ms,
        {
          programme: s.programme,
          originCountry: s.originCountry,
          returnType: 'VOLUNTARY',
          partner: s.partner,
          plannedDepartureDate: daysAgo(-20),
          plannedArrivalDate: daysAgo(-19),
          household: s.household,
          needsAssessment: s.needs,
          vulnerability: s.vulnerability ?? null,
          consent: {
            purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA', 'MONITORING', 'EVALUATION_RESEARCH'],
            givenOn: daysAgo(60),
            expiresOn: daysAgo(-700),
          },
        },
        k('create'),
      )
    ).case;
    if (reaches(s, 'REFERRED')) c = (await svc.cases.refer(ms, c._id, c.version, k('refer'))).case;
    if (s.until === 'EXPIRED') {
      await services.cases.expireReferrals(SYSTEM_PRINCIPAL);
      c = (await services.caseStore.loadFor(ms, c._id))!;
    }
    if (s.until === 'DECLINED')
      c = (
        await svc.cases.respond(
          po,
          {
            id: c._id,
            decision: 'DECLINE',
            reason: 'No training provider for this profile in our region.',
            expectedVersion: c.version,
          },
          k('decline'),
        )
      ).case;
    if (reaches(s, 'ACCEPTED'))
      c = (await svc.cases.respond(po, { id: c._id, decision: 'ACCEPT', expectedVersion: c.version }, k('accept'))).case;
    if (reaches(s, 'ARRIVED'))
      c = (await svc.cases.confirmArrival(po, { id: c._id, arrivedOn: daysAgo(25), expectedVersion: c.version }, k('arrive')))
        .case;
    const draftAndSubmit = async (summary: string, components: unknown[], draftStep: string, submitStep: string) => {
      const plan = { summary, components };
      c = (await svc.plans.saveDraft(po, { caseId: c._id, plan, expectedVersion: c.version }, k(draftStep))).case;
      c = (await svc.plans.submit(po, { caseId: c._id, expectedVersion: c.version }, k(submitStep))).case;
    };
    const decide = async (decision: 'APPROVE' | 'REQUEST_CHANGES', comment: string, step: string) => {
      c = (await svc.plans.decide(ms, { caseId: c._id, decision, comment, expectedVersion: c.version }, k(step))).case;
    };
    if (reaches(s, 'PLAN_SUBMITTED') && s.plan) {
      const currency = CURRENCY[s.originCountry] ?? 'EUR';
      const components = s.plan(currency, scaleFor(currency));
      await draftAndSubmit('Agreed at the counselling meeting.', components, 'draft', 'submit');
      if (s.until === 'CHANGES_REQUESTED')
        await decide('REQUEST_CHANGES', 'Please get a second quote for the incubator.', 'changes');
      if (reaches(s, 'PLAN_APPROVED')) await decide('APPROVE', 'Approved.', 'approve');
      if (s.until === 'AMENDMENT_PENDING') {
        const bookkeeping = {
          kind: 'SERVICE',
          title: 'Bookkeeping course',
          cost: { amount: 5_000, currency: 'EUR' },
          service: { category: 'OTHER', provider: 'Chamber of commerce', description: 'Evening course' },
        };
        await draftAndSubmit('Adds a bookkeeping course.', [...components, bookkeeping], 'amend', 'amend-submit');
      }
    }
    if (s.until === 'CLOSED')
      c = (
        await svc.cases.close(
          ms,
          { id: c._id, reason: 'OPTED_OUT', comment: 'Moved away before the plan was made.', expectedVersion: c.version },
          k('close'),
        )
      ).case;
    if ((await services.log.lastSeq()) > before) created += 1;
    else existing += 1;
    cases.push(c);
  }
  return { created, existing, cases };
}
