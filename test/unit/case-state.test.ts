// The case life cycle table, checked as a graph: every status is reachable from DRAFT,
// every path ends in CLOSED, and the helpers answer from the same table.
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.ts';
import {
  ASSIGNMENT_ENDED_STATUSES,
  assertStatusAllows,
  assertTransition,
  canTransition,
  CASE_STATUSES,
  PARTNER_CHANGE_STATUSES,
  PLAN_DRAFTING_STATUSES,
  PLAN_IN_FORCE_STATUSES,
  TRANSITIONS,
  withStatus,
  type CaseStatus,
} from '../../src/modules/cases/case.state.ts';

function reachableFrom(start: CaseStatus): Set<CaseStatus> {
  const seen = new Set<CaseStatus>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of TRANSITIONS[queue.shift()!]) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

describe('the case state machine', () => {
  it('has a row for every status and names only known statuses', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...CASE_STATUSES].sort());
    for (const targets of Object.values(TRANSITIONS)) {
      for (const t of targets) expect(CASE_STATUSES).toContain(t);
    }
  });

  it('reaches every status from DRAFT, and CLOSED from every status', () => {
    expect([...reachableFrom('DRAFT')].sort()).toEqual([...CASE_STATUSES].sort());
    for (const status of CASE_STATUSES) expect(reachableFrom(status).has('CLOSED'), status).toBe(true);
  });

  it('CLOSED is final, and every other status can be closed', () => {
    expect(TRANSITIONS.CLOSED).toEqual([]);
    for (const status of CASE_STATUSES.filter((s) => s !== 'CLOSED')) expect(canTransition(status, 'CLOSED'), status).toBe(true);
  });

  it('refuses every step the table does not list, naming the allowed ones', () => {
    for (const from of CASE_STATUSES) {
      for (const to of CASE_STATUSES) {
        if (canTransition(from, to)) {
          expect(() => assertTransition(from, to)).not.toThrow();
          continue;
        }
        let error: unknown;
        try {
          assertTransition(from, to);
        } catch (e) {
          error = e;
        }
        expect(error, `${from} -> ${to}`).toBeInstanceOf(AppError);
        const app = error as AppError;
        expect(app.code).toBe('INVALID_TRANSITION');
        expect(app.extensions).toMatchObject({ from, attempted: to, allowed: TRANSITIONS[from] });
      }
    }
  });

  it('withStatus changes the status and its time without touching the input', () => {
    const before = { status: 'REFERRED' as CaseStatus, statusChangedAt: new Date('2026-01-01T00:00:00Z'), other: 1 };
    const now = new Date('2026-02-01T10:00:00Z');
    const after = withStatus(before, 'ACCEPTED', now);
    expect(after).toEqual({ status: 'ACCEPTED', statusChangedAt: now, other: 1 });
    expect(before.status).toBe('REFERRED');
    expect(() => withStatus(before, 'ARRIVED', now)).toThrow(AppError);
  });

  it('assertStatusAllows refuses an action outside its statuses with INVALID_TRANSITION', () => {
    expect(() => assertStatusAllows('ARRIVED', 'saveDraftPlan', PLAN_DRAFTING_STATUSES)).not.toThrow();
    expect(() => assertStatusAllows('REFERRED', 'saveDraftPlan', PLAN_DRAFTING_STATUSES)).toThrow(/Cannot go from REFERRED/);
  });

  it('the status subsets agree with the table', () => {
    // A plan in force can be amended, so it is also a drafting status.
    for (const s of PLAN_IN_FORCE_STATUSES) expect(PLAN_DRAFTING_STATUSES).toContain(s);
    // A partner's assignment that ended can be reopened by a new referral.
    for (const s of ASSIGNMENT_ENDED_STATUSES) expect(canTransition(s, 'REFERRED'), s).toBe(true);
    // The partner can be changed only where the case can be referred (again).
    for (const s of PARTNER_CHANGE_STATUSES) expect(canTransition(s, 'REFERRED'), s).toBe(true);
    // A plan is not drafted before the partner accepted, nor after the case ended.
    for (const s of ['DRAFT', 'REFERRED', 'DECLINED', 'EXPIRED', 'CLOSED'] as const)
      expect(PLAN_DRAFTING_STATUSES).not.toContain(s);
  });
});
