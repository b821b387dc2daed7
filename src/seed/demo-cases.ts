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

const DAY = 86_400_000;

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
  plan?: (currency: string) => unknown[];
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

const SCENARIOS: Scenario[] = [
  {
    key: 'nl-draft',
    memberState: 'NL',
    partner: 'P-AF-HOPE',
    originCountry: 'AF',
    programme: 'NL-AVRR',
    until: 'DRAFT',
    household: [{ yearOfBirth: 1994, gender: 'MALE', relation: 'PRINCIPAL' }],
    needs: 'Carpenter; wants his own workshop.',
  },
  {
    key: 'nl-referred',
    memberState: 'NL',
    partner: 'P-IQ-TIGRIS',
    originCountry: 'IQ',
    programme: 'EURP-VOL',
    until: 'REFERRED',
    household: [
      { yearOfBirth: 1987, gender: 'FEMALE', relation: 'PRINCIPAL' },
      { yearOfBirth: 2016, gender: 'MALE', relation: 'CHILD' },
    ],
    needs: 'Single mother; experience in hairdressing.',
  },
  {
    key: 'de-accepted',
    memberState: 'DE',
    partner: 'P-PK-INDUS',
    originCountry: 'PK',
    programme: 'EURP-VOL',
    until: 'ACCEPTED',
    household: [{ yearOfBirth: 1990, gender: 'MALE', relation: 'PRINCIPAL' }],
    needs: 'Motorbike mechanic.',
  },
  {
    key: 'be-declined',
    memberState: 'BE',
    partner: 'P-MA-ATLAS',
    originCountry: 'MA',
    programme: 'EURP-VOL',
    until: 'DECLINED',
    household: [{ yearOfBirth: 1999, gender: 'MALE', relation: 'PRINCIPAL' }],
    needs: 'Wants to study; no vocational plan yet.',
  },
  {
    key: 'se-expired',
    memberState: 'SE',
    partner: 'P-ET-HORN',
    originCountry: 'ET',
    programme: 'EURP-VOL',
    until: 'EXPIRED',
    household: [{ yearOfBirth: 1985, gender: 'FEMALE', relation: 'PRINCIPAL' }],
    needs: 'Coffee trader before leaving.',
  },
  {
    key: 'nl-arrived',
    memberState: 'NL',
    partner: 'P-AF-HOPE',
    originCountry: 'AF',
    programme: 'EURP-VOL',
    until: 'ARRIVED',
    household: [{ yearOfBirth: 2009, gender: 'MALE', relation: 'PRINCIPAL' }],
    needs: 'Unaccompanied minor returning to his uncle; wants to finish school.',
    vulnerability: {
      unaccompaniedMinor: true,
      victimOfTrafficking: false,
      medicalNeeds: false,
      notes: 'Guardian: uncle in Kabul, verified by the partner.',
    },
  },
  {
    key: 'de-submitted',
    memberState: 'DE',
    partner: 'P-IQ-TIGRIS',
    originCountry: 'IQ',
    programme: 'EURP-VOL',
    until: 'PLAN_SUBMITTED',
    household: [
      { yearOfBirth: 1983, gender: 'MALE', relation: 'PRINCIPAL' },
      { yearOfBirth: 1986, gender: 'FEMALE', relation: 'SPOUSE' },
    ],
    needs: 'Tailor; his wife sews too.',
    plan: (c) => tailoring(c, scaleFor(c)),
  },
  {
    key: 'no-changes',
    memberState: 'NO',
    partner: 'P-ET-HORN',
    originCountry: 'ET',
    programme: 'EURP-VOL',
    until: 'CHANGES_REQUESTED',
    household: [{ yearOfBirth: 1991, gender: 'FEMALE', relation: 'PRINCIPAL' }],
    needs: 'Farming background.',
    plan: (c) => farming(c, scaleFor(c)),
  },
  {
    key: 'nl-approved',
    memberState: 'NL',
    partner: 'P-IQ-TIGRIS',
    originCountry: 'IQ',
    programme: 'NL-AVRR',
    until: 'PLAN_APPROVED',
    household: [
      { yearOfBirth: 1980, gender: 'MALE', relation: 'PRINCIPAL' },
      { yearOfBirth: 1982, gender: 'FEMALE', relation: 'SPOUSE' },
      { yearOfBirth: 2012, gender: 'FEMALE', relation: 'CHILD' },
    ],
    needs: 'Family returning to Erbil; father was a poultry farmer.',
    vulnerability: {
      unaccompaniedMinor: false,
      victimOfTrafficking: false,
      medicalNeeds: true,
      notes: 'Daughter needs insulin; partner to arrange a clinic.',
    },
    plan: (c) => farming(c, scaleFor(c)),
  },
  {
    key: 'at-amendment',
    memberState: 'AT',
    partner: 'P-PK-INDUS',
    originCountry: 'PK',
    programme: 'EURP-VOL',
    until: 'AMENDMENT_PENDING',
    household: [{ yearOfBirth: 1995, gender: 'MALE', relation: 'PRINCIPAL' }],
    needs: 'Tailor.',
    plan: (c) => tailoring(c, scaleFor(c)),
  },
  {
    key: 'fr-closed',
    memberState: 'FR',
    partner: 'P-NG-DELTA',
    originCountry: 'NG',
    programme: 'EURP-VOL',
    until: 'CLOSED',
    household: [{ yearOfBirth: 1993, gender: 'FEMALE', relation: 'PRINCIPAL' }],
    needs: 'Opted out after arrival; moved to Lagos.',
  },
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
  const daysAgo = (n: number) => todayIso(new Date(now.getTime() - n * DAY));
  // The expired referral happened eight days ago: those steps run on a clock set back.
  const past = createServices({
    store: services.store,
    clock: { now: () => new Date(now.getTime() - 8 * DAY) },
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
            purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA', 'MONITORING'],
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
    if (reaches(s, 'PLAN_SUBMITTED') && s.plan) {
      const currency = CURRENCY[s.originCountry] ?? 'EUR';
      const components = s.plan(currency);
      c = (
        await svc.plans.saveDraft(
          po,
          { caseId: c._id, plan: { summary: 'Agreed at the counselling meeting.', components }, expectedVersion: c.version },
          k('draft'),
        )
      ).case;
      c = (await svc.plans.submit(po, { caseId: c._id, expectedVersion: c.version }, k('submit'))).case;
      if (s.until === 'CHANGES_REQUESTED') {
        c = (
          await svc.plans.decide(
            ms,
            {
              caseId: c._id,
              decision: 'REQUEST_CHANGES',
              comment: 'Please get a second quote for the incubator.',
              expectedVersion: c.version,
            },
            k('changes'),
          )
        ).case;
      }
      if (reaches(s, 'PLAN_APPROVED'))
        c = (
          await svc.plans.decide(
            ms,
            { caseId: c._id, decision: 'APPROVE', comment: 'Approved.', expectedVersion: c.version },
            k('approve'),
          )
        ).case;
      if (s.until === 'AMENDMENT_PENDING') {
        const amended = components.concat([
          {
            kind: 'SERVICE',
            title: 'Bookkeeping course',
            cost: { amount: 5_000, currency: 'EUR' },
            service: { category: 'OTHER', provider: 'Chamber of commerce', description: 'Evening course' },
          },
        ]);
        c = (
          await svc.plans.saveDraft(
            po,
            { caseId: c._id, plan: { summary: 'Adds a bookkeeping course.', components: amended }, expectedVersion: c.version },
            k('amend'),
          )
        ).case;
        c = (await svc.plans.submit(po, { caseId: c._id, expectedVersion: c.version }, k('amend-submit'))).case;
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
