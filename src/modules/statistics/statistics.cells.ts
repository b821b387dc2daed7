// The pure part of the statistics: a case's facts, the finest cells they fold into, each
// finest cell's protected values (cell key method, perturbation.ts), and the table with all
// its margins summed from protected finest cells. No store, no principal: statistics.service.ts
// reads the cases and decides who may ask.
import { badInput } from '../../errors.ts';
import { quarterOfMonth } from '../../clock.ts';
import { CASE_STATUSES } from '../cases/case.state.ts';
import { CLOSURE_REASONS, type CaseDoc } from '../cases/case.model.ts';
import type { PlanDoc } from '../plans/plan.model.ts';
import { COMPONENT_KINDS } from '../plans/plan.rules.ts';
import { countNoise, magnitudeNoise, position, scrambleKey } from './perturbation.ts';

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
export const ATTRIBUTES = [
  'MEMBER_STATE',
  'ORIGIN_COUNTRY',
  'PROGRAMME',
  'STATUS',
  'CLOSURE_REASON',
  'QUARTER',
  'RETURN_TYPE',
] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

/** What a finest cell is made of, as published in the method. */
export const FINEST_CELL: readonly string[] = [...ATTRIBUTES, 'COMPONENT_KINDS'];

/**
 * Cells over the table and all its margins; beyond this a table identifies too little to be
 * worth it. Counted on the request (declaredCells), never on the cases: a refusal that
 * depended on which combinations exist would tell whether one does.
 */
export const MAX_CELLS = 20_000;

/** ISO 3166-1 alpha-2 codes officially assigned: the countries a case can come from. */
export const ORIGIN_COUNTRIES = 249;

/** Quarters a table spans when its filter bounds them on one side or neither: fifteen years. */
export const QUARTER_WINDOW = 60;

export const SCORE_KEYS = ['economic', 'social', 'psychosocial', 'composite'] as const;
export type Scores = Record<(typeof SCORE_KEYS)[number], number>;

/** The amount not attached to any component kind (a plan's rounding, spend outside its components). */
const REST = 'REST';

/** What one case contributes; read defensively, as progress fields may not exist yet. */
export type CaseFacts = {
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
export type Magnitude = { sum: number; top: number };

/** The cases of one finest cell, before protection. */
export type Finest = {
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
export type ProtectedFinest = {
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

export type CellSums = {
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

export type CaseRow = Pick<
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

export type PlanRow = Pick<PlanDoc, 'caseId' | 'planVersion' | 'totalEur' | 'components'>;

export function quarterOf(c: Pick<CaseDoc, 'arrivedOn' | 'createdAt'>): string {
  return quarterOfMonth((c.arrivedOn ?? c.createdAt.toISOString()).slice(0, 7));
}

/** A quarter such as 2026-Q4 as a count of quarters, to measure ranges. */
const quarterIndex = (q: string) => Number(q.slice(0, 4)) * 4 + Number(q.slice(6)) - 1;

/** What a table may be filtered by (validated by the service). */
export type TableFilter = {
  memberStates?: string[] | null;
  originCountries?: string[] | null;
  programmes?: string[] | null;
  statuses?: string[] | null;
  returnType?: string | null;
  quarterFrom?: string | null;
  quarterTo?: string | null;
};

/** What the network declares, not what its cases hold: the directory's sizes and today's quarter. */
export type Declared = { memberStates: number; programmes: number; today: Date };

/**
 * How many values a dimension can take in a table with this filter: the filter's values, or
 * every value the network declares (the directory's member states and programmes, the
 * countries, kinds, statuses and closure reasons of the schema, NONE included, and the
 * quarters of the requested range, QUARTER_WINDOW of them up to its end when it has no start).
 * Never what the cases hold.
 */
export function declaredDomain(dimension: Dimension, filter: TableFilter | null | undefined, declared: Declared): number {
  const chosen = (values: string[] | null | undefined, otherwise: number) => (values?.length ? new Set(values).size : otherwise);
  switch (dimension) {
    case 'MEMBER_STATE':
      return chosen(filter?.memberStates, declared.memberStates);
    case 'ORIGIN_COUNTRY':
      return chosen(filter?.originCountries, ORIGIN_COUNTRIES);
    case 'PROGRAMME':
      return chosen(filter?.programmes, declared.programmes);
    case 'COMPONENT_KIND':
      return COMPONENT_KINDS.length + 1;
    case 'STATUS':
      return chosen(filter?.statuses, CASE_STATUSES.length);
    case 'CLOSURE_REASON':
      return CLOSURE_REASONS.length + 1;
    case 'QUARTER': {
      const today = quarterOfMonth(declared.today.toISOString().slice(0, 7));
      const to = quarterIndex(filter?.quarterTo ?? today);
      const from = filter?.quarterFrom ? quarterIndex(filter.quarterFrom) : to - QUARTER_WINDOW + 1;
      return Math.max(0, to - from + 1);
    }
  }
}

/** The cells of a table and all its margins, counted on its request: Π (values + 1) over its dimensions. */
export const declaredCells = (groupBy: Dimension[], filter: TableFilter | null | undefined, declared: Declared) =>
  groupBy.reduce((cells, d) => cells * (declaredDomain(d, filter, declared) + 1), 1);

/** BAD_USER_INPUT for a table over more than MAX_CELLS cells, decided on the request alone. */
export function assertTableSize(groupBy: Dimension[], filter: TableFilter | null | undefined, declared: Declared): number {
  const cells = declaredCells(groupBy, filter, declared);
  if (cells > MAX_CELLS) {
    throw badInput(
      `This table and its margins would span ${cells} cells (counted on the values each dimension can take), more than ${MAX_CELLS}; group by fewer dimensions or filter.`,
      [{ path: 'groupBy', message: 'too many cells' }],
    );
  }
  return cells;
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

export function factsOf(c: CaseRow, plan: PlanRow | undefined): CaseFacts {
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

export function addMagnitude(into: Map<string, Magnitude>, kind: string, value: number) {
  const m = into.get(kind) ?? { sum: 0, top: 0 };
  m.sum += value;
  m.top = Math.max(m.top, Math.abs(value));
  into.set(kind, m);
}

/**
 * The finest cell's figures with their noise, each measure keyed by the cell key scrambled
 * under the deployment's secret (perturbation.ts, scrambleKey). The count
 * changes only with the cases, hence with the key; every other measure can change while the
 * cases stay (a purchase posted, a household member added, a survey recorded), so its
 * position is keyed by its true value too: noise keyed by the cases alone would be the same
 * before and after, and the difference of two tables would give the change back exactly.
 */
export function protect(cell: Finest, secret: Uint8Array): ProtectedFinest {
  const key = scrambleKey(secret, cell.key);
  // To 12 digits: a sum of scores may differ in its last bits with the order its cases were added.
  const at = (measure: string, ...truth: number[]) =>
    position(key, measure === 'count' ? measure : `${measure}=${truth.map((v) => v.toPrecision(12)).join('/')}`);
  const count = (n: number, measure: string) => n + countNoise(n, at(measure, n));
  const magnitude = (m: Magnitude, measure: string) => m.sum + magnitudeNoise(m.top, at(measure, m.sum, m.top));
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

/** The table and all its margins, each cell the sum of its protected finest cells. */
export function tabulate(groupBy: Dimension[], finest: Iterable<ProtectedFinest>): Map<string, CellSums> {
  const cells = new Map<string, CellSums>();
  const masks = Array.from({ length: 2 ** groupBy.length }, (_, m) => m);
  const kindAt = groupBy.indexOf('COMPONENT_KIND');
  const add = (coords: (string | null)[], f: ProtectedFinest, planned: number, actual: number) => {
    const id = JSON.stringify(coords);
    let cell = cells.get(id);
    if (!cell) {
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

export function view(groupBy: Dimension[], cell: CellSums, threshold: number): StatisticsCellView {
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
