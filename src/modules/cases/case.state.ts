// The case life cycle in one table. Every status change in the code goes through
// `assertTransition`, so an illegal step always answers INVALID_TRANSITION with the
// steps that are allowed from where the case is.
import { invalidTransition } from '../../errors.ts';
import type { CaseDoc } from './case.model.ts';

export const CASE_STATUSES = [
  'DRAFT',
  'REFERRED',
  'ACCEPTED',
  'DECLINED',
  'EXPIRED',
  'DEPARTED',
  'ARRIVED',
  'PLAN_SUBMITTED',
  'PLAN_APPROVED',
  'CHANGES_REQUESTED',
  'IN_IMPLEMENTATION',
  'FINAL_REPORTED',
  'CLOSED',
] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const TRANSITIONS: Record<CaseStatus, readonly CaseStatus[]> = {
  DRAFT: ['REFERRED', 'CLOSED'],
  REFERRED: ['ACCEPTED', 'DECLINED', 'EXPIRED', 'CLOSED'],
  // With a return leg the implementing organisation sees the person off (DEPARTED); a case
  // registered after the return (or without a return leg) goes straight to ARRIVED.
  ACCEPTED: ['DEPARTED', 'ARRIVED', 'CLOSED'],
  DECLINED: ['REFERRED', 'CLOSED'],
  EXPIRED: ['REFERRED', 'CLOSED'],
  DEPARTED: ['ARRIVED', 'CLOSED'],
  ARRIVED: ['PLAN_SUBMITTED', 'CLOSED'],
  PLAN_SUBMITTED: ['PLAN_APPROVED', 'CHANGES_REQUESTED', 'CLOSED'],
  CHANGES_REQUESTED: ['PLAN_SUBMITTED', 'CLOSED'],
  PLAN_APPROVED: ['IN_IMPLEMENTATION', 'CLOSED'],
  IN_IMPLEMENTATION: ['FINAL_REPORTED', 'CLOSED'],
  FINAL_REPORTED: ['CLOSED'],
  CLOSED: [],
};

export function canTransition(from: CaseStatus, to: CaseStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: CaseStatus, to: CaseStatus): void {
  if (!canTransition(from, to)) throw invalidTransition(from, to, TRANSITIONS[from]);
}

/** The case in its next status (checked against the table), changed now. */
export function withStatus<T extends Pick<CaseDoc, 'status' | 'statusChangedAt'>>(c: T, status: CaseStatus, now: Date): T {
  assertTransition(c.status, status);
  return { ...c, status, statusChangedAt: now };
}

/** For actions that are not a status change but are only allowed in some statuses. */
export function assertStatusAllows(status: CaseStatus, action: string, allowedIn: readonly CaseStatus[]): void {
  if (!allowedIn.includes(status)) {
    throw invalidTransition(status, action, TRANSITIONS[status]);
  }
}

/** Statuses in which the partner may draft (or amend) the plan. */
export const PLAN_DRAFTING_STATUSES: readonly CaseStatus[] = [
  'ACCEPTED',
  'DEPARTED',
  'ARRIVED',
  'CHANGES_REQUESTED',
  'PLAN_APPROVED',
  'IN_IMPLEMENTATION',
];
/** Statuses in which an approved plan is being carried out (amendments possible). */
export const PLAN_IN_FORCE_STATUSES: readonly CaseStatus[] = ['PLAN_APPROVED', 'IN_IMPLEMENTATION'];
/** The person has arrived and no plan is approved yet. */
export const ARRIVED_BEFORE_PLAN_STATUSES: readonly CaseStatus[] = ['ARRIVED', 'PLAN_SUBMITTED', 'CHANGES_REQUESTED'];
/** From arrival to the final report: evidence can be uploaded. */
export const SINCE_ARRIVAL_STATUSES: readonly CaseStatus[] = [
  ...ARRIVED_BEFORE_PLAN_STATUSES,
  ...PLAN_IN_FORCE_STATUSES,
  'FINAL_REPORTED',
];
/** The assigned partner works the case: from its acceptance to the final report. */
export const PARTNER_ENGAGED_STATUSES: readonly CaseStatus[] = ['ACCEPTED', 'DEPARTED', ...SINCE_ARRIVAL_STATUSES];
/** Before departure: the return leg is prepared (counselling, travel document, ticket, guidance). */
export const BEFORE_DEPARTURE_STATUSES: readonly CaseStatus[] = ['DRAFT', 'REFERRED', 'ACCEPTED', 'DECLINED', 'EXPIRED'];
/** The first-period contribution is paid at departure or after arrival, until closure. */
export const CONTRIBUTION_STATUSES: readonly CaseStatus[] = ['ACCEPTED', 'DEPARTED', ...SINCE_ARRIVAL_STATUSES];
/** Monitoring visits are recorded once a plan is approved, up to closure. */
export const MONITORING_STATUSES: readonly CaseStatus[] = [...PLAN_IN_FORCE_STATUSES, 'FINAL_REPORTED'];

/** Statuses in which the partner's assignment has ended (it declined, or let the referral expire): reopen from here. */
export const ASSIGNMENT_ENDED_STATUSES: readonly CaseStatus[] = ['DECLINED', 'EXPIRED'];
/** Statuses in which the member state may give the case to another partner. */
export const PARTNER_CHANGE_STATUSES: readonly CaseStatus[] = ['DRAFT', ...ASSIGNMENT_ENDED_STATUSES];
