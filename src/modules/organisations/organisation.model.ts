// Organisations, contracts and programmes: the network's shape. Organisations and
// programmes are a directory every member may read; contracts are tenant-owned.
import { Schema } from 'mongoose';
import { AGENCY_TYPES, ORGANISATION_KINDS, type AgencyType, type OrganisationKind } from '../../auth/principal.ts';
import { tenantScoped } from '../../store/tenant.ts';
import { CONSENT_PURPOSES, type ConsentPurpose } from '../cases/case.consent.ts';
import { versionedFields, type Versioned } from '../../events/event.model.ts';

export type OrganisationDoc = Versioned & {
  _id: string;
  code: string;
  kind: OrganisationKind;
  name: string;
  countries: string[];
  /** The member state a unit (MEMBER_STATE_UNIT_KINDS) belongs to; null for every other kind. */
  memberState: string | null;
  /** What an AGENCY is; null for every other kind. */
  agency: AgencyType | null;
  active: boolean;
};

/** The organisation with the fields added since it was stored filled in (a lean read applies no defaults). */
export const withOrganisationDefaults = (d: OrganisationDoc): OrganisationDoc => ({
  ...d,
  memberState: d.memberState ?? null,
  agency: d.agency ?? null,
});

export const organisationSchema = new Schema<OrganisationDoc>(
  {
    _id: { type: String, required: true },
    code: { type: String, required: true },
    kind: { type: String, enum: ORGANISATION_KINDS, required: true },
    name: { type: String, required: true },
    countries: { type: [String], required: true },
    memberState: { type: String, default: null },
    agency: { type: String, enum: [...AGENCY_TYPES, null], default: null },
    active: { type: Boolean, required: true },
    ...versionedFields,
  },
  { collection: 'organisations', versionKey: false },
);
organisationSchema.index({ kind: 1, code: 1 });
organisationSchema.index({ memberState: 1, kind: 1, code: 1 });

/** Open-ended contracts store this as `validTo`, so "in force on a day" is one range query. */
export const OPEN_END = '9999-12-31';

export type ContractDoc = Versioned & {
  _id: string;
  memberState: string;
  partner: string;
  originCountries: string[];
  programmes: string[];
  /** ISO dates (YYYY-MM-DD), compared as strings. */
  validFrom: string;
  validTo: string;
  endedAt: Date | null;
  endReason: string | null;
};

export const contractSchema = new Schema<ContractDoc>(
  {
    _id: { type: String, required: true },
    memberState: { type: String, required: true },
    partner: { type: String, required: true },
    originCountries: { type: [String], required: true },
    programmes: { type: [String], required: true },
    validFrom: { type: String, required: true },
    validTo: { type: String, required: true },
    endedAt: { type: Date, default: null },
    endReason: { type: String, default: null },
    ...versionedFields,
  },
  { collection: 'contracts', versionKey: false },
);
contractSchema.plugin(tenantScoped);
contractSchema.index({ memberState: 1, partner: 1, validTo: 1 });
contractSchema.index({ partner: 1, validTo: 1 });
contractSchema.index({ originCountries: 1, validTo: 1 });
contractSchema.index({ validTo: 1 });

export type ProgrammeDoc = Versioned & {
  _id: string;
  code: string;
  name: string;
  description: string;
  returnType: 'VOLUNTARY' | 'NON_VOLUNTARY' | null;
  currency: string;
  /** All amounts in minor units of `currency`. */
  arrivalSupport: number;
  arrivalSupportWorkingDays: number;
  perAdult: number;
  perMinor: number;
  perUnaccompaniedMinor: number;
  cashCap: number;
  spendWithinMonths: number;
  monitoringMonths: number[];
  active: boolean;
  /** The days (ISO, inclusive) a departure may fall on to be under this programme; null: open. */
  validFrom: string | null;
  validTo: string | null;
  /** The first-period contribution paid as money (per adult, per minor), in minor units; 0: none. */
  firstPeriodContributionPerAdult: number;
  firstPeriodContributionPerMinor: number;
  eligibility: ProgrammeEligibility;
  /** The purposes the programme asks the returnee's consent for, and those without which a case cannot be registered. */
  consentPurposes: ConsentPurpose[];
  requiredConsentPurposes: ConsentPurpose[];
  /** The member states (codes) that may register cases under it; empty: open to every member state (EURP). */
  memberStates: string[];
};

/** Whether a member state may register a case under the programme (a national one is its own state's only). */
export const programmeOpenTo = (programme: Pick<ProgrammeDoc, 'memberStates'>, memberState: string): boolean =>
  programme.memberStates.length === 0 || programme.memberStates.includes(memberState);

/** Who a programme is for (configuration; src/modules/eligibility applies it). */
export type ProgrammeEligibility = {
  /** Nationals of these countries (ISO alpha-2) are not eligible (REAN: Western countries). */
  excludedNationalities: string[];
  /** Only for people whose asylum application was rejected (HRT). */
  requiresRejectedAsylum: boolean;
  /** No first-period contribution for people who never applied for residence (REAN). */
  contributionNeedsResidenceApplication: boolean;
  /** Not again for a person who had assisted departure within so many years (0: no such rule). */
  noRepeatWithinYears: number;
};

export const NO_ELIGIBILITY_RULES: ProgrammeEligibility = {
  excludedNationalities: [],
  requiresRejectedAsylum: false,
  contributionNeedsResidenceApplication: false,
  noRepeatWithinYears: 0,
};

/** The programme with the fields added since it was stored filled in (a lean read applies no defaults). */
export function withProgrammeDefaults(p: ProgrammeDoc): ProgrammeDoc {
  return {
    ...p,
    validFrom: p.validFrom ?? null,
    validTo: p.validTo ?? null,
    firstPeriodContributionPerAdult: p.firstPeriodContributionPerAdult ?? 0,
    firstPeriodContributionPerMinor: p.firstPeriodContributionPerMinor ?? 0,
    eligibility: { ...NO_ELIGIBILITY_RULES, ...(p.eligibility ?? {}) },
    // Programmes stored before consent purposes were configured: every purpose, sharing required.
    consentPurposes: p.consentPurposes ?? [...CONSENT_PURPOSES],
    requiredConsentPurposes: p.requiredConsentPurposes ?? ['REINTEGRATION_SUPPORT'],
    // Programmes stored before they named their member states were open to all.
    memberStates: p.memberStates ?? [],
  };
}

export const programmeSchema = new Schema<ProgrammeDoc>(
  {
    _id: { type: String, required: true },
    code: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, required: true },
    returnType: { type: String, enum: ['VOLUNTARY', 'NON_VOLUNTARY', null], default: null },
    currency: { type: String, required: true },
    arrivalSupport: { type: Number, required: true },
    arrivalSupportWorkingDays: { type: Number, required: true },
    perAdult: { type: Number, required: true },
    perMinor: { type: Number, required: true },
    perUnaccompaniedMinor: { type: Number, required: true },
    cashCap: { type: Number, required: true },
    spendWithinMonths: { type: Number, required: true },
    monitoringMonths: { type: [Number], required: true },
    active: { type: Boolean, required: true },
    validFrom: { type: String, default: null },
    validTo: { type: String, default: null },
    firstPeriodContributionPerAdult: { type: Number, default: 0 },
    firstPeriodContributionPerMinor: { type: Number, default: 0 },
    eligibility: { type: Schema.Types.Mixed, default: () => ({ ...NO_ELIGIBILITY_RULES }) },
    consentPurposes: { type: [String], default: undefined },
    requiredConsentPurposes: { type: [String], default: undefined },
    memberStates: { type: [String], default: undefined },
    ...versionedFields,
  },
  { collection: 'programmes', versionKey: false },
);
