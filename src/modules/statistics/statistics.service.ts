// Statistics for the Return Experts Group: case figures by dimension, with every margin,
// protected by the cell key method (perturbation.ts; docs/statistics.md). Nothing
// case-level leaves this module.
//
// Cases are folded into their *finest cells* (every attribute a table can group or filter
// by); each finest cell gets its noise from its cell key, and every published figure is
// the sum of its finest cells' protected values. A cell is listed only when its protected
// count reaches the threshold: the decision is taken on protected figures only, since one
// taken on true counts could be read back by a series of tables around the threshold.
//
// The store's aggregation cannot compute quarters, household sizes or the join with the
// plans in force, so the cases are streamed in `_id` order next to the plans in `caseId`
// order and the record keys in `_id` order (a merge join). Memory grows with the number of
// finest cells (at most one per case) and of table cells, which are capped.
import { z } from 'zod';
import { statisticsScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import { badInput } from '../../errors.ts';
import type { Store } from '../../store/store.ts';
import { countryCode, organisationCode, parseInput } from '../../validation.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import { CASE_STATUSES } from '../cases/case.state.ts';
import type { CaseStore } from '../cases/case.store.ts';
import type { PlanDoc } from '../plans/plan.model.ts';
import type { PlanService } from '../plans/plan.service.ts';
import { createStatisticsBudget, type BudgetSettings, type BudgetState } from './budget.ts';
import { addKey, countNoise, magnitudeNoise, METHOD, position } from './perturbation.ts';
import { createRecordKeys } from './record-keys.ts';

export const DIMENSIONS = [
  'MEMBER_STATE',
  'ORIGIN_COUNTRY',
  'PROGRAMME',
  'COMPONENT_KIND',
  'STATUS',
  'CLOSURE_REASON',
  'QUARTER',
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

/** The single-valued attributes of a finest cell: every dimension but the kinds, and the return type (a filter). */
const ATTRIBUTES = ['MEMBER_STATE', 'ORIGIN_COUNTRY', 'PROGRAMME', 'STATUS', 'CLOSURE_REASON', 'QUARTER', 'RETURN_TYPE'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/** What a finest cell is made of, as published in the method. */
export const FINEST_CELL: readonly string[] = [...ATTRIBUTES, 'COMPONENT_KINDS'];

export const MAX_DIMENSIONS = 4;
/** Cells over the table and all its margins; beyond this a table identifies too little to be worth it. */
export const MAX_CELLS = 20_000;
/** Cases whose record key is claimed in one batch (the first table to count them). */
const KEY_BATCH = 500;

const quarter = z.string().regex(/^\d{4}-Q[1-4]$/, 'a quarter such as 2026-Q1');

const tableInput = z.object({
  groupBy: z
    .array(z.enum(DIMENSIONS))
    .min(1, 'at least one dimension')
    .max(MAX_DIMENSIONS, `at most ${MAX_DIMENSIONS} dimensions`)
    .refine((dims) => new Set(dims).size === dims.length, 'each dimension once'),
  filter: z
    .object({
      memberStates: z.array(organisationCode).max(50).nullish(),
      originCountries: z.array(countryCode).max(250).nullish(),
      programmes: z.array(organisationCode).max(50).nullish(),
      statuses: z.array(z.enum(CASE_STATUSES)).max(20).nullish(),
      returnType: z.enum(['VOLUNTARY', 'NON_VOLUNTARY']).nullish(),
      quarterFrom: quarter.nullish(),
      quarterTo: quarter.nullish(),
    })
    .nullish(),
});

export type TableRequest = z.input<typeof tableInput>;

const SCORE_KEYS = ['economic', 'social', 'psychosocial', 'composite'] as const;
type Scores = Record<(typeof SCORE_KEYS)[number], number>;

/** The amount not attached to any component kind (a plan's rounding, spend outside its components). */
const REST = 'REST';

/** What one case contributes; read defensively, as progress fields may not exist yet. */
type CaseFacts = {
  attributes: Record<Attribute, string>;
  /** Kinds of components in the plan in force or spent on, sorted ('NONE' without any). */
  kinds: string[];
  persons: number;
  /** EUR minor units per kind, and REST. */
  planned: Map<string, number>;
  actual: Map<string, number>;
  scores: Scores | null;
};

/** A sum and its largest single contribution (which scales its noise). */
type Magnitude = { sum: number; top: number };

/** The cases of one finest cell, before protection. */
type Finest = {
  attributes: Record<Attribute, string>;
  kinds: string[];
  key: number;
  count: number;
  persons: number;
  planned: Map<string, Magnitude>;
  actual: Map<string, Magnitude>;
  scored: number;
  scores: Record<keyof Scores, Magnitude>;
};

/** A finest cell's protected figures: the only figures tables are made of. */
type ProtectedFinest = {
  attributes: Record<Attribute, string>;
  kinds: string[];
  count: number;
  persons: number;
  planned: Map<string, number>;
  plannedTotal: number;
  actual: Map<string, number>;
  actualTotal: number;
  scored: number;
  scoreSums: Scores;
};

type CellSums = {
  coords: (string | null)[];
  count: number;
  persons: number;
  plannedEur: number;
  actualEur: number;
  scored: number;
  scoreSums: Scores;
};

export type Money = { amount: number; currency: 'EUR' };

export type StatisticsCellView = {
  coordinates: { dimension: Dimension; value: string }[];
  caseCount: number;
  persons: number;
  plannedEur: Money;
  actualEur: Money;
  meanScores: Scores | null;
};

export type StatisticsMethod = typeof METHOD & { threshold: number; finestCell: readonly string[] };

export type StatisticsTable = {
  groupBy: Dimension[];
  threshold: number;
  generatedAt: Date;
  method: StatisticsMethod;
  budget: BudgetState;
  cells: StatisticsCellView[];
  totals: StatisticsCellView[];
};

type CaseRow = Pick<
  CaseDoc,
  | '_id'
  | 'memberState'
  | 'originCountry'
  | 'programme'
  | 'status'
  | 'closureReason'
  | 'arrivedOn'
  | 'createdAt'
  | 'household'
  | 'returnType'
  | 'planInForce'
> & {
  actualEur?: unknown;
  spend?: unknown;
  latestScores?: unknown;
};

type PlanRow = Pick<PlanDoc, 'caseId' | 'planVersion' | 'totalEur' | 'components'>;

export function quarterOf(c: Pick<CaseDoc, 'arrivedOn' | 'createdAt'>): string {
  const [year, month] = c.arrivedOn
    ? [Number(c.arrivedOn.slice(0, 4)), Number(c.arrivedOn.slice(5, 7))]
    : [c.createdAt.getUTCFullYear(), c.createdAt.getUTCMonth() + 1];
  return `${year}-Q${Math.floor((month - 1) / 3) + 1}`;
}

const finite = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

function scoresOf(value: unknown): Scores | null {
  if (!value || typeof value !== 'object') return null;
  const s = value as Record<string, unknown>;
  if (!SCORE_KEYS.every((k) => typeof s[k] === 'number' && Number.isFinite(s[k]))) return null;
  return {
    economic: s.economic as number,
    social: s.social as number,
    psychosocial: s.psychosocial as number,
    composite: s.composite as number,
  };
}

const zeroScores = (): Scores => ({ economic: 0, social: 0, psychosocial: 0, composite: 0 });

function factsOf(c: CaseRow, plan: PlanRow | undefined): CaseFacts {
  const planned = new Map<string, number>();
  const actual = new Map<string, number>();
  for (const component of plan?.components ?? []) {
    planned.set(component.kind, (planned.get(component.kind) ?? 0) + finite(component.costEur));
  }
  for (const line of Array.isArray(c.spend) ? (c.spend as unknown[]) : []) {
    const { kind, actualEur } = (line ?? {}) as { kind?: unknown; actualEur?: unknown };
    if (typeof kind !== 'string') continue;
    actual.set(kind, (actual.get(kind) ?? 0) + finite(actualEur));
  }
  const kinds = [...new Set([...planned.keys(), ...actual.keys()])].sort();
  const rest = (total: number, parts: Map<string, number>) => total - [...parts.values()].reduce((a, b) => a + b, 0);
  planned.set(REST, rest(finite(plan?.totalEur), planned));
  actual.set(REST, rest(finite(c.actualEur), actual));
  return {
    attributes: {
      MEMBER_STATE: c.memberState,
      ORIGIN_COUNTRY: c.originCountry,
      PROGRAMME: c.programme,
      STATUS: c.status,
      CLOSURE_REASON: c.closureReason ?? 'NONE',
      QUARTER: quarterOf(c),
      RETURN_TYPE: c.returnType,
    },
    kinds: kinds.length > 0 ? kinds : ['NONE'],
    persons: Array.isArray(c.household) ? c.household.length : 0,
    planned,
    actual,
    scores: scoresOf(c.latestScores),
  };
}

function addMagnitude(into: Map<string, Magnitude>, kind: string, value: number) {
  const m = into.get(kind) ?? { sum: 0, top: 0 };
  m.sum += value;
  m.top = Math.max(m.top, Math.abs(value));
  into.set(kind, m);
}

/** The finest cell's figures with their noise, each measure keyed by the cell key. */
export function protect(cell: Finest): ProtectedFinest {
  const count = (n: number, measure: string) => n + countNoise(n, position(cell.key, measure));
  const magnitude = (m: Magnitude, measure: string) => m.sum + magnitudeNoise(m.top, position(cell.key, measure));
  const money = (sums: Map<string, Magnitude>, measure: string) => {
    const out = new Map<string, number>();
    for (const [kind, m] of sums) out.set(kind, magnitude(m, `${measure}:${kind}`));
    return out;
  };
  const planned = money(cell.planned, 'planned');
  const actual = money(cell.actual, 'actual');
  const total = (values: Map<string, number>) => [...values.values()].reduce((a, b) => a + b, 0);
  const scoreSums = zeroScores();
  for (const k of SCORE_KEYS) scoreSums[k] = magnitude(cell.scores[k], `score:${k}`);
  return {
    attributes: cell.attributes,
    kinds: cell.kinds,
    count: count(cell.count, 'count'),
    persons: count(cell.persons, 'persons'),
    planned,
    plannedTotal: total(planned),
    actual,
    actualTotal: total(actual),
    scored: count(cell.scored, 'scored'),
    scoreSums,
  };
}

export type StatisticsService = ReturnType<typeof createStatisticsService>;

export function createStatisticsService(deps: {
  store: Store;
  cases: CaseStore;
  plans: PlanService;
  clock: Clock;
  audit: AuditService;
  threshold: number;
  budget: BudgetSettings;
}) {
  const { store, clock, audit, threshold } = deps;
  const Cases = deps.cases.model;
  const Plans = deps.plans.model;
  const recordKeys = createRecordKeys(store, () => clock.now());
  const budget = createStatisticsBudget(store, () => clock.now(), deps.budget);
  const method: StatisticsMethod = { ...METHOD, threshold, finestCell: FINEST_CELL };
  // Two tables in one request (aliases) would cost one request for two budget units and
  // complicate what a request means; a request gets one.
  const served = new WeakSet<object>();

  /** Folds every case matching the filter into its finest cell. */
  async function finestCells(principal: Principal, filter: z.infer<typeof tableInput>['filter']) {
    const scope = statisticsScope(principal);
    const cells = new Map<string, Finest>();

    const fold = (facts: CaseFacts, recordKey: number) => {
      const id = JSON.stringify([...ATTRIBUTES.map((a) => facts.attributes[a]), facts.kinds.join('+')]);
      let cell = cells.get(id);
      if (!cell) {
        cell = {
          attributes: facts.attributes,
          kinds: facts.kinds,
          key: 0,
          count: 0,
          persons: 0,
          planned: new Map(),
          actual: new Map(),
          scored: 0,
          scores: {
            economic: { sum: 0, top: 0 },
            social: { sum: 0, top: 0 },
            psychosocial: { sum: 0, top: 0 },
            composite: { sum: 0, top: 0 },
          },
        };
        cells.set(id, cell);
      }
      cell.key = addKey(cell.key, recordKey);
      cell.count += 1;
      cell.persons += facts.persons;
      for (const [kind, value] of facts.planned) addMagnitude(cell.planned, kind, value);
      for (const [kind, value] of facts.actual) addMagnitude(cell.actual, kind, value);
      if (facts.scores) {
        cell.scored += 1;
        for (const k of SCORE_KEYS) {
          cell.scores[k].sum += facts.scores[k];
          cell.scores[k].top = Math.max(cell.scores[k].top, Math.abs(facts.scores[k]));
        }
      }
    };

    const keep = (facts: CaseFacts) =>
      (!filter?.memberStates?.length || filter.memberStates.includes(facts.attributes.MEMBER_STATE)) &&
      (!filter?.originCountries?.length || filter.originCountries.includes(facts.attributes.ORIGIN_COUNTRY)) &&
      (!filter?.programmes?.length || filter.programmes.includes(facts.attributes.PROGRAMME)) &&
      (!filter?.statuses?.length || (filter.statuses as string[]).includes(facts.attributes.STATUS)) &&
      (!filter?.returnType || filter.returnType === facts.attributes.RETURN_TYPE) &&
      (!filter?.quarterFrom || facts.attributes.QUARTER >= filter.quarterFrom) &&
      (!filter?.quarterTo || facts.attributes.QUARTER <= filter.quarterTo);

    const caseCursor = Cases.find({})
      .setOptions({ scope })
      .select(
        'memberState originCountry programme status closureReason arrivedOn createdAt household returnType planInForce actualEur spend latestScores',
      )
      .sort({ _id: 1 })
      .lean<CaseRow[]>()
      .cursor({ batchSize: 1000 });
    const planCursor = Plans.find({})
      .setOptions({ scope })
      .select('caseId planVersion totalEur components.kind components.costEur')
      .sort({ caseId: 1, planVersion: 1 })
      .lean<PlanRow[]>()
      .cursor({ batchSize: 1000 });
    const keyCursor = recordKeys.cursor();
    const keyless: { id: string; facts: CaseFacts }[] = [];
    const claimKeys = async () => {
      const keys = await recordKeys.claim(keyless.map((k) => k.id));
      for (const { id, facts } of keyless) fold(facts, keys.get(id)!);
      keyless.length = 0;
    };
    try {
      // The three queries start together; then each advances as the merge needs it.
      let [c, plan, key] = await Promise.all([caseCursor.next(), planCursor.next(), keyCursor.next()]);
      for (; c; c = await caseCursor.next()) {
        let inForce: PlanRow | undefined;
        while (plan && plan.caseId <= c._id) {
          if (plan.caseId === c._id && plan.planVersion === c.planInForce) inForce = plan;
          plan = await planCursor.next();
        }
        while (key && key._id < c._id) key = await keyCursor.next();
        const facts = factsOf(c, inForce);
        if (!keep(facts)) continue;
        if (key && key._id === c._id) fold(facts, key.key);
        else {
          keyless.push({ id: c._id, facts });
          if (keyless.length >= KEY_BATCH) await claimKeys();
        }
      }
      if (keyless.length > 0) await claimKeys();
    } finally {
      await Promise.all([caseCursor.close(), planCursor.close(), keyCursor.close()]);
    }
    return cells;
  }

  /** The table and all its margins, each cell the sum of its protected finest cells. */
  function tabulate(groupBy: Dimension[], finest: Iterable<ProtectedFinest>): Map<string, CellSums> {
    const cells = new Map<string, CellSums>();
    const masks = Array.from({ length: 2 ** groupBy.length }, (_, m) => m);
    const kindAt = groupBy.indexOf('COMPONENT_KIND');
    const add = (coords: (string | null)[], f: ProtectedFinest, planned: number, actual: number) => {
      const id = JSON.stringify(coords);
      let cell = cells.get(id);
      if (!cell) {
        if (cells.size >= MAX_CELLS) {
          throw badInput(`This table would have more than ${MAX_CELLS} cells; group by fewer dimensions or filter.`, [
            { path: 'groupBy', message: 'too many cells' },
          ]);
        }
        cell = { coords, count: 0, persons: 0, plannedEur: 0, actualEur: 0, scored: 0, scoreSums: zeroScores() };
        cells.set(id, cell);
      }
      cell.count += f.count;
      cell.persons += f.persons;
      cell.plannedEur += planned;
      cell.actualEur += actual;
      cell.scored += f.scored;
      for (const k of SCORE_KEYS) cell.scoreSums[k] += f.scoreSums[k];
    };
    for (const f of finest) {
      for (const mask of masks) {
        const coords = groupBy.map((d, i) => (mask & (1 << i) && d !== 'COMPONENT_KIND' ? f.attributes[d] : null));
        if (kindAt >= 0 && mask & (1 << kindAt)) {
          // A case counts once under each kind of component it has, with that kind's amounts.
          for (const kind of f.kinds) {
            add(
              coords.map((v, i) => (i === kindAt ? kind : v)),
              f,
              f.planned.get(kind) ?? 0,
              f.actual.get(kind) ?? 0,
            );
          }
        } else {
          add(coords, f, f.plannedTotal, f.actualTotal);
        }
      }
    }
    return cells;
  }

  function view(groupBy: Dimension[], cell: CellSums): StatisticsCellView {
    const coordinates = groupBy.flatMap((dimension, i) => {
      const value = cell.coords[i];
      return value === null || value === undefined ? [] : [{ dimension, value }];
    });
    const mean = (k: keyof Scores) => Math.round(Math.min(1, Math.max(0, cell.scoreSums[k] / cell.scored)) * 100) / 100;
    const euros = (amount: number): Money => ({ amount: Math.max(0, Math.round(amount)), currency: 'EUR' });
    return {
      coordinates,
      caseCount: cell.count,
      persons: cell.persons,
      plannedEur: euros(cell.plannedEur),
      actualEur: euros(cell.actualEur),
      // A mean over fewer people than the threshold would describe them, not a group.
      meanScores:
        cell.scored >= threshold
          ? {
              economic: mean('economic'),
              social: mean('social'),
              psychosocial: mean('psychosocial'),
              composite: mean('composite'),
            }
          : null,
    };
  }

  return {
    threshold,
    method,

    /**
     * The table, protected, charged to the analyst's budget and recorded as an export before
     * it is returned. Over GraphQL, `via.request` identifies the request, which gets one table.
     */
    async table(
      principal: Principal,
      request: TableRequest,
      via: { channel: 'cli' } | { channel: 'graphql'; request: object },
    ): Promise<StatisticsTable> {
      statisticsScope(principal);
      if ('request' in via) {
        if (served.has(via.request)) {
          throw badInput('One statistics table per request.', [{ path: 'statistics', message: 'asked for twice' }]);
        }
        served.add(via.request);
      }
      const { groupBy, filter } = parseInput(tableInput, request);
      const charged = await budget.charge(principal);
      const finest = await finestCells(principal, filter);
      const cells = tabulate(
        groupBy,
        [...finest.values()].map((f) => protect(f)),
      );
      // Only cells whose protected count reaches the threshold: an absent cell says nothing
      // more than that, and nothing about whether its combination exists.
      const listed = [...cells.entries()].filter(([, c]) => c.count >= threshold);
      const full = (c: CellSums) => c.coords.every((v) => v !== null);
      const depth = (c: CellSums) => c.coords.filter((v) => v !== null).length;
      listed.sort(([ka, a], [kb, b]) => depth(a) - depth(b) || (ka < kb ? -1 : 1));
      const table: StatisticsTable = {
        groupBy,
        threshold,
        generatedAt: clock.now(),
        method,
        budget: charged,
        cells: listed.filter(([, c]) => full(c)).map(([, c]) => view(groupBy, c)),
        totals: listed.filter(([, c]) => !full(c)).map(([, c]) => view(groupBy, c)),
      };
      await audit.recordExport(principal, {
        channel: via.channel,
        groupBy,
        filter: filter ?? {},
        cells: cells.size,
        listed: listed.length,
        budgetUsed: charged.used,
      });
      return table;
    },

    /** Housekeeping: budget claims of finished periods. */
    purgeBudgetClaims: () => budget.purge(),
  };
}
