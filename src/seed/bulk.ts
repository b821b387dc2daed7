// Bulk demo data for scale tests and benchmarks: `npx erin seed --cases 10000`.
// Realistic cases (households, programmes, statuses, plans in local currencies) generated
// deterministically from their number, written in batches: one `CaseImported` event per
// case (appended in one insert per batch, still hash-chained and gap-free) and its
// documents. Case ids derive from the number, so a second run finds them and adds nothing.
import { caseParties } from '../auth/policy.ts';
import { SYSTEM_PRINCIPAL } from '../auth/principal.ts';
import type { EventDraft } from '../events/event.model.ts';
import { VersionConflict } from '../events/log.ts';
import { minorDigits, toEur } from '../money.ts';
import type { Services } from '../services.ts';
import type { CaseDoc } from '../modules/cases/case.model.ts';
import type { PlanComponent, PlanDoc } from '../modules/plans/plan.model.ts';
import type { CaseStatus } from '../modules/cases/case.state.ts';
import { computeEntitlement } from '../modules/cases/entitlement.ts';
import { sealedEntitlement } from '../modules/cases/case.entitlement.ts';
import type { CaseKey } from '../crypto/case-keys.ts';
import { emptyImplementation, noRecordIds } from '../modules/cases/case.model.ts';
import { loadCalendars } from '../modules/deadlines/calendar.ts';
import { createDeadlinePlanner } from '../modules/deadlines/deadline.rules.ts';
import { programmeOpenTo, type ContractDoc, type ProgrammeDoc } from '../modules/organisations/organisation.model.ts';
import type { ExchangeRateDoc } from '../modules/rates/rate.model.ts';
import { todayIso } from '../validation.ts';
import { mulberry32 } from './random.ts';
import { DAY_MS } from '../clock.ts';

const CURRENCY: Record<string, string> = {
  AF: 'AFN',
  IQ: 'IQD',
  MA: 'MAD',
  NG: 'NGN',
  PK: 'PKR',
  GE: 'GEL',
  AM: 'AMD',
  ET: 'ETB',
};

/** Weighted statuses of a network in steady state. */
const STATUS_WEIGHTS: [CaseStatus, number][] = [
  ['DRAFT', 4],
  ['REFERRED', 5],
  ['ACCEPTED', 4],
  ['DECLINED', 2],
  ['EXPIRED', 2],
  ['ARRIVED', 8],
  ['PLAN_SUBMITTED', 8],
  ['CHANGES_REQUESTED', 4],
  ['PLAN_APPROVED', 38],
  ['CLOSED', 25],
];
const WITH_PLAN = new Set<CaseStatus>(['PLAN_SUBMITTED', 'CHANGES_REQUESTED', 'PLAN_APPROVED', 'CLOSED']);
const SHARED = new Set<CaseStatus>(STATUS_WEIGHTS.map(([s]) => s).filter((s) => s !== 'DRAFT'));

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function weighted<T>(random: () => number, items: readonly [T, number][]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let r = random() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r <= 0) return item;
  }
  return items.at(-1)![0];
}

/** Appends a batch; if a concurrent run wrote some of these cases, appends the rest one by one. */
async function appendSkippingExisting(services: Services, drafts: EventDraft[]) {
  try {
    return await services.log.appendMany(drafts);
  } catch (error) {
    if (!(error instanceof VersionConflict)) throw error;
    const appended = [];
    for (const draft of drafts) {
      try {
        appended.push(await services.log.append(draft));
      } catch (e) {
        if (!(e instanceof VersionConflict)) throw e;
        // Already in the log (an earlier part of this batch, or another run): project it too.
        const existing = await services.log.findVersion(draft.aggregateType, draft.aggregateId, draft.version);
        if (existing) appended.push(existing);
      }
    }
    return appended;
  }
}

/** Reads the network's configuration as its administration. */
const SYSTEM_PRINCIPAL_ADMIN = { ...SYSTEM_PRINCIPAL, roles: ['network-admin' as const] };

export const bulkCaseId = (n: number) => `bulk-${String(n).padStart(7, '0')}`;

export type BulkReport = { created: number; existing: number };

export async function seedBulkCases(
  services: Services,
  total: number,
  options: { batchSize?: number; onProgress?: (done: number) => void } = {},
): Promise<BulkReport> {
  const batchSize = options.batchSize ?? 500;
  const contracts = await services.organisations.contracts(SYSTEM_PRINCIPAL_ADMIN, {});
  const programmes = new Map((await services.organisations.programmes(SYSTEM_PRINCIPAL_ADMIN)).map((p) => [p._id, p]));
  const rates = await services.rates.list(SYSTEM_PRINCIPAL_ADMIN);
  const usable = contracts.filter((c) => usableProgrammes(c, programmes).length > 0);
  if (usable.length === 0) throw new Error('no contracts with active programmes: run `erin seed --demo` first');
  const now = services.clock.now();
  const report: BulkReport = { created: 0, existing: 0 };
  const planner = createDeadlinePlanner({ programme: async (code) => programmes.get(code) ?? null, calendars: loadCalendars() });

  for (let start = 1; start <= total; start += batchSize) {
    const numbers = Array.from({ length: Math.min(batchSize, total - start + 1) }, (_, i) => start + i);
    const ids = numbers.map(bulkCaseId);
    const existing = new Set((await services.caseStore.existingIds(ids)).map(String));
    report.existing += existing.size;
    const fresh = numbers.filter((n) => !existing.has(bulkCaseId(n)));
    const keys = await services.caseKeys.createMany(fresh.map(bulkCaseId));
    // Each case's (empty) list of files, as a registration opens it.
    await services.caseStore.files.openMany(fresh.map(bulkCaseId));
    const generated = fresh.map((n) => generateCase(services, keys.get(bulkCaseId(n))!, n, usable, programmes, rates, now));
    // Deadlines and monitoring visits as the workflow would have set them, on the day of each step.
    for (const g of generated) g.case = await planner(g.case, g.case.statusChangedAt);

    // References are claimed per member state and year, like any new case's.
    const byPrefix = new Map<string, typeof generated>();
    for (const g of generated) {
      const key = `${g.case.memberState}|${g.case.createdAt.getUTCFullYear()}`;
      byPrefix.set(key, [...(byPrefix.get(key) ?? []), g]);
    }
    for (const [key, group] of byPrefix) {
      const [memberState, year] = key.split('|') as [string, string];
      const refs = await services.caseStore.claimReferenceBlock(
        memberState,
        Number(year),
        group.map((g) => g.case._id),
      );
      group.forEach((g, i) => (g.case.reference = refs[i]!));
    }

    const drafts: EventDraft[] = generated.map((g) => ({
      aggregateType: 'case',
      aggregateId: g.case._id,
      caseId: g.case._id,
      version: 1,
      type: 'CaseImported',
      actor: { subject: 'bulk-seed', organisation: 'SYSTEM', roles: [] },
      audience: caseParties(g.case),
      data: { source: 'erin seed --cases' },
      changes: [{ collection: 'cases', doc: g.case as never }, ...g.plans.map((p) => ({ collection: 'plans', doc: p as never }))],
      idempotencyKey: null,
    }));
    const appended = await appendSkippingExisting(services, drafts);
    await services.log.applyChanges(appended.flatMap((e) => e.changes));
    // The feed takes them as they are (and seals the blocks they fill) instead of reading them back.
    services.hub.observe(appended);
    report.created += appended.length;
    report.existing += generated.length - appended.length;
    options.onProgress?.(Math.min(start + batchSize - 1, total));
  }
  return report;
}

function rateOn(rates: ExchangeRateDoc[], currency: string, day: string): string | undefined {
  if (currency === 'EUR') return '1';
  return rates
    .filter((r) => r.currency === currency && r.validFrom <= day)
    .sort((a, b) => (a.validFrom < b.validFrom ? 1 : -1))[0]?.rate;
}

/** The contract's programmes a case may be registered under: active, and open to the contract's member state. */
const usableProgrammes = (contract: ContractDoc, programmes: Map<string, ProgrammeDoc>): string[] =>
  contract.programmes.filter((code) => {
    const programme = programmes.get(code);
    return programme?.active && programmeOpenTo(programme, contract.memberState);
  });

function generateCase(
  services: Services,
  key: CaseKey,
  n: number,
  contracts: ContractDoc[],
  programmes: Map<string, ProgrammeDoc>,
  rates: ExchangeRateDoc[],
  now: Date,
): { case: CaseDoc; plans: PlanDoc[] } {
  const random = mulberry32(n * 7919 + 17);
  const contract = pick(random, contracts);
  const programme = programmes.get(pick(random, usableProgrammes(contract, programmes)))!;
  const originCountry = pick(random, contract.originCountries);
  const status = weighted(random, STATUS_WEIGHTS);
  const createdAt = new Date(now.getTime() - Math.floor(random() * 700 + 20) * DAY_MS);
  const year = createdAt.getUTCFullYear();
  const size = weighted(random, [
    [1, 55],
    [2, 15],
    [3, 12],
    [4, 10],
    [5, 5],
    [6, 3],
  ] as [number, number][]);
  const principalYear = year - 19 - Math.floor(random() * 35);
  const household: CaseDoc['household'] = [
    { yearOfBirth: principalYear, gender: random() < 0.7 ? 'MALE' : 'FEMALE', relation: 'PRINCIPAL' },
  ];
  for (let i = 1; i < size; i += 1) {
    household.push(
      i === 1 && random() < 0.7
        ? {
            yearOfBirth: principalYear + Math.floor(random() * 6) - 3,
            gender: household[0]!.gender === 'MALE' ? 'FEMALE' : 'MALE',
            relation: 'SPOUSE',
          }
        : { yearOfBirth: year - Math.floor(random() * 17), gender: random() < 0.5 ? 'MALE' : 'FEMALE', relation: 'CHILD' },
    );
  }
  const vulnerable = random() < 0.1;
  const vulnerability = vulnerable
    ? { unaccompaniedMinor: false, victimOfTrafficking: random() < 0.3, medicalNeeds: random() < 0.7, notes: null }
    : null;
  const id = bulkCaseId(n);
  const arrivedOn = ['ARRIVED', ...WITH_PLAN].includes(status) ? todayIso(new Date(createdAt.getTime() + 25 * DAY_MS)) : null;
  const referredAt = SHARED.has(status) ? new Date(createdAt.getTime() + DAY_MS) : null;
  const computed = computeEntitlement(
    programme,
    {
      household,
      birthMonths: household.map(() => null),
      unaccompaniedMinor: false,
      referenceDay: `${year}-07-01`,
      firstPeriodContribution: false,
    },
    createdAt,
  );
  const entitlement = sealedEntitlement(services.sealing, key, computed);
  const updatedAt = new Date(Math.min(now.getTime(), createdAt.getTime() + Math.floor(random() * 120) * DAY_MS));
  const kase: CaseDoc = {
    recordIds: noRecordIds(),
    _id: id,
    reference: '',
    memberState: contract.memberState,
    partner: contract.partner,
    sharedWithPartner: SHARED.has(status),
    units: [],
    implementingOrganisation: null,
    team: null,
    returnSupport: null,
    nationality: null,
    residenceApplication: null,
    eligibility: null,
    birthMonthsSealed: null,
    contract: SHARED.has(status) ? contract._id : null,
    programme: programme._id,
    originCountry,
    returnType: programme.returnType ?? 'VOLUNTARY',
    plannedDepartureDate: todayIso(new Date(createdAt.getTime() + 20 * DAY_MS)),
    plannedArrivalDate: todayIso(new Date(createdAt.getTime() + 21 * DAY_MS)),
    arrivedOn,
    registeredAfterReturn: false,
    household,
    needsAssessmentSealed: services.sealing.sealNeeds(key, `Bulk case ${n}: needs assessment recorded at intake.`),
    vulnerabilitySealed: services.sealing.sealVulnerability(key, vulnerability),
    consent: {
      purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA', 'MONITORING', 'EVALUATION_RESEARCH'],
      givenOn: todayIso(createdAt),
      expiresOn: todayIso(new Date(createdAt.getTime() + 730 * DAY_MS)),
      status: 'ACTIVE',
      withdrawnOn: null,
    },
    entitlement,
    status,
    statusChangedAt: updatedAt,
    referredAt,
    referralDeadline: referredAt ? new Date(referredAt.getTime() + 7 * DAY_MS) : null,
    respondedAt: referredAt && status !== 'REFERRED' && status !== 'EXPIRED' ? new Date(referredAt.getTime() + 2 * DAY_MS) : null,
    declineReason: status === 'DECLINED' ? 'No capacity in the region this month.' : null,
    closedAt: status === 'CLOSED' ? updatedAt : null,
    closureReason:
      status === 'CLOSED'
        ? weighted(random, [
            ['SUPPORT_PERIOD_ENDED', 60],
            ['OPTED_OUT', 12],
            ['LEFT_THE_AREA', 10],
            ['RE_MIGRATED', 8],
            ['NO_LONGER_ELIGIBLE', 8],
            ['DECEASED', 2],
          ])
        : null,
    closureComment: null,
    latestPlan: null,
    planInForce: null,
    ...emptyImplementation(),
    version: 1,
    createdAt,
    updatedAt,
  };
  const plans: PlanDoc[] = [];
  if (WITH_PLAN.has(status) && arrivedOn) {
    const currency = random() < 0.6 ? (CURRENCY[originCountry] ?? 'EUR') : 'EUR';
    const day = todayIso(new Date(createdAt.getTime() + 35 * DAY_MS));
    const rate = rateOn(rates, currency, day);
    const useCurrency = rate ? currency : 'EUR';
    const useRate = rate ?? '1';
    const budgetEur = Math.floor(computed.total * (0.6 + random() * 0.35));
    const local = (eurCents: number) => Math.round(eurCents * Number(useRate) * 10 ** (minorDigits(useCurrency) - 2));
    const shares = [0.35, 0.45, 0.2];
    const kinds = pick(random, [
      ['TRAINING', 'MATERIALS', 'SERVICE'],
      ['BUSINESS_PLAN', 'MATERIALS', 'SERVICE'],
      ['TRAINING', 'BUSINESS_PLAN', 'MATERIALS'],
    ] as const);
    const components: PlanComponent[] = kinds.map((kind, i) => {
      const amount = local(Math.floor(budgetEur * shares[i]!));
      const cost = { amount, currency: useCurrency };
      return {
        id: `cmp-${n}-${i}`,
        kind,
        title: {
          TRAINING: 'Vocational training',
          MATERIALS: 'Tools and stock',
          SERVICE: 'Housing support',
          BUSINESS_PLAN: 'Small business',
        }[kind],
        cost,
        costEur: Math.min(toEur(amount, useCurrency, useRate), Math.floor(budgetEur * shares[i]!)),
        training:
          kind === 'TRAINING'
            ? { provider: 'Vocational centre', course: 'Trade course', startDate: day, endDate: day, certificateExpected: true }
            : null,
        businessPlan:
          kind === 'BUSINESS_PLAN'
            ? {
                sector: 'Retail',
                description: 'A small shop',
                location: 'Home town',
                startupCosts: cost,
                expectedMonthlyIncome: { amount: Math.round(amount / 8), currency: useCurrency },
              }
            : null,
        materials:
          kind === 'MATERIALS'
            ? {
                items: [{ description: 'Tools and stock', quantity: 1, unitCost: cost }],
                supplier: 'Local supplier',
                procurement: random() < 0.2 ? 'SHIPPED' : 'LOCAL',
              }
            : null,
        service: kind === 'SERVICE' ? { category: 'HOUSING', provider: 'Landlord', description: 'Rent' } : null,
        cash: null,
      };
    });
    const totalEur = components.reduce((s, c) => s + (c.costEur ?? 0), 0);
    const planStatus =
      status === 'PLAN_SUBMITTED' ? 'SUBMITTED' : status === 'CHANGES_REQUESTED' ? 'CHANGES_REQUESTED' : 'APPROVED';
    const submittedAt = new Date(createdAt.getTime() + 35 * DAY_MS);
    plans.push({
      _id: `${id}:1`,
      caseId: id,
      memberState: kase.memberState,
      partner: kase.partner!,
      sharedWithPartner: true,
      planVersion: 1,
      status: planStatus,
      amendmentOf: null,
      summary: 'Agreed at the counselling meeting.',
      components,
      totalEur,
      cashEur: 0,
      ratesUsed: [
        {
          currency: useCurrency,
          rate: useRate,
          validFrom:
            useCurrency === 'EUR'
              ? '1970-01-01'
              : (rates.find((r) => r.currency === useCurrency && r.rate === useRate)?.validFrom ?? day),
        },
      ],
      submittedAt,
      decidedAt: planStatus === 'SUBMITTED' ? null : new Date(submittedAt.getTime() + 3 * DAY_MS),
      decisionComment: planStatus === 'CHANGES_REQUESTED' ? 'Please add a second quote.' : null,
      version: 1,
      createdAt: submittedAt,
      updatedAt: submittedAt,
    });
    kase.latestPlan = 1;
    kase.planInForce = planStatus === 'APPROVED' ? 1 : null;
  }
  return { case: kase, plans };
}
