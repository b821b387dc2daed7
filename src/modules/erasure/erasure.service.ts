// Erasure by key destruction. A case's personal values are sealed under its own data key
// wherever they are stored (the case, its records, the event log's post-images, the feed's
// segments, evidence chunks); destroying that key makes every copy unreadable at once while
// the log's hash chain stays as it was. The case itself stays, without personal content, so
// the statistics still count it. An erasure is a `CaseErased` event on the case (its reason
// from a fixed list, nothing personal), so the parties' feeds, webhooks and audit trails show it.
import { z } from 'zod';
import { authorize, caseScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { AppError, conflict, forbidden, notFound } from '../../errors.ts';
import { op, SYSTEM, type TenantScope } from '../../store/tenant.ts';
import { parseInput } from '../../validation.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { CaseView } from '../cases/case.store.ts';
import type { Needs } from '../../deps.ts';
import { withoutAmounts } from '../cases/case.sealing.ts';

export const ERASURE_REASONS = [
  'SUBJECT_REQUEST',
  'CONSENT_WITHDRAWN',
  'UNLAWFUL_PROCESSING',
  'LEGAL_OBLIGATION',
  'RETENTION_PERIOD_ENDED',
] as const;
export type ErasureReason = (typeof ERASURE_REASONS)[number];

export const CASE_ERASED = 'CaseErased';

/** Cases the retention job erases in one run (the next run takes the rest). */
const RETENTION_BATCH = 100;
/** Writes on the case that may slip in between the key's destruction and the erasure's event. */
const ATTEMPTS = 5;

/**
 * The case as its erasure leaves it: the sealed fields dropped (they no longer open anyway) and
 * the free texts of its life cycle cleared; what statistics count (status, country, programme,
 * household size, spend) stays.
 */
function erasedCase(c: CaseDoc, now: Date, reason: ErasureReason): CaseDoc {
  return {
    ...c,
    erasedAt: now,
    erasureReason: reason,
    vulnerabilitySealed: null,
    needsAssessmentSealed: null,
    birthMonthsSealed: null,
    entitlement: withoutAmounts(c.entitlement),
    returnSupport: c.returnSupport ? { ...c.returnSupport, guidanceSealed: null } : null,
    declineReason: null,
    closureComment: null,
  };
}

/** The day `years` years before `now` (the retention cutoff). */
export function yearsBefore(now: Date, years: number): Date {
  const cutoff = new Date(now.getTime());
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - years);
  return cutoff;
}

export type ErasureService = ReturnType<typeof createErasureService>;

export function createErasureService(
  deps: Needs<'cases' | 'keys' | 'clock'> & {
    retentionYears: number;
    /**
     * What else an erasure takes with it once committed (the built extract files holding the
     * case). Run again when an erased case is erased again, so a retry completes it.
     */
    onErased?: (c: Pick<CaseView, '_id' | 'memberState'>) => Promise<unknown>;
  },
) {
  const { cases, keys, clock, retentionYears } = deps;
  const afterErasure = async (c: CaseView) => {
    await deps.onErased?.(c);
    return c;
  };

  /**
   * Destroys the case's key first, then commits the erasure: if the event cannot be written,
   * the case is already unreadable and a retry (or the retention job) completes it. Every
   * other write on the case is refused from the key's destruction on (case.store.ts), so only
   * writes decided before it can take a version from the erasure: the next attempt wins.
   */
  async function erase(principal: Principal, scope: TenantScope, id: string, reason: ErasureReason): Promise<CaseView> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const current = await cases.load(scope, id);
      if (!current) throw notFound('Case', id);
      if (current.erasedAt) return afterErasure(current); // erased before: only what follows it again
      await keys.destroy(id);
      try {
        const erased = await cases.write({
          principal,
          scope,
          command: 'eraseCase',
          id,
          expectedVersion: current.version,
          input: { reason },
          erasing: true,
          decide: (c, now) => ({ type: CASE_ERASED, next: erasedCase(c, now, reason), data: { reason } }),
        });
        return await afterErasure(erased);
      } catch (error) {
        // Someone wrote on the case meanwhile: take it again at its new version.
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      }
    }
    throw conflict(`Case ${id} kept changing while it was being erased; its key is destroyed, try again.`);
  }

  return {
    /** The member state's coordinator erases one of its cases. Erasing an erased case answers it as it is. */
    async eraseCase(principal: Principal | null, rawId: unknown, rawReason: unknown): Promise<CaseView> {
      const p = authorize(principal, 'case.erase');
      const id = parseInput(z.string().min(1).max(100), rawId, 'caseId');
      const reason = parseInput(z.enum(ERASURE_REASONS), rawReason, 'reason');
      // Only the member state that registered the case (its controller) erases it.
      if (p.organisation.kind !== 'MEMBER_STATE') throw forbidden('case.erase');
      return erase(p, caseScope(p), id, reason);
    },

    /** Erases, for the retention job, cases closed more than the configured years ago. Answers how many. */
    async eraseExpired(system: Principal): Promise<number> {
      const cutoff = yearsBefore(clock.now(), retentionYears);
      const due = await cases.model
        .find({ status: 'CLOSED', erasedAt: null, closedAt: op({ $lt: cutoff }) })
        .setOptions({ scope: SYSTEM })
        .select({ _id: 1, erasedAt: 1 })
        .limit(RETENTION_BATCH)
        .lean<Pick<CaseDoc, '_id' | 'erasedAt'>[]>();
      let erased = 0;
      for (const c of due) {
        if (c.erasedAt) continue;
        await erase(system, SYSTEM, c._id, 'RETENTION_PERIOD_ENDED');
        erased += 1;
      }
      return erased;
    },
  };
}
