// Demo cases carried past plan approval: progress of every kind with receipts, shipments
// in every state of their life cycle, sustainability surveys, cases in implementation,
// final-reported and closed, and cases with overdue deadlines. Dates are relative to
// today, so the demo looks current whenever it is loaded.
//
// Idempotent: every write carries a fixed idempotency key, and a write whose key is in
// the event log already (where keys are kept for good) is not made again.
import { principalFor, type Principal, type Role } from '../auth/principal.ts';
import type { StoredEvent } from '../events/event.model.ts';
import { op } from '../store/tenant.ts';
import type { EvidenceKind } from '../modules/evidence/evidence.model.ts';
import type { Services } from '../services.ts';
import { addDays } from '../modules/deadlines/calendar.ts';
import { todayIso } from '../validation.ts';
import { samplePdf, samplePng } from './sample-files.ts';

export type DemoReport = { created: Record<string, number>; existing: Record<string, number> };

const KEY_PREFIX = 'demo-progress-';
type Logged = Pick<StoredEvent, 'aggregateId' | 'data'> & { idempotencyKey: string };

type Plan = { summary: string; components: Record<string, unknown>[] };

type CaseScript = {
  name: string;
  memberState: string;
  partner: string;
  originCountry: string;
  programme: string;
  household: { yearOfBirth: number; gender: string; relation: string }[];
  /** Days before today the returnee arrived. */
  arrivedDaysAgo: number;
  plan: Plan | null;
  /** What happens between arrival and the plan's approval (arrival support, counselling). */
  beforePlan?: (c: CaseSteps) => Promise<void>;
  /** What happens after approval. */
  run?: (c: CaseSteps) => Promise<void>;
};

type CaseSteps = {
  /** The day `n` days after arrival (YYYY-MM-DD). */
  day(n: number): string;
  /** An instant on the day `n` days after arrival. */
  at(n: number, hour?: number): string;
  upload(key: string, kind: EvidenceKind, filename: string): Promise<string>;
  post(key: string, input: Record<string, unknown>, by?: 'partner' | 'state'): Promise<string>;
  ship(key: string, input: Record<string, unknown>): Promise<string>;
  visit(key: string, input: Record<string, unknown>): Promise<void>;
  report(key: string, input: Record<string, unknown>): Promise<void>;
  close(key: string, reason: 'SUPPORT_PERIOD_ENDED'): Promise<void>;
};

const materials = (id: string, title: string, currency: string, items: [string, number, number][], procurement = 'SHIPPED') => ({
  id,
  kind: 'MATERIALS',
  title,
  materials: {
    items: items.map(([description, quantity, amount]) => ({ description, quantity, unitCost: { amount, currency } })),
    supplier: 'Regional Tools Trading',
    procurement,
  },
});
const training = (id: string, amount: number, currency: string, course: string, start: string) => ({
  id,
  kind: 'TRAINING',
  title: course,
  cost: { amount, currency },
  training: {
    provider: 'Vocational Training Centre',
    course,
    startDate: start,
    endDate: addDays(start, 60),
    certificateExpected: true,
  },
});
const business = (id: string, amount: number, sector: string) => ({
  id,
  kind: 'BUSINESS_PLAN',
  title: `${sector} business`,
  businessPlan: {
    sector,
    description: `A small ${sector.toLowerCase()} business`,
    location: 'City centre',
    startupCosts: { amount, currency: 'EUR' },
    expectedMonthlyIncome: { amount: 30000, currency: 'EUR' },
  },
});

/** Answers for every survey indicator: the best, with some changed. */
function answers(changes: Record<string, string> = {}) {
  const best: Record<string, string> = {
    ECO_INCOME: 'REGULAR',
    ECO_SATISFACTION: 'SATISFIED',
    ECO_FOOD: 'NEVER',
    ECO_BORROW: 'YES',
    ECO_DEBT: 'SMALLER',
    SOC_HOUSING: 'ADEQUATE',
    SOC_EDUCATION: 'NOT_APPLICABLE',
    SOC_DOCUMENTS: 'YES',
    SOC_HEALTHCARE: 'LIMITED',
    SOC_WATER: 'ALWAYS',
    PSY_PARTICIPATION: 'SOMETIMES',
    PSY_SUPPORT: 'SEVERAL',
    PSY_SAFETY: 'MOSTLY',
    PSY_DISTRESS: 'SOMETIMES',
    PSY_BELONGING: 'PARTLY',
  };
  return Object.entries({ ...best, ...changes }).map(([indicator, answer]) => ({ indicator, answer }));
}

const note = (narrative: string, occurredOn: string, kind = 'OTHER') => ({ kind, narrative, language: 'en', occurredOn });
const purchase = (
  componentId: string,
  amount: number,
  currency: string,
  proof: string,
  occurredOn: string,
  narrative: string,
) => ({
  kind: 'PURCHASE',
  componentId,
  narrative,
  language: 'en',
  occurredOn,
  spend: { amount: { amount, currency }, proof },
});
const shipmentDetails = (tracking: string) => ({
  carrier: 'Silk Road Freight',
  trackingReference: tracking,
  origin: 'Dubai, AE',
  destination: 'Partner office',
});

/** Where each step of a shipment from Dubai to Kabul happens. */
const PLACES = { DISPATCHED: 'Dubai port', IN_TRANSIT: 'Herat', AT_CUSTOMS: 'Kabul customs', DELIVERED: 'Shop, Kabul' } as const;

const ADULTS = [
  { yearOfBirth: 1988, gender: 'MALE', relation: 'PRINCIPAL' },
  { yearOfBirth: 1990, gender: 'FEMALE', relation: 'SPOUSE' },
];

export const DEMO_PROGRESS_CASES: CaseScript[] = [
  {
    // In implementation: a lost shipment replaced and handed over, one in transit, one just ordered.
    name: 'workshop',
    memberState: 'NL',
    partner: 'P-AF-HOPE',
    originCountry: 'AF',
    programme: 'EURP-VOL',
    household: ADULTS,
    arrivedDaysAgo: 100,
    plan: {
      summary: 'Tailoring workshop with shipped machines',
      components: [
        training('course', 60000, 'EUR', 'Industrial sewing', todayIso()),
        materials('machines', 'Sewing machines', 'AFN', [['Industrial sewing machine', 2, 7650]]),
        materials('generator', 'Generator', 'AFN', [['Diesel generator 5 kVA', 1, 15300]]),
        materials('press', 'Steam press', 'AFN', [['Steam press', 1, 7650]]),
      ],
    },
    beforePlan: async (s) => {
      await s.post('arrival-support', note('Met at Kabul airport; arrival support given in kind.', s.day(2), 'ARRIVAL_SUPPORT'));
    },
    run: async (s) => {
      const receipt = await s.upload('course-invoice', 'INVOICE', 'course-invoice.pdf');
      await s.post('attendance', {
        ...note('Attends the sewing course.', s.day(20)),
        kind: 'TRAINING_ATTENDANCE',
        componentId: 'course',
      });
      await s.post('course-fee', purchase('course', 60000, 'EUR', receipt, s.day(21), 'Course fee paid to the centre.'));
      await s.post('state-call', note('Called the returnee about the course.', s.day(22), 'COUNSELLING'), 'state');
      const lost = await s.ship('machines-1-ordered', {
        componentId: 'machines',
        status: 'ORDERED',
        at: s.at(25),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-1001'),
      });
      await s.ship('machines-1-dispatched', { shipmentId: lost, status: 'DISPATCHED', at: s.at(27), place: 'Dubai port' });
      await s.ship('machines-1-lost', {
        shipmentId: lost,
        status: 'LOST',
        at: s.at(40),
        place: 'Bandar Abbas',
        note: 'Container missing',
      });
      const machines = await s.ship('machines-2-ordered', {
        componentId: 'machines',
        status: 'ORDERED',
        at: s.at(41),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-1002'),
      });
      const steps: [string, number, string][] = [
        ['DISPATCHED', 43, 'Dubai port'],
        ['IN_TRANSIT', 46, 'Herat'],
        ['AT_CUSTOMS', 50, 'Kabul customs'],
        ['DELIVERED', 55, 'Partner office, Kabul'],
      ];
      for (const [status, n, place] of steps)
        await s.ship(`machines-2-${status}`, { shipmentId: machines, status, at: s.at(n), place });
      const certificate = await s.upload('machines-handover', 'HANDOVER_CERTIFICATE', 'handover-machines.pdf');
      await s.upload('machines-photo', 'PHOTO', 'machines-installed.png');
      await s.ship('machines-2-handed-over', {
        shipmentId: machines,
        status: 'HANDED_OVER',
        at: s.at(56),
        place: 'Workshop, Kabul',
        evidence: certificate,
      });
      const generator = await s.ship('generator-ordered', {
        componentId: 'generator',
        status: 'ORDERED',
        at: s.at(80),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-1003'),
      });
      await s.ship('generator-dispatched', { shipmentId: generator, status: 'DISPATCHED', at: s.at(84), place: 'Dubai port' });
      await s.ship('generator-in-transit', { shipmentId: generator, status: 'IN_TRANSIT', at: s.at(90), place: 'Herat' });
      await s.ship('press-ordered', {
        componentId: 'press',
        status: 'ORDERED',
        at: s.at(95),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-1004'),
      });
      await s.post(
        'concern',
        note('Power cuts stop the machines most afternoons; the generator is on its way.', s.day(92), 'CONCERN'),
      );
      await s.visit('visit-1', {
        visitedOn: s.day(93),
        narrative: 'Workshop open, power is the problem.',
        language: 'en',
        answers: answers({ ECO_INCOME: 'IRREGULAR' }),
      });
    },
  },
  {
    // In implementation: a returned shipment re-ordered and dispatched, one at customs, one delivered.
    name: 'grocery',
    memberState: 'BE',
    partner: 'P-AF-HOPE',
    originCountry: 'AF',
    programme: 'EURP-VOL',
    household: ADULTS,
    arrivedDaysAgo: 70,
    plan: {
      summary: 'Grocery shop with a freezer',
      components: [
        business('shop', 120000, 'Retail'),
        materials('shelves', 'Shelving', 'AFN', [['Metal shelving unit', 4, 3825]]),
        materials('stock', 'Opening stock', 'AFN', [['Dry goods', 1, 7650]]),
        materials('freezer', 'Freezer', 'AFN', [['Chest freezer', 1, 11475]]),
      ],
    },
    beforePlan: async (s) => {
      await s.post('arrival-support', note('Arrival support given: rent and food for a month.', s.day(3), 'ARRIVAL_SUPPORT'));
    },
    run: async (s) => {
      const invoice = await s.upload('rent-invoice', 'INVOICE', 'shop-rent.pdf');
      const rent = await s.post('rent', purchase('shop', 45000, 'EUR', invoice, s.day(30), 'Shop rent, three months: 540 EUR'));
      await s.post('rent-corrected', {
        ...purchase('shop', 40500, 'EUR', invoice, s.day(30), 'Shop rent, three months: 405 EUR (typing error)'),
        corrects: rent,
      });
      await s.post('opened', { ...note('The shop opened.', s.day(35)), kind: 'BUSINESS_STARTED', componentId: 'shop' });
      const returned = await s.ship('shelves-1-ordered', {
        componentId: 'shelves',
        status: 'ORDERED',
        at: s.at(20),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-2001'),
      });
      await s.ship('shelves-1-dispatched', { shipmentId: returned, status: 'DISPATCHED', at: s.at(22), place: 'Dubai port' });
      await s.ship('shelves-1-returned', {
        shipmentId: returned,
        status: 'RETURNED',
        at: s.at(25),
        place: 'Dubai port',
        note: 'Wrong size',
      });
      const shelves = await s.ship('shelves-2-ordered', {
        componentId: 'shelves',
        status: 'ORDERED',
        at: s.at(60),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-2002'),
      });
      await s.ship('shelves-2-dispatched', { shipmentId: shelves, status: 'DISPATCHED', at: s.at(65), place: 'Dubai port' });
      const stock = await s.ship('stock-ordered', {
        componentId: 'stock',
        status: 'ORDERED',
        at: s.at(40),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-2003'),
      });
      for (const [status, n] of [
        ['DISPATCHED', 42],
        ['IN_TRANSIT', 45],
        ['AT_CUSTOMS', 50],
      ] as const)
        await s.ship(`stock-${status}`, {
          shipmentId: stock,
          status,
          at: s.at(n),
          place: PLACES[status],
        });
      const freezer = await s.ship('freezer-ordered', {
        componentId: 'freezer',
        status: 'ORDERED',
        at: s.at(30),
        place: 'Dubai',
        shipment: shipmentDetails('SRF-2004'),
      });
      for (const [status, n] of [
        ['DISPATCHED', 32],
        ['IN_TRANSIT', 35],
        ['AT_CUSTOMS', 40],
        ['DELIVERED', 48],
      ] as const)
        await s.ship(`freezer-${status}`, {
          shipmentId: freezer,
          status,
          at: s.at(n),
          place: PLACES[status],
        });
    },
  },
  {
    // Final-reported: everything bought locally, three visits, the report submitted.
    name: 'bakery',
    memberState: 'DE',
    partner: 'P-IQ-TIGRIS',
    originCountry: 'IQ',
    programme: 'EURP-VOL',
    household: [{ yearOfBirth: 1985, gender: 'FEMALE', relation: 'PRINCIPAL' }],
    arrivedDaysAgo: 400,
    plan: {
      summary: 'Home bakery',
      components: [
        training('baking', 30000, 'EUR', 'Commercial baking', todayIso()),
        materials(
          'oven',
          'Oven and tools',
          'IQD',
          [
            ['Gas oven', 1, 1_144_000],
            ['Baking trays', 10, 14_300],
          ],
          'LOCAL',
        ),
      ],
    },
    beforePlan: async (s) => {
      await s.post('arrival-support', note('Arrival support given in kind.', s.day(5), 'ARRIVAL_SUPPORT'));
      await s.post('counselling', note('Counselling on the bakery plan.', s.day(10), 'COUNSELLING'));
    },
    run: async (s) => {
      const fee = await s.upload('course-receipt', 'RECEIPT', 'course-receipt.pdf');
      await s.post('course-fee', purchase('baking', 30000, 'EUR', fee, s.day(40), 'Course fee.'));
      await s.post('completed', {
        ...note('Course completed with certificate.', s.day(100)),
        kind: 'TRAINING_COMPLETED',
        componentId: 'baking',
      });
      const oven = await s.upload('oven-receipt', 'RECEIPT', 'oven-receipt.pdf');
      await s.post('oven', purchase('oven', 1_287_000, 'IQD', oven, s.day(45), 'Oven and trays bought in Erbil.'));
      await s.visit('visit-1', {
        visitedOn: s.day(92),
        narrative: 'Baking for neighbours.',
        language: 'en',
        answers: answers({ ECO_INCOME: 'IRREGULAR', PSY_DISTRESS: 'OFTEN' }),
      });
      await s.visit('visit-2', { visitedOn: s.day(184), narrative: 'Sells to two cafés.', language: 'en', answers: answers() });
      await s.visit('visit-3', {
        visitedOn: s.day(366),
        narrative: 'Stable income.',
        language: 'en',
        answers: answers({ ECO_SATISFACTION: 'VERY_SATISFIED', PSY_DISTRESS: 'RARELY' }),
      });
      await s.report('final-report', {
        finalMeetingOn: s.day(380),
        feedback: 'The bakery covers the household’s needs.',
        language: 'en',
      });
    },
  },
  {
    // Closed after its final report.
    name: 'barber',
    memberState: 'FR',
    partner: 'P-MA-ATLAS',
    originCountry: 'MA',
    programme: 'EURP-VOL',
    household: [{ yearOfBirth: 1992, gender: 'MALE', relation: 'PRINCIPAL' }],
    arrivedDaysAgo: 420,
    plan: {
      summary: 'Barber shop',
      components: [
        materials(
          'chairs',
          'Barber chairs and tools',
          'MAD',
          [
            ['Barber chair', 2, 545_000],
            ['Tool kit', 1, 109_000],
          ],
          'LOCAL',
        ),
      ],
    },
    beforePlan: async (s) => {
      await s.post('arrival-support', note('Arrival support given.', s.day(4), 'ARRIVAL_SUPPORT'));
    },
    run: async (s) => {
      const receipt = await s.upload('chairs-receipt', 'RECEIPT', 'chairs.pdf');
      await s.post('chairs', purchase('chairs', 1_199_000, 'MAD', receipt, s.day(30), 'Chairs and tools bought in Casablanca.'));
      await s.post('started', note('The shop opened.', s.day(35)));
      await s.visit('visit-1', { visitedOn: s.day(95), narrative: 'Busy on weekends.', language: 'fr', answers: answers() });
      await s.visit('visit-2', {
        visitedOn: s.day(190),
        narrative: 'Regular clients.',
        language: 'fr',
        answers: answers({ ECO_DEBT: 'NO_DEBT' }),
      });
      await s.visit('visit-3', {
        visitedOn: s.day(370),
        narrative: 'Doing well.',
        language: 'fr',
        answers: answers({ ECO_DEBT: 'NO_DEBT', PSY_BELONGING: 'YES' }),
      });
      await s.report('final-report', { finalMeetingOn: s.day(390), feedback: 'Self-sufficient.', language: 'fr' });
      await s.close('close', 'SUPPORT_PERIOD_ENDED');
    },
  },
  {
    // Approved months ago with no visit since: the first monitoring visit is overdue.
    name: 'mechanic',
    memberState: 'NL',
    partner: 'P-NG-DELTA',
    originCountry: 'NG',
    programme: 'EURP-VOL',
    household: [{ yearOfBirth: 1991, gender: 'MALE', relation: 'PRINCIPAL' }],
    arrivedDaysAgo: 120,
    plan: { summary: 'Car repair', components: [training('mechanics', 90000, 'EUR', 'Car mechanics', todayIso())] },
    beforePlan: async (s) => {
      await s.post(
        'arrival-support',
        note('Arrival support given late: the returnee moved twice.', s.day(25), 'ARRIVAL_SUPPORT'),
      );
    },
  },
  {
    // Arrived six weeks ago: no arrival support and no plan yet, both overdue.
    name: 'waiting',
    memberState: 'NL',
    partner: 'P-AF-HOPE',
    originCountry: 'AF',
    programme: 'EURP-VOL',
    household: [{ yearOfBirth: 1999, gender: 'FEMALE', relation: 'PRINCIPAL' }],
    arrivedDaysAgo: 45,
    plan: null,
  },
];

function tally(report: DemoReport, kind: string, created: boolean): void {
  const bucket = created ? report.created : report.existing;
  bucket[kind] = (bucket[kind] ?? 0) + 1;
}

async function principalOf(services: Services, code: string, roles: Role[]): Promise<Principal> {
  const org = await services.organisations.lookup(code);
  if (!org) throw new Error(`the demo network has no organisation ${code}; seed the network first`);
  return principalFor(org, { subject: 'demo-seed', issuer: 'erin-exchange', roles });
}

export async function seedDemoProgress(
  services: Services,
  report: DemoReport = { created: {}, existing: {} },
): Promise<DemoReport> {
  const today = todayIso(services.clock.now());

  /** Runs a write once: a key already in the event log means it was made by an earlier run. */
  // The demo's writes already in the log, read at once (one query, not one per step).
  // Keys are stored as `<organisation>:<key>`: one prefix per organisation the scripts act as,
  // so each is a range of the key index, never a scan of the whole log.
  const actors = [...new Set(DEMO_PROGRESS_CASES.flatMap((s) => [s.memberState, s.partner]))].sort();
  const prior = await services.log.model
    .find({ $or: actors.map((code) => ({ idempotencyKey: op({ $regex: `^${code}:${KEY_PREFIX}` }) })) })
    .select({ idempotencyKey: 1, aggregateId: 1, data: 1 })
    .lean<Logged[]>();
  const logged = new Map(prior.map((e) => [e.idempotencyKey, e]));

  /** Runs a write once: a key already in the event log means it was made by an earlier run. */
  async function once<T>(
    p: Principal,
    key: string,
    kind: string,
    write: (key: string) => Promise<T>,
    fromLog: (event: Logged) => T,
  ): Promise<T> {
    const existing = logged.get(`${p.organisation.code}:${key}`);
    tally(report, kind, !existing);
    return existing ? fromLog(existing) : write(key);
  }
  const nothing = () => undefined;

  for (const script of DEMO_PROGRESS_CASES) {
    const state = await principalOf(services, script.memberState, ['caseworker', 'coordinator']);
    const partner = await principalOf(services, script.partner, ['partner-officer']);
    const prefix = `${KEY_PREFIX}${script.name}`;
    const arrivedOn = addDays(today, -script.arrivedDaysAgo);
    const id = await once(
      state,
      `${prefix}-create`,
      'demo cases',
      async (key) =>
        (
          await services.cases.create(
            state,
            {
              programme: script.programme,
              originCountry: script.originCountry,
              returnType: 'VOLUNTARY',
              partner: script.partner,
              household: script.household,
              needsAssessment: 'Wants to start a small business; has the skills, lacks equipment.',
              consent: {
                purposes: ['REINTEGRATION_SUPPORT', 'SPECIAL_CATEGORY_DATA', 'MONITORING', 'EVALUATION_RESEARCH'],
                givenOn: addDays(arrivedOn, -30),
                expiresOn: addDays(today, 730),
              },
            },
            key,
          )
        ).case._id,
      (e) => e.aggregateId,
    );
    const version = async () => (await services.caseStore.loadFor(state, id))!.version;
    const step = (p: Principal, name: string, write: (v: number, key: string) => Promise<unknown>) =>
      once(p, `${prefix}-${name}`, 'case steps', async (key) => void (await write(await version(), key)), nothing);

    await step(state, 'refer', (v, key) => services.cases.refer(state, id, v, key));
    await step(partner, 'accept', (v, key) =>
      services.cases.respond(partner, { id, decision: 'ACCEPT', expectedVersion: v }, key),
    );
    await step(partner, 'arrive', (v, key) => services.cases.confirmArrival(partner, { id, arrivedOn, expectedVersion: v }, key));
    const steps: CaseSteps = {
      day: (n) => addDays(arrivedOn, n),
      at: (n, hour = 10) => `${addDays(arrivedOn, n)}T${String(hour).padStart(2, '0')}:00:00Z`,
      async upload(name, kind, filename) {
        const bytes =
          kind === 'PHOTO' ? samplePng(32, 24) : samplePdf(`${kind.replace(/_/g, ' ')} - ${script.name} - ${filename}`);
        return once(
          partner,
          `${prefix}-upload-${name}`,
          'evidence files',
          async (key) => (await services.evidence.put(partner, id, { kind, filename }, bytes, key))._id,
          (e) => e.aggregateId,
        );
      },
      async post(name, input, by = 'partner') {
        const p = by === 'state' ? state : partner;
        return once(
          p,
          `${prefix}-${name}`,
          'progress updates',
          async (key) =>
            (await services.progress.post(p, { caseId: id, input, expectedVersion: await version() }, key)).update._id,
          (e) => e.data.updateId as string,
        );
      },
      async ship(name, input) {
        return once(
          partner,
          `${prefix}-ship-${name}`,
          'shipment events',
          async (key) =>
            (await services.shipments.record(partner, { caseId: id, input, expectedVersion: await version() }, key)).shipment._id,
          (e) => e.data.shipmentId as string,
        );
      },
      async visit(name, input) {
        await once(
          partner,
          `${prefix}-${name}`,
          'monitoring visits',
          async (key) =>
            void (await services.monitoring.recordVisit(partner, { caseId: id, input, expectedVersion: await version() }, key)),
          nothing,
        );
      },
      async report(name, input) {
        await once(
          partner,
          `${prefix}-${name}`,
          'final reports',
          async (key) =>
            void (await services.finalReports.submit(partner, { caseId: id, input, expectedVersion: await version() }, key)),
          nothing,
        );
      },
      async close(name, reason) {
        await step(state, name, (v, key) => services.cases.close(state, { id, reason, expectedVersion: v }, key));
      },
    };
    await script.beforePlan?.(steps);
    if (script.plan) {
      await step(partner, 'draft', (v, key) =>
        services.plans.saveDraft(partner, { caseId: id, plan: script.plan, expectedVersion: v }, key),
      );
      await step(partner, 'submit', (v, key) => services.plans.submit(partner, { caseId: id, expectedVersion: v }, key));
      await step(state, 'approve', (v, key) =>
        services.plans.decide(state, { caseId: id, decision: 'APPROVE', expectedVersion: v }, key),
      );
    }
    await script.run?.(steps);
  }
  return report;
}
