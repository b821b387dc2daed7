// Statistics for the Return Experts Group: case figures by dimension, with every margin,
// small cells suppressed (suppression.ts). Nothing case-level leaves this module.
//
// The store's aggregation cannot compute quarters, household sizes or the join with the
// plans in force, so the cases are streamed in `_id` order next to the plans in `caseId`
// order (a merge join) and folded into cells here: memory grows with the number of cells,
// never with the number of cases, and a table with too many cells is refused.
import { z } from 'zod';
import { statisticsScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Clock } from '../../clock.ts';
import { badInput } from '../../errors.ts';
import { countryCode, organisationCode, parseInput } from '../../validation.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import { CASE_STATUSES } from '../cases/case.state.ts';
import type { CaseStore } from '../cases/case.store.ts';
import type { PlanDoc } from '../plans/plan.model.ts';
import type { PlanService } from '../plans/plan.service.ts';
import { cellKey, suppress, TooFineGrained, type TableCell } from './suppression.ts';

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

export const MAX_DIMENSIONS = 4;
/** Cells over the table and all its margins; beyond this a table identifies too little to be worth it. */
export const MAX_CELLS = 20_000;

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

type Scores = { economic: number; social: number; psychosocial: number; composite: number };

/** What a case contributes; read defensively, as progress fields may not exist yet. */
type CaseFacts = {
  coords: Record<Exclude<Dimension, 'COMPONENT_KIND'>, string>;
  persons: number;
  plannedEur: number;
  actualEur: number;
  scores: Scores | null;
  /** Per component kind in the plan in force: planned and actual EUR. */
  kinds: Map<string, { plannedEur: number; actualEur: number }>;
};

type Accumulator = TableCell & {
  persons: number;
  plannedEur: number;
  actualEur: number;
  scored: number;
  sums: Scores;
};

export type Money = { amount: number; currency: 'EUR' };

export type StatisticsCellView = {
  coordinates: { dimension: Dimension; value: string }[];
  suppressed: boolean;
  caseCount: number | null;
  persons: number | null;
  plannedEur: Money | null;
  actualEur: Money | null;
  meanScores: Scores | null;
};

export type StatisticsTable = {
  groupBy: Dimension[];
  threshold: number;
  generatedAt: Date;
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
  const keys = ['economic', 'social', 'psychosocial', 'composite'] as const;
  if (!keys.every((k) => typeof s[k] === 'number' && Number.isFinite(s[k]))) return null;
  return {
    economic: s.economic as number,
    social: s.social as number,
    psychosocial: s.psychosocial as number,
    composite: s.composite as number,
  };
}

function factsOf(c: CaseRow, plan: PlanRow | undefined): CaseFacts {
  const kinds = new Map<string, { plannedEur: number; actualEur: number }>();
  for (const component of plan?.components ?? []) {
    const entry = kinds.get(component.kind) ?? { plannedEur: 0, actualEur: 0 };
    entry.plannedEur += finite(component.costEur);
    kinds.set(component.kind, entry);
  }
  for (const line of Array.isArray(c.spend) ? (c.spend as unknown[]) : []) {
    const { kind, actualEur } = (line ?? {}) as { kind?: unknown; actualEur?: unknown };
    if (typeof kind !== 'string') continue;
    const entry = kinds.get(kind) ?? { plannedEur: 0, actualEur: 0 };
    entry.actualEur += finite(actualEur);
    kinds.set(kind, entry);
  }
  if (kinds.size === 0) kinds.set('NONE', { plannedEur: 0, actualEur: 0 });
  return {
    coords: {
      MEMBER_STATE: c.memberState,
      ORIGIN_COUNTRY: c.originCountry,
      PROGRAMME: c.programme,
      STATUS: c.status,
      CLOSURE_REASON: c.closureReason ?? 'NONE',
      QUARTER: quarterOf(c),
    },
    persons: Array.isArray(c.household) ? c.household.length : 0,
    plannedEur: finite(plan?.totalEur),
    actualEur: finite(c.actualEur),
    scores: scoresOf(c.latestScores),
    kinds,
  };
}

export type StatisticsService = ReturnType<typeof createStatisticsService>;

export function createStatisticsService(deps: {
  cases: CaseStore;
  plans: PlanService;
  clock: Clock;
  audit: AuditService;
  threshold: number;
}) {
  const { clock, audit, threshold } = deps;
  const Cases = deps.cases.model;
  const Plans = deps.plans.model;
  // Two tables in one request (aliases) could be differenced against each other; each
  // table protects itself and its own margins, so a request gets one.
  const served = new WeakSet<object>();

  /** Folds every case matching the filter into the cells of the table and all its margins. */
  async function aggregate(principal: Principal, groupBy: Dimension[], filter: z.infer<typeof tableInput>['filter']) {
    const scope = statisticsScope(principal);
    const cells = new Map<string, Accumulator>();
    const masks = Array.from({ length: 2 ** groupBy.length }, (_, m) => m);
    const kindAt = groupBy.indexOf('COMPONENT_KIND');

    const add = (
      coords: (string | null)[],
      count: number,
      persons: number,
      planned: number,
      actual: number,
      scores: Scores | null,
    ) => {
      const key = cellKey(coords);
      let cell = cells.get(key);
      if (!cell) {
        if (cells.size >= MAX_CELLS) {
          throw badInput(`This table would have more than ${MAX_CELLS} cells; group by fewer dimensions or filter.`, [
            { path: 'groupBy', message: 'too many cells' },
          ]);
        }
        cell = {
          coords,
          count: 0,
          persons: 0,
          plannedEur: 0,
          actualEur: 0,
          scored: 0,
          sums: { economic: 0, social: 0, psychosocial: 0, composite: 0 },
        };
        cells.set(key, cell);
      }
      cell.count += count;
      cell.persons += persons;
      cell.plannedEur += planned;
      cell.actualEur += actual;
      if (scores) {
        cell.scored += 1;
        for (const k of ['economic', 'social', 'psychosocial', 'composite'] as const) cell.sums[k] += scores[k];
      }
    };

    const keep = (c: CaseRow, facts: CaseFacts) =>
      (!filter?.memberStates?.length || filter.memberStates.includes(c.memberState)) &&
      (!filter?.originCountries?.length || filter.originCountries.includes(c.originCountry)) &&
      (!filter?.programmes?.length || filter.programmes.includes(c.programme)) &&
      (!filter?.statuses?.length || filter.statuses.includes(c.status)) &&
      (!filter?.returnType || filter.returnType === c.returnType) &&
      (!filter?.quarterFrom || facts.coords.QUARTER >= filter.quarterFrom) &&
      (!filter?.quarterTo || facts.coords.QUARTER <= filter.quarterTo);

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
    let plan = await planCursor.next();
    try {
      for (let c = await caseCursor.next(); c; c = await caseCursor.next()) {
        let inForce: PlanRow | undefined;
        while (plan && plan.caseId <= c._id) {
          if (plan.caseId === c._id && plan.planVersion === c.planInForce) inForce = plan;
          plan = await planCursor.next();
        }
        const facts = factsOf(c, inForce);
        if (!keep(c, facts)) continue;
        for (const mask of masks) {
          const coords = groupBy.map((d, i) => (mask & (1 << i) && d !== 'COMPONENT_KIND' ? facts.coords[d] : null));
          if (kindAt >= 0 && mask & (1 << kindAt)) {
            // A case counts once under each kind of component it has.
            for (const [kind, money] of facts.kinds) {
              const withKind = coords.map((v, i) => (i === kindAt ? kind : v));
              add(withKind, 1, facts.persons, money.plannedEur, money.actualEur, facts.scores);
            }
          } else {
            add(coords, 1, facts.persons, facts.plannedEur, facts.actualEur, facts.scores);
          }
        }
      }
    } finally {
      await caseCursor.close();
      await planCursor.close();
    }
    return cells;
  }

  function view(groupBy: Dimension[], cell: Accumulator, hidden: boolean): StatisticsCellView {
    const coordinates = groupBy.flatMap((dimension, i) => {
      const value = cell.coords[i];
      return value === null || value === undefined ? [] : [{ dimension, value }];
    });
    if (hidden) {
      return {
        coordinates,
        suppressed: true,
        caseCount: null,
        persons: null,
        plannedEur: null,
        actualEur: null,
        meanScores: null,
      };
    }
    const mean = (k: keyof Scores) => Math.round((cell.sums[k] / cell.scored) * 100) / 100;
    return {
      coordinates,
      suppressed: false,
      caseCount: cell.count,
      persons: cell.persons,
      plannedEur: { amount: cell.plannedEur, currency: 'EUR' },
      actualEur: { amount: cell.actualEur, currency: 'EUR' },
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

    /**
     * The table, protected, and recorded as an export before it is returned. Over GraphQL,
     * `via.request` identifies the request, which gets one table.
     */
    async table(
      principal: Principal,
      request: TableRequest,
      via: { channel: 'cli' } | { channel: 'graphql'; request: object },
    ): Promise<StatisticsTable> {
      statisticsScope(principal);
      if ('request' in via) {
        if (served.has(via.request)) {
          throw badInput('One statistics table per request: its cells are protected together with its own totals only.', [
            { path: 'statistics', message: 'asked for twice' },
          ]);
        }
        served.add(via.request);
      }
      const { groupBy, filter } = parseInput(tableInput, request);
      const cells = await aggregate(principal, groupBy, filter);
      let hidden: Set<string>;
      try {
        hidden = suppress(cells, threshold);
      } catch (error) {
        if (!(error instanceof TooFineGrained)) throw error;
        throw badInput('Too many cells of this table would have to be suppressed; group by fewer dimensions or filter.', [
          { path: 'groupBy', message: 'too fine-grained' },
        ]);
      }
      const full = (c: Accumulator) => c.coords.every((v) => v !== null);
      const depth = (c: Accumulator) => c.coords.filter((v) => v !== null).length;
      const ordered = [...cells.entries()].sort(([ka, a], [kb, b]) => depth(a) - depth(b) || (ka < kb ? -1 : 1));
      const table: StatisticsTable = {
        groupBy,
        threshold,
        generatedAt: clock.now(),
        cells: ordered.filter(([, c]) => full(c)).map(([k, c]) => view(groupBy, c, hidden.has(k))),
        totals: ordered.filter(([, c]) => !full(c)).map(([k, c]) => view(groupBy, c, hidden.has(k))),
      };
      await audit.recordExport(principal, {
        channel: via.channel,
        groupBy,
        filter: filter ?? {},
        cells: cells.size,
        suppressed: hidden.size,
      });
      return table;
    },
  };
}
