// "What needs me": the caller's cases where it is their turn (a referral to answer, an arrival
// to confirm, a plan to draft, submit or decide, a case to refer, reopen or close) and their
// deadlines that are due soon or missed, one item per case, most urgent first. Built from the
// allowed actions and the deadline rules, so it follows the same tables the writes enforce.
import { maySeeCaseField } from '../../auth/case-team.ts';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { pageSize } from '../../validation.ts';
import { actionFacts, allowedActions, nextStep, stepStatuses, type CaseAction } from '../cases/case.actions.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { PlanStatus } from '../plans/plan.model.ts';
import { planRef } from '../plans/plan.service.ts';
import type { CaseService } from '../cases/case.service.ts';
import { CASE_STATUSES } from '../cases/case.state.ts';
import { DAY_MS } from '../../clock.ts';
import { deadlinesOf, deadlineStatus, type Deadline, type DeadlineKind } from '../deadlines/deadline.rules.ts';
import type { Needs } from '../../deps.ts';

/** Deadlines this close count as needing the caller now. */
export const DUE_SOON_DAYS = 14;
const CANDIDATES = 100;

/** The action that meets a deadline of each kind, when it is not simply the case's next step. */
const MEETS: Record<DeadlineKind, CaseAction[]> = {
  REGISTRATION: [],
  FLIGHT_DETAILS: ['RECORD_RETURN_STEP'],
  REFERRAL_ANSWER: ['RESPOND_TO_REFERRAL'],
  ARRIVAL_SUPPORT: ['POST_PROGRESS'],
  PLAN_APPROVAL: ['DECIDE_PLAN', 'SUBMIT_PLAN', 'SAVE_DRAFT_PLAN'],
  MONITORING_VISIT: ['RECORD_MONITORING_VISIT'],
};

export type WorkItem = {
  case: CaseDoc;
  action: CaseAction;
  deadline: Deadline | null;
  overdue: boolean;
  daysLate: number | null;
};

export type WorkListService = ReturnType<typeof createWorkListService>;

export function createWorkListService(deps: Needs<'plans' | 'deadlines' | 'clock'> & { cases: CaseService }) {
  const { cases, plans, deadlines, clock } = deps;

  async function latestPlanStatuses(p: Principal, docs: CaseDoc[]): Promise<Map<string, PlanStatus>> {
    // As a page's plans are read: from the gateway's memory of case versions, the rest by id.
    const withPlan = docs.filter((c) => c.latestPlan !== null);
    const latest = await plans.atCaseVersions(
      p,
      withPlan.map((c) => ({ caseId: c._id, caseVersion: c.version, ref: planRef(c._id, c.latestPlan!) })),
    );
    return new Map(latest.flatMap((plan) => (plan ? [[plan.caseId, plan.status] as const] : [])));
  }

  function itemOf(p: Principal, c: CaseDoc, plan: PlanStatus | null, now: Date): WorkItem | null {
    const facts = actionFacts(c, plan);
    const actions = allowedActions(p, facts, now);
    const step = nextStep(actions, facts);
    const horizon = now.getTime() + DUE_SOON_DAYS * DAY_MS;
    // A unit is shown a deadline only where its role on the case's team sees Case.deadlines.
    const mine = (maySeeCaseField(p, c, 'deadlines') ? deadlinesOf(c) : [])
      .filter((d) => d.open && d.waitingOn === p.organisation.code && d.dueAt.getTime() <= horizon)
      .map((d) => ({ d, action: MEETS[d.kind].find((a) => actions.includes(a)) ?? step ?? undefined }))
      .filter((x): x is { d: Deadline; action: CaseAction } => x.action !== undefined);
    const first = mine[0];
    if (first) {
      const { status, daysLate } = deadlineStatus(first.d, now);
      return { case: c, action: first.action, deadline: first.d, overdue: status === 'OVERDUE', daysLate: daysLate ?? null };
    }
    return step ? { case: c, action: step, deadline: null, overdue: false, daysLate: null } : null;
  }

  /** Most late first, then what is due soonest, then the longest waiting without a deadline. */
  function urgency(a: WorkItem, b: WorkItem): number {
    if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
    if (a.deadline && b.deadline) return a.deadline.dueAt.getTime() - b.deadline.dueAt.getTime();
    if (a.deadline || b.deadline) return a.deadline ? -1 : 1;
    return a.case.updatedAt.getTime() - b.case.updatedAt.getTime();
  }

  return {
    async workList(principal: Principal | null, first: number | null | undefined): Promise<WorkItem[]> {
      const p = authorize(principal, 'case.read');
      const size = pageSize(first, 50, CANDIDATES);
      const now = clock.now();
      const statuses = stepStatuses(p, CASE_STATUSES, now);
      const [turn, due] = await Promise.all([
        statuses.length ? cases.list(p, { filter: { status: statuses }, first: CANDIDATES, orderBy: 'UPDATED_ASC' }) : null,
        deadlines.casesDueBy(p, new Date(now.getTime() + DUE_SOON_DAYS * DAY_MS), CANDIDATES),
      ]);
      const byId = new Map<string, CaseDoc>();
      for (const c of [...(turn?.edges.map((e) => e.node) ?? []), ...due]) byId.set(c._id, c);
      const docs = [...byId.values()];
      const plans = await latestPlanStatuses(p, docs);
      return docs
        .flatMap((c) => itemOf(p, c, plans.get(c._id) ?? null, now) ?? [])
        .sort(urgency)
        .slice(0, size);
    },
  };
}
