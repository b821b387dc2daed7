// Deadlines as data. DOMAIN.md's timers (registration at least 19 days before departure,
// flight details at least 5 working days before it, referral answer within 7 days, arrival
// support within so many working days of arrival, the plan within a month, monitoring visits
// on their dates) are derived from fields kept on the case, and the earliest open one is
// stored as `nextDeadlineAt`, so "what is late" is one indexed range query.
import type { ProgrammeDoc } from '../organisations/organisation.model.ts';
import { withImplementationDefaults, type CaseDoc } from '../cases/case.model.ts';
import { PARTNER_ENGAGED_STATUSES, type CaseStatus } from '../cases/case.state.ts';
import type { DeadlinePlanner } from '../cases/case.store.ts';
import { spendingWindowFrom } from '../cases/spending-window.ts';
import { todayIso } from '../../validation.ts';
import { DAY_MS } from '../../clock.ts';
import { addDays, addMonths, addWorkingDays, daysBetween, endOfDay, workingDaysBefore, type Calendars } from './calendar.ts';

export const DEADLINE_KINDS = [
  'REGISTRATION',
  'FLIGHT_DETAILS',
  'REFERRAL_ANSWER',
  'ARRIVAL_SUPPORT',
  'PLAN_APPROVAL',
  'MONITORING_VISIT',
] as const;
export type DeadlineKind = (typeof DEADLINE_KINDS)[number];
export type DeadlineStatus = 'UPCOMING' | 'OVERDUE' | 'MET' | 'MET_LATE' | 'LAPSED';

export const PLAN_WITHIN_MONTHS = 1;
/** The member state registers a case at least so many days before the departure. */
export const REGISTRATION_DAYS_BEFORE_DEPARTURE = 19;
/** …and gives the flight details at least so many working days (in the country of return) before it. */
export const FLIGHT_DETAILS_WORKING_DAYS = 5;
/** Statuses in which the flight details are still awaited. */
const AWAITING_FLIGHT: readonly CaseStatus[] = ['DRAFT', 'REFERRED', 'ACCEPTED'];

export type Deadline = {
  caseId: string;
  kind: DeadlineKind;
  /** The monitoring visit's number (1, 2, 3…); null for the other kinds. */
  visit: number | null;
  description: string;
  dueOn: string;
  /** The instant it passes: the referral's own deadline, else the end of `dueOn` (UTC). */
  dueAt: Date;
  metOn: string | null;
  /** Still to be met: not met, and the case still expects it. */
  open: boolean;
  /** The organisation that has to act. */
  waitingOn: string;
};

/** Statuses in which the assigned partner works the case. */
const ENGAGED = PARTNER_ENGAGED_STATUSES;
/** Statuses in which the set-up deadlines (arrival support, plan) can still be met. */
const SETTING_UP: readonly CaseStatus[] = ENGAGED.filter((s) => s !== 'FINAL_REPORTED');

/** Every deadline of a case, met or not, oldest due first. Pure: the same case gives the same list. */
export function deadlinesOf(raw: CaseDoc): Deadline[] {
  const c = withImplementationDefaults(raw);
  const partner = c.partner ?? c.memberState;
  const list: Deadline[] = [];
  const base = { caseId: c._id, visit: null };

  // Before departure (member-state side): not for a case registered after the return.
  const departure = c.registeredAfterReturn ? null : c.plannedDepartureDate;
  if (departure) {
    const registrationDue = addDays(departure, -REGISTRATION_DAYS_BEFORE_DEPARTURE);
    list.push({
      ...base,
      kind: 'REGISTRATION',
      description: `Registered at least ${REGISTRATION_DAYS_BEFORE_DEPARTURE} days before the departure`,
      dueOn: registrationDue,
      dueAt: endOfDay(registrationDue),
      metOn: todayIso(c.createdAt),
      open: false,
      waitingOn: c.memberState,
    });
    const ticket = c.returnSupport?.ticket ?? null;
    // A case that arrived without a ticket on record (the partner confirmed it) no longer expects one.
    if (c.flightDetailsDue?.departureDate === departure && (ticket || c.arrivedOn === null)) {
      list.push({
        ...base,
        kind: 'FLIGHT_DETAILS',
        description: `Flight details at least ${c.flightDetailsDue.workingDays} working days before the departure`,
        dueOn: c.flightDetailsDue.dueOn,
        dueAt: endOfDay(c.flightDetailsDue.dueOn),
        metOn: ticket?.bookedOn ?? null,
        open: ticket === null && c.arrivedOn === null && AWAITING_FLIGHT.includes(c.status),
        waitingOn: c.implementingOrganisation ?? c.memberState,
      });
    }
  }

  if (c.referredAt && c.referralDeadline) {
    const answered = c.respondedAt && c.respondedAt >= c.referredAt ? todayIso(c.respondedAt) : null;
    list.push({
      ...base,
      kind: 'REFERRAL_ANSWER',
      description: 'Answer the referral',
      dueOn: todayIso(c.referralDeadline),
      dueAt: c.referralDeadline,
      metOn: answered,
      open: c.status === 'REFERRED',
      waitingOn: partner,
    });
  }

  // The partner's work begins once it accepted (a reopened case starts again).
  const accepted = c.respondedAt !== null && c.declineReason === null && c.status !== 'DECLINED' && c.status !== 'EXPIRED';
  if (accepted && c.arrivedOn) {
    if (c.arrivalSupportDue && c.arrivalSupportDue.arrivedOn === c.arrivedOn) {
      list.push({
        ...base,
        kind: 'ARRIVAL_SUPPORT',
        description: `Arrival support within ${c.arrivalSupportDue.workingDays} working days of arrival`,
        dueOn: c.arrivalSupportDue.dueOn,
        dueAt: endOfDay(c.arrivalSupportDue.dueOn),
        metOn: c.arrivalSupportOn,
        open: c.arrivalSupportOn === null && SETTING_UP.includes(c.status),
        waitingOn: partner,
      });
    }
    const planDue = addMonths(c.arrivedOn, PLAN_WITHIN_MONTHS);
    list.push({
      ...base,
      kind: 'PLAN_APPROVAL',
      description: 'Reintegration plan agreed within a month of arrival',
      dueOn: planDue,
      dueAt: endOfDay(planDue),
      metOn: c.planApprovedOn,
      open: c.planApprovedOn === null && SETTING_UP.includes(c.status),
      waitingOn: c.status === 'PLAN_SUBMITTED' ? c.memberState : partner,
    });
    for (const v of c.monitoringSchedule) {
      list.push({
        ...base,
        kind: 'MONITORING_VISIT',
        visit: v.visit,
        description: `Monitoring visit ${v.visit} (${v.monthsAfterArrival} months after arrival)`,
        dueOn: v.dueOn,
        dueAt: endOfDay(v.dueOn),
        metOn: v.visitedOn,
        open: v.visitedOn === null && ENGAGED.includes(c.status),
        waitingOn: partner,
      });
    }
  }
  return list.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/** Where a deadline stands at `now`, and by how many days it is (or was) late. */
export function deadlineStatus(d: Deadline, now: Date): { status: DeadlineStatus; daysLate: number | null } {
  if (d.metOn !== null) {
    const late = daysBetween(d.dueOn, d.metOn);
    return late > 0 ? { status: 'MET_LATE', daysLate: late } : { status: 'MET', daysLate: null };
  }
  if (!d.open) return { status: 'LAPSED', daysLate: null };
  if (now.getTime() < d.dueAt.getTime()) return { status: 'UPCOMING', daysLate: null };
  return { status: 'OVERDUE', daysLate: Math.max(1, Math.ceil((now.getTime() - d.dueAt.getTime()) / DAY_MS)) };
}

export function nextDeadlineAt(c: CaseDoc): Date | null {
  const open = deadlinesOf(c).filter((d) => d.open);
  return open[0]?.dueAt ?? null;
}

/**
 * Brings a case's deadline data up to date as part of every write on it: the arrival
 * support due date once the arrival is known, the monitoring schedule at the first plan
 * approval (from the programme's `monitoringMonths`), and `nextDeadlineAt`. Loads the
 * programme only when one of the first two has to be computed.
 */
export function createDeadlinePlanner(deps: {
  programme: (code: string) => Promise<ProgrammeDoc | null>;
  calendars: Calendars;
}): DeadlinePlanner {
  return async (raw, now) => {
    const c = withImplementationDefaults(raw);
    const arrivalDueStale =
      c.arrivedOn !== null && c.entitlement.arrivalSupport > 0 && c.arrivalSupportDue?.arrivedOn !== c.arrivedOn;
    const firstApproval = c.planInForce !== null && c.planApprovedOn === null;
    const windowStale = c.arrivedOn !== null && c.spendingWindow?.arrivedOn !== c.arrivedOn;
    const programme = arrivalDueStale || windowStale || (firstApproval && c.arrivedOn) ? await deps.programme(c.programme) : null;

    if (c.arrivedOn === null) c.spendingWindow = null;
    if (windowStale && programme)
      c.spendingWindow = spendingWindowFrom(c.arrivedOn!, programme.spendWithinMonths, c.spendingWindow);

    if (c.arrivedOn === null) c.arrivalSupportDue = null;
    const departure = c.registeredAfterReturn ? null : c.plannedDepartureDate;
    if (!departure) c.flightDetailsDue = null;
    else if (c.flightDetailsDue?.departureDate !== departure) {
      const calendar = deps.calendars.of(c.originCountry);
      c.flightDetailsDue = {
        departureDate: departure,
        workingDays: FLIGHT_DETAILS_WORKING_DAYS,
        dueOn: workingDaysBefore(departure, FLIGHT_DETAILS_WORKING_DAYS, calendar),
      };
    }
    if (arrivalDueStale && programme) {
      c.arrivalSupportDue = {
        arrivedOn: c.arrivedOn!,
        workingDays: programme.arrivalSupportWorkingDays,
        dueOn: addWorkingDays(c.arrivedOn!, programme.arrivalSupportWorkingDays, deps.calendars.of(c.originCountry)),
      };
    }
    if (firstApproval) {
      c.planApprovedOn = todayIso(now);
      if (programme && c.arrivedOn && c.monitoringSchedule.length === 0) {
        c.monitoringSchedule = programme.monitoringMonths.map((months, i) => ({
          visit: i + 1,
          monthsAfterArrival: months,
          dueOn: addMonths(c.arrivedOn!, months),
          visitedOn: null,
          surveyId: null,
        }));
      }
    }
    c.nextDeadlineAt = nextDeadlineAt(c);
    return c;
  };
}
