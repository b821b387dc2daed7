// The audit trail of a case for its parties (its writes, its records' writes, reads of
// its special-category data), and the record of exports.
import { mayKnowCaseActor, mayKnowCaseEvent } from '../../auth/case-team.ts';
import { Audience, authorize, mayReadInAuditTrail } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { StoredEvent } from '../../events/event.model.ts';
import { fact } from '../../events/executor.ts';
import { pageSize } from '../../validation.ts';
import type { CaseService } from '../cases/case.service.ts';
import type { Needs } from '../../deps.ts';

export const MAX_AUDIT_PAGE = 500;
export const EXPORT_RECORDED = 'StatisticsExported';

export type AuditTrailPage = { entries: StoredEvent[]; endCursor: number; hasMore: boolean };

export type AuditService = ReturnType<typeof createAuditService>;

export function createAuditService(deps: Needs<'log' | 'executor'> & { cases: CaseService }) {
  const { log, executor, cases } = deps;

  return {
    async trail(
      principal: Principal | null,
      args: { caseId: string; after?: number | null; first?: number | null },
    ): Promise<AuditTrailPage> {
      const p = authorize(principal, 'audit.read');
      const first = pageSize(args.first, 100, MAX_AUDIT_PAGE);
      const kase = await cases.get(p, args.caseId); // NOT_FOUND unless a party to the case now
      const after = args.after ?? 0;
      const scanned = await log.ofCase(args.caseId, after, first + 1);
      const hasMore = scanned.length > first;
      const page = scanned.slice(0, first);
      // A unit reads of the case's history what its role on the team sees of the case itself
      // (src/auth/case-team.ts), as in its feed: an entry whose subject or maker it may not see is left out.
      const told = (e: StoredEvent) => mayKnowCaseEvent(p, kase, e) && mayKnowCaseActor(p, kase, e.actor.organisation);
      return {
        entries: page.filter((e) => mayReadInAuditTrail(p, e) && told(e)),
        endCursor: page.at(-1)?._id ?? after,
        hasMore,
      };
    },

    /** Records an export (what was asked for and how much came out), before it is handed over. */
    async recordExport(principal: Principal, details: Record<string, unknown>): Promise<void> {
      await executor.recordFacts(principal, [
        fact({
          aggregateType: 'export',
          type: EXPORT_RECORDED,
          audience: [Audience.auditOnly(principal.organisation.code)],
          data: details,
        }),
      ]);
    },
  };
}
