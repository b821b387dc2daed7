// What is late: the `overdue` list of an organisation's cases, and the background job
// that records each missed deadline once in the event log (so member-state systems
// learn it from the feed and can escalate).
import { maySeeCaseField } from '../../auth/case-team.ts';
import { authorize, caseParties, caseScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { op, SYSTEM } from '../../store/tenant.ts';
import { pageSize } from '../../validation.ts';
import { withImplementationDefaults, type CaseDoc } from '../cases/case.model.ts';
import { scoped } from '../cases/case.list.ts';
import { deadlinesOf, deadlineStatus, type Deadline } from './deadline.rules.ts';
import type { Needs } from '../../deps.ts';

export type OverdueItem = { case: CaseDoc; deadline: Deadline; daysLate: number };

export const MAX_OVERDUE = 500;

/** One missed deadline is one aggregate: its event can be appended once only. */
const missedId = (d: Deadline) => `${d.caseId}:${d.kind}:${d.visit ?? '-'}:${d.dueOn}`;

export type DeadlineService = ReturnType<typeof createDeadlineService>;

export function createDeadlineService(deps: Needs<'cases' | 'clock' | 'executor' | 'log'>) {
  const { clock, executor, log } = deps;
  const Cases = deps.cases.model;

  function overdueOf(cases: CaseDoc[], now: Date): OverdueItem[] {
    return cases
      .map(withImplementationDefaults)
      .flatMap((c) =>
        deadlinesOf(c).flatMap((deadline) => {
          const { status, daysLate } = deadlineStatus(deadline, now);
          return status === 'OVERDUE' ? [{ case: c, deadline, daysLate: daysLate! }] : [];
        }),
      )
      .sort(
        (a, b) => a.deadline.dueAt.getTime() - b.deadline.dueAt.getTime() || a.case.reference.localeCompare(b.case.reference),
      );
  }

  /** Records the missed deadlines of one page of cases; returns how many events it appended. */
  async function recordPage(system: Principal, cases: CaseDoc[], now: Date): Promise<number> {
    const items = overdueOf(cases, now);
    if (items.length === 0) return 0;
    const recorded = await log.model
      .find({ aggregateType: 'deadline', aggregateId: op({ $in: items.map((i) => missedId(i.deadline)) }) })
      .select({ aggregateId: 1 })
      .lean<{ aggregateId: string }[]>();
    const known = new Set(recorded.map((e) => e.aggregateId));
    let count = 0;
    for (const { case: c, deadline } of items) {
      if (known.has(missedId(deadline))) continue;
      try {
        await executor.execute({
          principal: system,
          command: 'recordMissedDeadline',
          input: { id: missedId(deadline) },
          decide: async () => ({
            aggregateType: 'deadline',
            aggregateId: missedId(deadline),
            caseId: c._id,
            version: 1,
            type: 'DeadlineMissed',
            audience: caseParties(c),
            data: {
              reference: c.reference,
              kind: deadline.kind,
              visit: deadline.visit,
              dueOn: deadline.dueOn,
              waitingOn: deadline.waitingOn,
            },
            changes: [],
          }),
        });
        count += 1;
      } catch {
        // Another gateway recorded it meanwhile (its version claim won).
      }
    }
    return count;
  }

  return {
    /**
     * The caller's organisation's open deadlines that have passed, most late first. The
     * cases with the earliest open deadline hold the most late items, so reading `first`
     * cases by `nextDeadlineAt` finds the `first` most late items.
     */
    async overdue(principal: Principal | null, first: number | null | undefined): Promise<OverdueItem[]> {
      const p = authorize(principal, 'case.read');
      const size = pageSize(first, 100, MAX_OVERDUE);
      if (size === 0) return []; // a limit of 0 is "no limit" to the store
      const now = clock.now();
      const cases = await Cases.find({ nextDeadlineAt: op({ $lte: now }) })
        .setOptions({ scope: caseScope(p) })
        .sort({ nextDeadlineAt: 1, _id: 1 })
        .limit(size)
        .lean<CaseDoc[]>();
      // A unit sees a case's deadlines only where its role on the team sees Case.deadlines.
      const seen = cases.filter((c) => maySeeCaseField(p, c, 'deadlines'));
      return overdueOf(seen, now).slice(0, size);
    },

    /**
     * The principal's cases with a deadline by `until`, soonest first: chosen from the list
     * index (the store's query of the cases, evaluated in memory: on the embedded store that
     * query decoded every case, seconds per work list at 2,000 cases), then read as lists are.
     */
    async casesDueBy(principal: Principal, until: Date, first: number): Promise<CaseDoc[]> {
      const entries = await deps.cases.listIndex.find(
        scoped(caseScope(principal), { nextDeadlineAt: { $lte: until } }),
        { nextDeadlineAt: 1, _id: 1 },
        first,
      );
      return deps.cases.ofEntries(principal, entries);
    },

    /**
     * Appends a `DeadlineMissed` event for each deadline that passed and has none yet, walking
     * every case with a passed deadline page by page. Returns how many it appended.
     */
    async recordMissed(system: Principal, pageSize = MAX_OVERDUE): Promise<number> {
      const now = clock.now();
      let count = 0;
      let after: { at: Date; id: string } | null = null;
      for (;;) {
        const page: CaseDoc[] = await Cases.find({
          nextDeadlineAt: op({ $lte: now }),
          ...(after
            ? { $or: [{ nextDeadlineAt: op({ $gt: after.at }) }, { nextDeadlineAt: after.at, _id: op({ $gt: after.id }) }] }
            : {}),
        })
          .setOptions({ scope: SYSTEM })
          .sort({ nextDeadlineAt: 1, _id: 1 })
          .limit(pageSize)
          .lean<CaseDoc[]>();
        count += await recordPage(system, page, now);
        const last = page.at(-1);
        if (page.length < pageSize || !last) return count;
        after = { at: last.nextDeadlineAt!, id: last._id };
      }
    },
  };
}
