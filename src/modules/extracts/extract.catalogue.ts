// The fixed catalogue of variables a researcher may ask for in an evaluation extract. Each
// variable says how it is read from a case and, for a quasi-identifier (something an
// outsider might know about a person: where from, age, household, when), how it is
// generalised level by level until it says nothing (`*`). Dates are months at best. Amounts,
// scores, kinds of support and the status are quasi-identifiers too: a value nearly unique per
// case would join two extracts row by row (their pseudonyms notwithstanding), and the partner
// and the member state know them. The closure reason alone is released as it is (see
// extract.anonymise.ts for what keeps it from being told of a whole combination).
// Special-category data (needs, vulnerability) and free text are not in the catalogue.
import { countries } from 'countries-list';
import type { CaseDoc, HouseholdMember, SustainabilityScores } from '../cases/case.model.ts';
import { quarterOfMonth } from '../../clock.ts';

export const EXTRACT_VARIABLES = [
  'MEMBER_STATE',
  'ORIGIN_COUNTRY',
  'GENDER',
  'AGE_GROUP',
  'HOUSEHOLD_SIZE',
  'RETURN_MONTH',
  'REGISTRATION_MONTH',
  'RETURN_TYPE',
  'PROGRAMME',
  'STATUS',
  'CLOSURE_REASON',
  'COMPONENT_KINDS',
  'PLANNED_EUR',
  'ACTUAL_EUR',
  'SUSTAINABILITY_SCORES',
] as const;
export type ExtractVariable = (typeof EXTRACT_VARIABLES)[number];

/** The fields of a case the catalogue reads as they are. */
export type SourceCaseField =
  | 'memberState'
  | 'originCountry'
  | 'programme'
  | 'returnType'
  | 'status'
  | 'closureReason'
  | 'household'
  | 'arrivedOn'
  | 'createdAt'
  | 'actualEur'
  | 'latestScores';

/**
 * What the builder knows of one case: the case and its plan in force, if any (as frozen with
 * its block: extract.blocks.ts).
 */
export type SourceCase = Pick<CaseDoc, SourceCaseField> & {
  /** The kinds of the plan components spent on. */
  spendKinds: string[];
  plan: { totalEur: number | null; kinds: string[] } | null;
};

/** The value that says nothing: the top of every generalisation. */
export const SUPPRESSED = '*';

/** Joins the columns of a quasi-identifier that gives several (its value at each level is one string). */
export const COLUMN_SEPARATOR = '\u0002';

type Definition = {
  description: string;
  columns: string[];
} & (
  | {
      quasiIdentifier: true;
      /** What each level keeps, from the finest (0) to `suppressed`. */
      levels: string[];
      /**
       * The value at each level but the last (which is always `*`); a variable of several
       * columns joins them with COLUMN_SEPARATOR.
       */
      values: (c: SourceCase) => string[];
    }
  | { quasiIdentifier: false; values: (c: SourceCase) => string[] }
);

const month = (iso: string) => iso.slice(0, 7);
/** A month, its quarter, its year ('' stays '' at every level: not returned yet). */
const monthLevels = (m: string | null): string[] => (m ? [m, quarterOfMonth(m), m.slice(0, 4)] : ['', '', '']);

function principalOf(household: HouseholdMember[]): HouseholdMember | undefined {
  return household.find((h) => h.relation === 'PRINCIPAL') ?? household[0];
}

/** The principal's age in the year of return (or of registration, before return). */
function ageOf(c: SourceCase): number | null {
  const person = principalOf(c.household ?? []);
  if (!person || !Number.isInteger(person.yearOfBirth)) return null;
  const year = c.arrivedOn ? Number(c.arrivedOn.slice(0, 4)) : c.createdAt.getUTCFullYear();
  const age = year - person.yearOfBirth;
  return age >= 0 && age < 130 ? age : null;
}

function band(age: number, width: number, top: number): string {
  if (age >= top) return `${top}+`;
  const low = Math.floor(age / width) * width;
  return `${low}-${low + width - 1}`;
}

/**
 * Whole euros to the nearest ten, its 100-euro band and its 500-euro band ('' at every level
 * without an amount): an exact amount could be matched against other records.
 */
const euroLevels = (minorUnits: number | null | undefined): string[] => {
  if (typeof minorUnits !== 'number' || !Number.isFinite(minorUnits)) return ['', '', ''];
  const tens = Math.round(minorUnits / 1000) * 10;
  const euroBand = (width: number) => {
    const low = Math.floor(tens / width) * width;
    return `${low}-${low + width - 1}`;
  };
  return [String(tens), euroBand(100), euroBand(500)];
};

const SCORE_KEYS = ['economic', 'social', 'psychosocial', 'composite'] as const satisfies (keyof SustainabilityScores)[];

/** The four scores to two decimals, to one, the composite alone to one ('' in every column before a survey). */
const scoreLevels = (scores: SustainabilityScores | null): string[] => {
  const values = SCORE_KEYS.map((key) => scores?.[key]);
  const levels = values.every((v): v is number => typeof v === 'number' && Number.isFinite(v))
    ? [
        values.map((v) => v.toFixed(2)),
        values.map((v) => v.toFixed(1)),
        [SUPPRESSED, SUPPRESSED, SUPPRESSED, values[3]!.toFixed(1)],
      ]
    : [0, 1, 2].map(() => SCORE_KEYS.map(() => ''));
  return levels.map((columns) => columns.join(COLUMN_SEPARATOR));
};

/** A status's stage of the workflow. */
const STAGES: Record<string, string> = {
  REFERRED: 'REFERRAL',
  ACCEPTED: 'REFERRAL',
  DECLINED: 'REFERRAL',
  EXPIRED: 'REFERRAL',
  DEPARTED: 'RETURN',
  ARRIVED: 'RETURN',
  PLAN_SUBMITTED: 'PLAN',
  CHANGES_REQUESTED: 'PLAN',
  PLAN_APPROVED: 'PLAN',
  IN_IMPLEMENTATION: 'IMPLEMENTATION',
  FINAL_REPORTED: 'IMPLEMENTATION',
  CLOSED: 'CLOSED',
};

export const CATALOGUE: Record<ExtractVariable, Definition> = {
  MEMBER_STATE: {
    description: 'The member state that referred the case.',
    columns: ['member_state'],
    quasiIdentifier: true,
    levels: ['member state', 'suppressed'],
    values: (c) => [c.memberState],
  },
  ORIGIN_COUNTRY: {
    description: 'The country of return (ISO 3166 alpha-2), generalised to its continent when needed.',
    columns: ['origin_country'],
    quasiIdentifier: true,
    levels: ['country', 'continent', 'suppressed'],
    values: (c) => [c.originCountry, countries[c.originCountry as keyof typeof countries]?.continent ?? 'unknown'],
  },
  GENDER: {
    description: 'The gender of the principal returnee.',
    columns: ['gender'],
    quasiIdentifier: true,
    levels: ['gender', 'suppressed'],
    values: (c) => [principalOf(c.household ?? [])?.gender ?? 'UNDISCLOSED'],
  },
  AGE_GROUP: {
    description: 'The principal returnee’s age in the year of return (of registration before return), in bands.',
    columns: ['age_group'],
    quasiIdentifier: true,
    levels: ['5-year band', '10-year band', '20-year band', 'suppressed'],
    values: (c) => {
      const age = ageOf(c);
      return age === null ? ['unknown', 'unknown', 'unknown'] : [band(age, 5, 80), band(age, 10, 80), band(age, 20, 60)];
    },
  },
  HOUSEHOLD_SIZE: {
    description: 'People in the household that returned together.',
    columns: ['household_size'],
    quasiIdentifier: true,
    levels: ['1 to 6+', '1, 2-3, 4+', 'suppressed'],
    values: (c) => {
      const n = c.household?.length ?? 0;
      return [n >= 6 ? '6+' : String(n), n <= 1 ? String(n) : n <= 3 ? '2-3' : '4+'];
    },
  },
  RETURN_MONTH: {
    description: 'The month of return (arrival); empty when the person has not returned yet.',
    columns: ['return_month'],
    quasiIdentifier: true,
    levels: ['month', 'quarter', 'year', 'suppressed'],
    values: (c) => monthLevels(c.arrivedOn ? month(c.arrivedOn) : null),
  },
  REGISTRATION_MONTH: {
    description: 'The month the case was registered.',
    columns: ['registration_month'],
    quasiIdentifier: true,
    levels: ['month', 'quarter', 'year', 'suppressed'],
    values: (c) => monthLevels(month(c.createdAt.toISOString())),
  },
  RETURN_TYPE: {
    description: 'Voluntary or non-voluntary return.',
    columns: ['return_type'],
    quasiIdentifier: true,
    levels: ['return type', 'suppressed'],
    values: (c) => [c.returnType],
  },
  PROGRAMME: {
    description: 'The reintegration programme.',
    columns: ['programme'],
    quasiIdentifier: true,
    levels: ['programme', 'suppressed'],
    values: (c) => [c.programme],
  },
  STATUS: {
    description:
      'Where the case stands in the workflow, generalised to its stage (REFERRAL, RETURN, PLAN, IMPLEMENTATION, CLOSED) when needed.',
    columns: ['status'],
    quasiIdentifier: true,
    levels: ['status', 'stage', 'suppressed'],
    values: (c) => [c.status, STAGES[c.status] ?? 'unknown'],
  },
  CLOSURE_REASON: {
    description: 'Why the case was closed; empty while open.',
    columns: ['closure_reason'],
    quasiIdentifier: false,
    values: (c) => [c.closureReason ?? ''],
  },
  COMPONENT_KINDS: {
    description: 'Kinds of support in the plan in force or spent on, joined with +; empty without any.',
    columns: ['component_kinds'],
    quasiIdentifier: true,
    levels: ['kinds', 'suppressed'],
    values: (c) => [[...new Set([...(c.plan?.kinds ?? []), ...(c.spendKinds ?? [])])].sort().join('+')],
  },
  PLANNED_EUR: {
    description:
      'The plan in force, in whole euros rounded to ten, generalised to 100- and 500-euro bands when needed; empty without an approved plan.',
    columns: ['planned_eur'],
    quasiIdentifier: true,
    levels: ['ten euros', '100-euro band', '500-euro band', 'suppressed'],
    values: (c) => euroLevels(c.plan?.totalEur),
  },
  ACTUAL_EUR: {
    description:
      'Spent so far as reported in progress updates, in whole euros rounded to ten, generalised to 100- and 500-euro bands when needed.',
    columns: ['actual_eur'],
    quasiIdentifier: true,
    levels: ['ten euros', '100-euro band', '500-euro band', 'suppressed'],
    values: (c) => euroLevels(c.actualEur ?? 0),
  },
  SUSTAINABILITY_SCORES: {
    description:
      'The latest Reintegration Sustainability Survey scores (0 to 1, two decimals; one decimal, or the composite alone, when needed); empty before a survey.',
    columns: ['score_economic', 'score_social', 'score_psychosocial', 'score_composite'],
    quasiIdentifier: true,
    levels: ['two decimals', 'one decimal', 'composite to one decimal', 'suppressed'],
    values: (c) => scoreLevels(c.latestScores),
  },
};

/** The catalogue as the API presents it. */
export function catalogueEntries() {
  return EXTRACT_VARIABLES.map((variable) => {
    const d = CATALOGUE[variable];
    return {
      variable,
      description: d.description,
      columns: d.columns,
      quasiIdentifier: d.quasiIdentifier,
      generalisations: d.quasiIdentifier ? d.levels : [],
    };
  });
}
