// Monitoring visits: one write on the case records the visit's progress update, its
// scored sustainability survey, the visit done in the schedule and the case's latest
// scores. The schedule itself is made at plan approval (src/modules/deadlines).
import { randomUUID } from 'node:crypto';
import type { Model } from 'mongoose';
import { z } from 'zod';
import { narrativeContext } from '../progress/progress.model.ts';
import { authorize } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { type PersonalDataReads } from '../cases/case.sealing.ts';
import { badInput } from '../../errors.ts';
import { isoDate, parseInput, requiredText, todayIso } from '../../validation.ts';
import { assertConsentFor } from '../cases/case.consent.ts';
import type { CaseInputArgs, CasePayload } from '../cases/case.store.ts';
import { recordsOfCaseDocs, recordsOfCases, writtenIn } from '../cases/case.store.ts';
import { recordFieldsOf, type CaseDoc } from '../cases/case.model.ts';
import { assertStatusAllows, MONITORING_STATUSES } from '../cases/case.state.ts';
import { addDays } from '../deadlines/calendar.ts';
import { assertDayOfSupport, languageTag, startImplementation } from '../progress/implementation.ts';
import type { ProgressDoc } from '../progress/progress.model.ts';
import { answersContext, surveySchema, type SurveyDoc } from './monitoring.model.ts';
import { scoreSurvey, type ScoredAnswer, type SurveyDefinition } from './survey.ts';
import { firstVersion } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';

/** A visit this many days before the next scheduled one's due date or later counts as that visit by default. */
export const VISIT_WINDOW_DAYS = 60;

/** Visits go on after the final report: the twelve-month visit may come after it. */

const visitInput = z.object({
  visitedOn: isoDate,
  visit: z.number().int().min(1).max(50).nullish(),
  narrative: requiredText(5000),
  language: languageTag,
  answers: z
    .array(z.object({ indicator: z.string().max(40), answer: z.string().max(40) }))
    .min(1)
    .max(100),
});

export type MonitoringService = ReturnType<typeof createMonitoringService>;

export function createMonitoringService(deps: Needs<'store' | 'cases' | 'sealing'> & { survey: SurveyDefinition }) {
  const { store, cases, sealing, survey } = deps;
  const Surveys: Model<SurveyDoc> = store.model('Survey', surveySchema);

  return {
    definition: survey,

    async recordVisit(
      principal: Principal | null,
      args: CaseInputArgs,
      idempotencyKey?: string | null,
    ): Promise<CasePayload & { survey: SurveyDoc }> {
      const p = authorize(principal, 'monitoring.record');
      const input = parseInput(visitInput, args.input);
      const scored = scoreSurvey(survey, input.answers);
      const saved = await cases.writeOn(p, 'recordMonitoringVisit', args, input, idempotencyKey, async (c, now) => {
        assertStatusAllows(c.status, 'recordMonitoringVisit', MONITORING_STATUSES);
        assertDayOfSupport(input.visitedOn, 'visitedOn', c, now);
        assertConsentFor(c, 'MONITORING', todayIso(now), 'recordMonitoringVisit');

        // The visit named, or else the earliest scheduled one still to do unless it is still far off
        // (then, like a visit beyond the schedule, it is an extra visit).
        const due = c.monitoringSchedule.find((v) => v.visitedOn === null);
        const near = due && input.visitedOn >= addDays(due.dueOn, -VISIT_WINDOW_DAYS);
        let visit = input.visit ?? (near ? due.visit : null);
        const scheduled = visit === null ? undefined : c.monitoringSchedule.find((v) => v.visit === visit);
        if (input.visit != null && !scheduled)
          throw badInput(`The case has no scheduled visit ${input.visit}.`, [{ path: 'visit', message: 'not scheduled' }]);
        if (scheduled?.visitedOn)
          throw badInput(`Visit ${visit} was recorded already (on ${scheduled.visitedOn}).`, [
            { path: 'visit', message: 'already recorded' },
          ]);
        if (!scheduled) visit = null;

        const key = await sealing.keyForWriting(c._id);
        const surveyId = randomUUID();
        const updateId = randomUUID();
        const actor = { organisation: p.organisation.code, subject: p.subject };
        const tenant = recordFieldsOf(c);
        const doc: SurveyDoc = {
          _id: surveyId,
          ...tenant,
          visit,
          visitedOn: input.visitedOn,
          progressUpdateId: updateId,
          surveyVersion: survey.version,
          scores: scored.scores,
          answersSealed: key.seal(answersContext(surveyId), JSON.stringify(scored.answers)),
          recordedBy: actor,
          recordedAt: now,
          ...firstVersion(now),
        };
        const update: ProgressDoc = {
          _id: updateId,
          ...tenant,
          caseVersion: c.version + 1,
          kind: 'MONITORING_VISIT',
          component: null,
          narrativeSealed: key.seal(narrativeContext(updateId), input.narrative),
          language: input.language,
          occurredOn: input.visitedOn,
          spend: null,
          corrects: null,
          postedBy: actor,
          postedAt: now,
          ...firstVersion(now),
        };
        const newest = c.latestSurveyOn === null || input.visitedOn >= c.latestSurveyOn;
        const next: CaseDoc = {
          ...startImplementation(c, now),
          monitoringSchedule: c.monitoringSchedule.map((v) =>
            v.visit === visit ? { ...v, visitedOn: input.visitedOn, surveyId } : v,
          ),
          ...(newest ? { latestScores: scored.scores, latestSurveyOn: input.visitedOn } : {}),
        };
        return {
          type: 'MonitoringVisitRecorded',
          next,
          data: { surveyId, updateId, visit, visitedOn: input.visitedOn, scores: scored.scores, surveyVersion: survey.version },
          extra: [
            { collection: 'surveys', doc },
            { collection: 'progress_updates', doc: update },
          ],
        };
      });
      const [written] = writtenIn<SurveyDoc>(saved, 'surveys');
      return { case: saved, survey: written! };
    },

    /**
     * The survey's answers, for the parties to the case only (the survey was loaded in their
     * scope); none once the case was erased. The read is noted.
     */
    async answersOf(
      principal: Principal | null,
      kase: CaseDoc | null,
      doc: SurveyDoc,
      reads: PersonalDataReads,
    ): Promise<ScoredAnswer[]> {
      const text = await sealing.recordField(
        principal,
        kase,
        'survey.answers',
        answersContext(doc._id),
        doc.answersSealed,
        reads,
      );
      return text === null ? [] : (JSON.parse(text) as ScoredAnswer[]);
    },

    /** Surveys of many cases, newest visit first, in one query within the principal's scope. */
    ofCases: (principal: Principal, caseIds: readonly string[]) =>
      // Newest visit first; of two on one day the one recorded last (as the case's latest scores take it), then by id.
      recordsOfCases(Surveys, principal, caseIds, { sort: { caseId: 1, visitedOn: -1, recordedAt: -1, _id: -1 } }),

    /** The same for cases as read (one case's by primary key where it keeps their ids). */
    ofCaseDocs: (principal: Principal, cases: readonly Pick<CaseDoc, '_id' | 'recordIds'>[]) =>
      recordsOfCaseDocs(Surveys, 'surveys', principal, cases, { caseId: 1, visitedOn: -1, recordedAt: -1, _id: -1 }),
  };
}
