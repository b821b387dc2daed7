// The final report: IN_IMPLEMENTATION → FINAL_REPORTED in one write that pins what was
// spent against what was planned (with the proofs), the last survey and the partner's
// feedback. The member state then closes the case (closeCase).
import type { Model } from 'mongoose';
import { z } from 'zod';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { badInput } from '../../errors.ts';
import { isoDate, parseInput, requiredText } from '../../validation.ts';
import type { CaseInputArgs, CasePayload } from '../cases/case.store.ts';
import { withStatus } from '../cases/case.state.ts';
import { recordsOfCases, writtenIn } from '../cases/case.store.ts';
import { budgetOf } from '../progress/budget.ts';
import { assertDayOfSupport, languageTag } from '../progress/implementation.ts';
import { effectiveUpdates } from '../progress/progress.service.ts';
import { isFinished } from '../shipments/shipment.state.ts';
import { finalReportSchema, type FinalReportDoc, type FinalReportLine } from './final-report.model.ts';
import { recordFieldsOf } from '../cases/case.model.ts';
import { firstVersion } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';

const reportInput = z.object({
  finalMeetingOn: isoDate,
  feedback: requiredText(10_000),
  language: languageTag,
});

export type FinalReportService = ReturnType<typeof createFinalReportService>;

export function createFinalReportService(deps: Needs<'store' | 'cases' | 'plans' | 'progress' | 'shipments' | 'monitoring'>) {
  const { store, cases, plans, progress, shipments, monitoring } = deps;
  const Reports: Model<FinalReportDoc> = store.model('FinalReport', finalReportSchema);

  return {
    async submit(
      principal: Principal | null,
      args: CaseInputArgs,
      idempotencyKey?: string | null,
    ): Promise<CasePayload & { finalReport: FinalReportDoc }> {
      const p = authorize(principal, 'finalReport.submit');
      const input = parseInput(reportInput, args.input);
      const saved = await cases.writeOn(p, 'submitFinalReport', args, input, idempotencyKey, async (c, now) => {
        const next = withStatus(c, 'FINAL_REPORTED', now);
        assertDayOfSupport(input.finalMeetingOn, 'finalMeetingOn', c, now);
        const underway = (await shipments.shipmentsOfCase(p, c._id)).filter((s) => !isFinished(s.status));
        if (underway.length > 0) {
          throw badInput(
            `Shipments are still under way (${underway.map((s) => `${s.component.title}: ${s.status}`).join('; ')}); record their handover, loss or return first.`,
            [{ path: 'caseId', message: 'shipments under way' }],
          );
        }
        const plan = await plans.inForce(p, c);
        const budget = budgetOf(c, plan);
        const spent = effectiveUpdates(await progress.updatesOfCase(p, c._id)).filter((u) => u.spend && u.component);
        const lines: FinalReportLine[] = budget.lines.map((l) => ({
          component: { id: l.componentId, kind: l.kind as FinalReportLine['component']['kind'], title: l.title },
          plannedEur: l.plannedEur,
          actualEur: l.actualEur,
          proofs: [...new Set(spent.filter((u) => u.component!.id === l.componentId).map((u) => u.spend!.proof))],
        }));
        const [surveys] = await monitoring.ofCases(p, [c._id]);
        const last = surveys?.[0];
        const report: FinalReportDoc = {
          _id: c._id,
          ...recordFieldsOf(c),
          planVersion: plan?.planVersion ?? 0,
          lines,
          plannedEur: budget.plannedEur,
          actualEur: budget.actualEur,
          lastSurvey: last ? { surveyId: last._id, visitedOn: last.visitedOn, scores: last.scores } : null,
          finalMeetingOn: input.finalMeetingOn,
          feedback: input.feedback,
          language: input.language,
          submittedBy: { organisation: p.organisation.code, subject: p.subject },
          submittedAt: now,
          ...firstVersion(now),
        };
        return {
          type: 'FinalReportSubmitted',
          next,
          data: { plannedEur: report.plannedEur, actualEur: report.actualEur, finalMeetingOn: input.finalMeetingOn },
          extra: [{ collection: 'final_reports', doc: report }],
        };
      });
      const [finalReport] = writtenIn<FinalReportDoc>(saved, 'final_reports');
      return { case: saved, finalReport: finalReport! };
    },

    /** The final report of each case (its id is the case's), or null. */
    async ofCases(principal: Principal, caseIds: readonly string[]): Promise<(FinalReportDoc | null)[]> {
      const reports = await recordsOfCases(Reports, principal, caseIds, { keyedByCase: true });
      return reports.map((list) => list[0] ?? null);
    },
  };
}
