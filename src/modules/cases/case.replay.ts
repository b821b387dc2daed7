// What a retried request may be answered with: the log holds the first answer, but the caller
// is told of it only while it may still see the case the write was on, through the same tenant
// policy as any read of that case now. A unit taken off the case, a partner the case was given
// away from, get NOT_FOUND, as a fresh request would; nothing is written again.
import { caseScope } from '../../auth/policy.ts';
import { notFound } from '../../errors.ts';
import type { ReplayCheck } from '../../events/executor.ts';
import type { Store } from '../../store/store.ts';
import { SYSTEM } from '../../store/tenant.ts';
import { caseSchema, type CaseDoc } from './case.model.ts';

/**
 * The executor's replay check for every write on a case (any event that names its case: case
 * writes, registrations, files, deadlines…), whichever module made it. A background job's write
 * in the SYSTEM scope is answered as before.
 */
export function caseReplayCheck(store: Store): ReplayCheck {
  const Cases = store.model<CaseDoc>('Case', caseSchema);
  return async (principal, event, scope) => {
    if (!event.caseId || scope === SYSTEM) return;
    // The whole document: a lookup by id applies the scope to the record found (tenant.ts).
    const found = await Cases.findOne({ _id: event.caseId })
      .setOptions({ scope: scope ?? caseScope(principal) })
      .lean<CaseDoc>();
    if (!found) throw notFound('Case', event.caseId);
  };
}
