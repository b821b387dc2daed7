// Cases: tenant-owned (memberState, partner) and written only as post-images of events.
// Their records (plans, progress, files…) are documents of their own, so a case stays small.
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import type { CaseStatus } from './case.state.ts';
import type { ConsentPurpose, ConsentStatus } from './case.consent.ts';
import type { ReturnSupport } from '../return-leg/return-leg.model.ts';
import type { Eligibility, ResidenceApplication } from '../eligibility/eligibility.rules.ts';
import type { CaseTeam } from '../../auth/case-team.ts';
import { versionedFields, type Versioned } from '../../events/event.model.ts';

export const GENDERS = ['FEMALE', 'MALE', 'OTHER', 'UNDISCLOSED'] as const;
export const RELATIONS = ['PRINCIPAL', 'SPOUSE', 'CHILD', 'PARENT', 'SIBLING', 'OTHER'] as const;
export const CLOSURE_REASONS = [
  'SUPPORT_PERIOD_ENDED',
  'NO_LONGER_ELIGIBLE',
  'OPTED_OUT',
  'LEFT_THE_AREA',
  'RE_MIGRATED',
  'DECEASED',
] as const;
export type ClosureReason = (typeof CLOSURE_REASONS)[number];

export type HouseholdMember = { yearOfBirth: number; gender: (typeof GENDERS)[number]; relation: (typeof RELATIONS)[number] };
/** A household member as registered: the month of birth (YYYY-MM) is sealed apart, never stored in the clear. */
export type HouseholdMemberInput = HouseholdMember & { birthMonth?: string | null | undefined };

/**
 * The returnee's consent (src/modules/cases/case.consent.ts). `status` is what was last
 * recorded (ACTIVE until a withdrawal or the expiry job); read it through `consentStatus`.
 */
export type Consent = {
  purposes: ConsentPurpose[];
  givenOn: string;
  expiresOn: string;
  status: ConsentStatus;
  withdrawnOn: string | null;
};

export type EntitlementLine = { category: 'ADULT' | 'MINOR' | 'UNACCOMPANIED_MINOR'; persons: number; each: number };

/** In EUR minor units, from the programme's rules at the time. */
export type ComputedEntitlement = {
  programme: string;
  currency: 'EUR';
  total: number;
  cashCap: number;
  arrivalSupport: number;
  /** The most that may be paid as the first-period contribution (0: none); absent on older cases. */
  firstPeriodContribution?: number;
  /** The day ages were counted on (the departure); absent on older cases. */
  referenceDay?: string;
  lines: EntitlementLine[];
  computedAt: Date;
};

/**
 * The figures of an entitlement that follow from the household's categories: for a small
 * household the total alone tells an unaccompanied minor (the programme pays that supplement,
 * e.g. 1,750 EUR instead of 880 for an accompanied child), so they are special category.
 */
export type EntitlementAmounts = Pick<ComputedEntitlement, 'total' | 'cashCap' | 'lines'>;

/**
 * The entitlement as stored: its amounts (total, cash cap, lines) sealed under the case's key
 * (src/modules/cases/case.sealing.ts); the rest, which says nothing of the categories, in clear.
 */
export type Entitlement = Omit<ComputedEntitlement, keyof EntitlementAmounts> & {
  amountsSealed: string | null;
  /** Cases stored before the amounts were sealed: total and cash cap in clear, the lines sealed apart (read, never written). */
  total?: number;
  cashCap?: number;
  linesSealed?: string | null;
};

/**
 * The entitlement as the API presents it: with its case, whose parties decide who sees the lines,
 * and (made per request) the amounts once opened, so lines, total and cash cap open them once.
 */
export type EntitlementView = Entitlement & { readonly of: CaseDoc; opened?: Promise<EntitlementAmounts | null> };

/** Spend against one plan component, in EUR minor units at the rates of the days it was spent. */
export type ComponentSpend = { componentId: string; kind: string; actualEur: number };

/** A sustainability survey's scores, each between 0 and 1. */
export type SustainabilityScores = { economic: number; social: number; psychosocial: number; composite: number };

/** A monitoring visit scheduled at plan approval, so many months after arrival. */
export type SpendingWindow = {
  arrivedOn: string;
  months: number;
  until: string;
  /** The member state's extension (extendSpendingWindow), later than `until`. */
  extendedTo: string | null;
};

export type ScheduledVisit = {
  visit: number;
  monthsAfterArrival: number;
  dueOn: string;
  visitedOn: string | null;
  surveyId: string | null;
};

export type Vulnerability = {
  unaccompaniedMinor: boolean;
  victimOfTrafficking: boolean;
  medicalNeeds: boolean;
  notes: string | null;
};

export type CaseDoc = Versioned & {
  _id: string;
  reference: string;
  memberState: string;
  partner: string | null;
  /** True from the first referral on: the partner's scope includes the case. */
  sharedWithPartner: boolean;
  /**
   * The units of the member state working on the case (its implementing organisation,
   * and whoever else the state adds): a unit's scope is its state's cases that list it.
   */
  units: string[];
  /** The unit that carries out the return leg (IOM in the Netherlands); also in `units`. */
  implementingOrganisation: string | null;
  /** The case's team of units (src/modules/teams); its members are also in `units`. Null: none formed. */
  team: CaseTeam | null;
  /** The return leg before departure, up to arrival (src/modules/return-leg); null until a step is recorded. */
  returnSupport: ReturnSupport | null;
  contract: string | null;
  programme: string;
  originCountry: string;
  returnType: 'VOLUNTARY' | 'NON_VOLUNTARY';
  plannedDepartureDate: string | null;
  plannedArrivalDate: string | null;
  arrivedOn: string | null;
  registeredAfterReturn: boolean;
  household: HouseholdMember[];
  /** Principal's nationality (ISO alpha-2) and residence history, for eligibility; null when not given. */
  nationality: string | null;
  residenceApplication: ResidenceApplication | null;
  /** What the programme's eligibility rules found at registration; null for older cases. */
  eligibility: Eligibility | null;
  /** Sealed JSON of the household's months of birth (YYYY-MM or null, in household order). */
  birthMonthsSealed: string | null;
  /** Sealed (AES-256-GCM) special-category fields; see src/crypto/sealed.ts. */
  needsAssessmentSealed: string | null;
  vulnerabilitySealed: string | null;
  consent: Consent;
  entitlement: Entitlement;
  status: CaseStatus;
  statusChangedAt: Date;
  referredAt: Date | null;
  referralDeadline: Date | null;
  respondedAt: Date | null;
  declineReason: string | null;
  closedAt: Date | null;
  closureReason: ClosureReason | null;
  closureComment: string | null;
  /** When the case was erased (its data key destroyed, src/modules/erasure), and why; null while it is not. */
  erasedAt?: Date | null;
  erasureReason?: string | null;
  /** The newest plan version and the approved one in force. */
  latestPlan: number | null;
  planInForce: number | null;
  // ---- implementation: kept by the progress, monitoring and deadline modules ----------
  /** Total effective spend, EUR minor units (corrected updates count as corrected). */
  actualEur: number;
  /** Effective spend per plan component. */
  spend: ComponentSpend[];
  /** The newest sustainability survey's scores (by visit date). */
  latestScores: SustainabilityScores | null;
  latestSurveyOn: string | null;
  /** Arrival support is due within so many working days of this arrival date. */
  arrivalSupportDue: { arrivedOn: string; workingDays: number; dueOn: string } | null;
  /** Flight details are due so many working days (in the country of return) before this departure. */
  flightDetailsDue: { departureDate: string; workingDays: number; dueOn: string } | null;
  /** Spending counts until `until` (arrival plus the programme's spendWithinMonths) or the member state's extension. */
  spendingWindow: SpendingWindow | null;
  /** The day arrival support was given (the earliest effective ARRIVAL_SUPPORT update). */
  arrivalSupportOn: string | null;
  /** The day a plan was first approved. */
  planApprovedOn: string | null;
  monitoringSchedule: ScheduledVisit[];
  /** The earliest deadline still open (served by an index: the overdue list and the escalation job). */
  nextDeadlineAt: Date | null;
  /**
   * The ids of the case's records of each listed collection (RECORD_LISTS), kept by every write
   * on the case, so one case's records are read by primary key. Absent on cases stored before
   * it was kept: theirs are read by `caseId`.
   */
  recordIds?: RecordIds;
};

/** Collections of a case's records whose ids the case keeps (see CaseDoc.recordIds). */
export const RECORD_LISTS = ['progress_updates', 'shipments', 'surveys'] as const;
export type RecordIds = Record<(typeof RECORD_LISTS)[number], string[]>;

/** The record ids of a new case: it has none. */
export const noRecordIds = (): RecordIds => ({ progress_updates: [], shipments: [], surveys: [] });

/** The implementation fields of a case that has none yet. */
export function emptyImplementation(): Pick<
  CaseDoc,
  | 'actualEur'
  | 'spend'
  | 'latestScores'
  | 'latestSurveyOn'
  | 'arrivalSupportDue'
  | 'flightDetailsDue'
  | 'spendingWindow'
  | 'arrivalSupportOn'
  | 'planApprovedOn'
  | 'monitoringSchedule'
  | 'nextDeadlineAt'
> {
  return {
    actualEur: 0,
    spend: [],
    latestScores: null,
    latestSurveyOn: null,
    arrivalSupportDue: null,
    flightDetailsDue: null,
    spendingWindow: null,
    arrivalSupportOn: null,
    planApprovedOn: null,
    monitoringSchedule: [],
    nextDeadlineAt: null,
  };
}

/** Who works on a case: its units, team and implementing organisation. */
export type CaseTeamFields = Pick<CaseDoc, 'units' | 'team' | 'implementingOrganisation'>;

/**
 * A state of a case written earlier, with the case's team as it is now (`now`; a case stored
 * before teams has none): what a unit sees of a case is gated by its roles on the team the
 * state carries (src/graphql/case-fields.ts), so a state written while it had a larger role (a
 * lead handed over and invited back) would show it that role's fields still. For a replayed
 * write's answer (case.store.ts) and the states of a unit's feed (feed.service.ts).
 */
export function withTeamOf<T extends object>(
  state: T,
  now: { units?: readonly string[] | null; team?: CaseTeamFields['team']; implementingOrganisation?: string | null },
): T & CaseTeamFields {
  return {
    ...state,
    units: [...(now.units ?? [])],
    team: now.team ?? null,
    implementingOrganisation: now.implementingOrganisation ?? null,
  };
}

/**
 * The case with its implementation fields filled in: cases stored before those fields
 * existed lack them, and a lean read applies no schema defaults.
 */
export function withImplementationDefaults(c: CaseDoc): CaseDoc {
  return {
    ...c,
    units: c.units ?? [],
    implementingOrganisation: c.implementingOrganisation ?? null,
    team: c.team ?? null,
    returnSupport: c.returnSupport ?? null,
    nationality: c.nationality ?? null,
    residenceApplication: c.residenceApplication ?? null,
    eligibility: c.eligibility ?? null,
    birthMonthsSealed: c.birthMonthsSealed ?? null,
    erasedAt: c.erasedAt ?? null,
    erasureReason: c.erasureReason ?? null,
    // Consent recorded before purposes and withdrawal (a free-text purpose): no listed purposes.
    consent: {
      ...c.consent,
      purposes: c.consent.purposes ?? [],
      status: c.consent.status ?? 'ACTIVE',
      withdrawnOn: c.consent.withdrawnOn ?? null,
    },
    ...orDefaults(c, emptyImplementation()),
  };
}

/** The fields of `defaults` as `value` has them, or as `defaults` has them where `value` has none (undefined or null). */
function orDefaults<T extends object>(value: NoInfer<Partial<T>>, defaults: T): T {
  return Object.fromEntries(
    Object.entries(defaults).map(([field, fallback]) => [field, value[field as keyof T] ?? fallback]),
  ) as T;
}

/** The case's fields as the schema declares them (its list entry declares a part of them: case.list-entry.ts). */
export const caseFields = {
  _id: { type: String, required: true },
  reference: { type: String, required: true },
  memberState: { type: String, required: true },
  partner: { type: String, default: null },
  sharedWithPartner: { type: Boolean, required: true },
  units: { type: [String], default: [] },
  implementingOrganisation: { type: String, default: null },
  team: { type: Schema.Types.Mixed, default: null },
  returnSupport: { type: Schema.Types.Mixed, default: null },
  contract: { type: String, default: null },
  programme: { type: String, required: true },
  originCountry: { type: String, required: true },
  returnType: { type: String, enum: ['VOLUNTARY', 'NON_VOLUNTARY'], required: true },
  plannedDepartureDate: { type: String, default: null },
  plannedArrivalDate: { type: String, default: null },
  arrivedOn: { type: String, default: null },
  registeredAfterReturn: { type: Boolean, required: true },
  household: [{ _id: false, yearOfBirth: Number, gender: String, relation: String }],
  nationality: { type: String, default: null },
  residenceApplication: { type: String, default: null },
  eligibility: { type: Schema.Types.Mixed, default: null },
  birthMonthsSealed: { type: String, default: null },
  needsAssessmentSealed: { type: String, default: null },
  vulnerabilitySealed: { type: String, default: null },
  consent: { type: Schema.Types.Mixed, required: true },
  entitlement: { type: Schema.Types.Mixed, required: true },
  status: { type: String, required: true },
  statusChangedAt: { type: Date, required: true },
  referredAt: { type: Date, default: null },
  referralDeadline: { type: Date, default: null },
  respondedAt: { type: Date, default: null },
  declineReason: { type: String, default: null },
  closedAt: { type: Date, default: null },
  closureReason: { type: String, default: null },
  closureComment: { type: String, default: null },
  erasedAt: { type: Date, default: null },
  erasureReason: { type: String, default: null },
  latestPlan: { type: Number, default: null },
  planInForce: { type: Number, default: null },
  actualEur: { type: Number, default: 0 },
  spend: [{ _id: false, componentId: String, kind: String, actualEur: Number }],
  latestScores: { type: Schema.Types.Mixed, default: null },
  latestSurveyOn: { type: String, default: null },
  arrivalSupportDue: { type: Schema.Types.Mixed, default: null },
  flightDetailsDue: { type: Schema.Types.Mixed, default: null },
  spendingWindow: { type: Schema.Types.Mixed, default: null },
  arrivalSupportOn: { type: String, default: null },
  planApprovedOn: { type: String, default: null },
  monitoringSchedule: { type: Schema.Types.Mixed, default: [] },
  nextDeadlineAt: { type: Date, default: null },
  recordIds: { type: Schema.Types.Mixed, default: undefined },
  ...versionedFields,
};

export const caseSchema = new Schema<CaseDoc>(caseFields, { collection: 'cases', versionKey: false });
caseSchema.plugin(tenantScoped);
caseSchema.index({ reference: 1 }, { unique: true });
// Lists filter and sort on the cases' list entries (case.list-entry.ts), indexed there.
// Background work (referral expiry, deadlines) across tenants.
caseSchema.index({ status: 1, referralDeadline: 1 });
// The consent expiry job, across tenants.
caseSchema.index({ 'consent.status': 1, 'consent.expiresOn': 1 });
// Deadlines: the overdue list of each organisation, and the escalation job.
caseSchema.index({ memberState: 1, nextDeadlineAt: 1, _id: 1 });
caseSchema.index({ partner: 1, sharedWithPartner: 1, nextDeadlineAt: 1, _id: 1 });
caseSchema.index({ units: 1, memberState: 1, nextDeadlineAt: 1, _id: 1 });
caseSchema.index({ nextDeadlineAt: 1, _id: 1 });
// The retention job: cases closed before a cutoff.
caseSchema.index({ status: 1, erasedAt: 1, closedAt: 1 });

/**
 * The fields every record of a case carries (plans, progress, shipments, evidence,
 * surveys, final reports): its case and the case's tenant fields, so the tenant scope
 * (`caseScope`) filters the record exactly as it filters its case.
 */
export const caseRecordFields = {
  caseId: { type: String, required: true },
  memberState: { type: String, required: true },
  partner: { type: String, required: true },
  sharedWithPartner: { type: Boolean, required: true },
  // Declared so a unit's scope (`units` ∋ its code) may be asked of records, but never
  // stored: a member state's units see no record of a case (plans, progress, files…).
  units: { type: [String], default: undefined },
} as const;

/** The fields of `caseRecordFields` a record carries (`units` is never stored). */
export type CaseRecord = { caseId: string; memberState: string; partner: string; sharedWithPartner: boolean };

/** A record of a case as it is stored: its case's fields and its own version. */
export type VersionedCaseRecord = CaseRecord & Versioned;

/** The fields of `caseRecordFields` a new record of the case carries, as the case has them now. */
export function recordFieldsOf(c: Pick<CaseDoc, '_id' | 'memberState' | 'partner' | 'sharedWithPartner'>): CaseRecord {
  // Records are written once a partner carries out the case: it has one.
  return { caseId: c._id, memberState: c.memberState, partner: c.partner!, sharedWithPartner: c.sharedWithPartner };
}

/** Reference claims: inserting `NL-2026-000124` is what makes the number ours. */
export type CaseReferenceDoc = { _id: string; caseId: string; at: Date };
export const caseReferenceSchema = new Schema<CaseReferenceDoc>(
  { _id: { type: String, required: true }, caseId: { type: String, required: true }, at: { type: Date, required: true } },
  { collection: 'case_references', versionKey: false },
);
