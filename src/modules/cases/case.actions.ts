// What the caller may do next on a case, from the same tables the services enforce (the
// state machine, the status subsets of each module, the policy's permissions), so a client
// such as the portal never keeps its own copy of them. A listed action can still be refused
// for what only the write can see (a stale version, a budget, a shipment under way).
import { can, type Permission } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { EVIDENCE_STATUSES } from '../evidence/evidence.service.ts';
import { MONITORING_STATUSES } from './case.state.ts';
import { PROGRESS_KINDS, type ProgressKind } from '../progress/progress.model.ts';
import { MEMBER_STATE_KINDS, STATUSES_FOR } from '../progress/progress.service.ts';
import { IMPLEMENTATION_STATUSES } from '../progress/implementation.ts';
import type { PlanStatus } from '../plans/plan.model.ts';
import type { CaseDoc } from './case.model.ts';
import { RETURN_STEP_STATUSES } from '../return-leg/return-leg.service.ts';
import { canTransition, PLAN_DRAFTING_STATUSES, PLAN_IN_FORCE_STATUSES, type CaseStatus } from './case.state.ts';

export type ActionFacts = {
  status: CaseStatus;
  /** The newest plan version's status, if there is a plan. */
  latestPlan: PlanStatus | null;
  referralDeadline: Date | null;
};

type Rule = { permission: Permission; allowed: (f: ActionFacts, now: Date) => boolean };

/** Every action, in the order a person would take them (the first allowed "step" is the next step). */
export const CASE_ACTION_RULES = {
  UPDATE_CASE: { permission: 'case.update', allowed: (f) => f.status !== 'CLOSED' },
  REFER: { permission: 'case.refer', allowed: (f) => f.status === 'DRAFT' && canTransition(f.status, 'REFERRED') },
  RESPOND_TO_REFERRAL: {
    permission: 'referral.respond',
    allowed: (f, now) => f.status === 'REFERRED' && !(f.referralDeadline && now > f.referralDeadline),
  },
  REOPEN: { permission: 'case.reopen', allowed: (f) => f.status !== 'DRAFT' && canTransition(f.status, 'REFERRED') },
  CONFIRM_ARRIVAL: { permission: 'arrival.confirm', allowed: (f) => canTransition(f.status, 'ARRIVED') },
  RECORD_RETURN_STEP: { permission: 'returnStep.record', allowed: (f) => RETURN_STEP_STATUSES.includes(f.status) },
  SAVE_DRAFT_PLAN: {
    permission: 'plan.draft',
    allowed: (f) => PLAN_DRAFTING_STATUSES.includes(f.status) && f.latestPlan !== 'SUBMITTED',
  },
  SUBMIT_PLAN: {
    permission: 'plan.submit',
    allowed: (f) => PLAN_DRAFTING_STATUSES.includes(f.status) && f.latestPlan === 'DRAFT',
  },
  DECIDE_PLAN: { permission: 'plan.decide', allowed: (f) => f.latestPlan === 'SUBMITTED' && f.status !== 'CLOSED' },
  POST_PROGRESS: {
    permission: 'progress.post',
    allowed: (f) => Object.values(STATUSES_FOR).some((statuses) => statuses.includes(f.status)),
  },
  UPLOAD_EVIDENCE: { permission: 'evidence.upload', allowed: (f) => EVIDENCE_STATUSES.includes(f.status) },
  RECORD_SHIPMENT_EVENT: { permission: 'shipment.record', allowed: (f) => IMPLEMENTATION_STATUSES.includes(f.status) },
  RECORD_MONITORING_VISIT: { permission: 'monitoring.record', allowed: (f) => MONITORING_STATUSES.includes(f.status) },
  SUBMIT_FINAL_REPORT: { permission: 'finalReport.submit', allowed: (f) => canTransition(f.status, 'FINAL_REPORTED') },
  CLOSE: { permission: 'case.close', allowed: (f) => canTransition(f.status, 'CLOSED') },
} as const satisfies Record<string, Rule>;

export type CaseAction = keyof typeof CASE_ACTION_RULES;
export const CASE_ACTIONS = Object.keys(CASE_ACTION_RULES) as CaseAction[];

export function actionFacts(c: CaseDoc, latestPlan: PlanStatus | null): ActionFacts {
  return { status: c.status, latestPlan, referralDeadline: c.referralDeadline ?? null };
}

/** The actions the principal may take on a case it can read, in CASE_ACTIONS order. */
export function allowedActions(principal: Principal, facts: ActionFacts, now: Date): CaseAction[] {
  return CASE_ACTIONS.filter((action) => {
    const rule: Rule = CASE_ACTION_RULES[action];
    return can(principal, rule.permission) && rule.allowed(facts, now);
  });
}

/** The progress kinds the principal may post now (MONITORING_VISIT goes with its survey). */
export function allowedProgressKinds(principal: Principal, status: CaseStatus): ProgressKind[] {
  if (!can(principal, 'progress.post')) return [];
  return PROGRESS_KINDS.filter(
    (kind): kind is Exclude<ProgressKind, 'MONITORING_VISIT'> =>
      kind !== 'MONITORING_VISIT' &&
      STATUSES_FOR[kind].includes(status) &&
      (principal.organisation.kind !== 'MEMBER_STATE' || MEMBER_STATE_KINDS.includes(kind)),
  );
}

/**
 * The action that moves the case on, if it is the caller's turn: what puts a case on the
 * caller's work list. Carrying out an approved plan has no single next step (deadlines say
 * what is due then), and closing counts only once nothing else is left.
 */
export function nextStep(actions: readonly CaseAction[], facts: ActionFacts): CaseAction | null {
  const inForce = PLAN_IN_FORCE_STATUSES.includes(facts.status);
  const steps: CaseAction[] = ['RESPOND_TO_REFERRAL', 'CONFIRM_ARRIVAL', 'DECIDE_PLAN', 'SUBMIT_PLAN', 'REFER', 'REOPEN'];
  if (!inForce) steps.push('SAVE_DRAFT_PLAN');
  const step = steps.find((a) => actions.includes(a));
  if (step) return step;
  const onlyClosingLeft = facts.status === 'FINAL_REPORTED';
  return onlyClosingLeft && actions.includes('CLOSE') ? 'CLOSE' : null;
}

/** The statuses in which some principal with these roles may have a next step (for the work list's query). */
export function stepStatuses(principal: Principal, candidates: readonly CaseStatus[], now: Date): CaseStatus[] {
  const plans: (PlanStatus | null)[] = [null, 'DRAFT', 'SUBMITTED', 'APPROVED', 'CHANGES_REQUESTED'];
  return candidates.filter((status) =>
    plans.some((latestPlan) => {
      const facts: ActionFacts = { status, latestPlan, referralDeadline: null };
      return nextStep(allowedActions(principal, facts, now), facts) !== null;
    }),
  );
}
