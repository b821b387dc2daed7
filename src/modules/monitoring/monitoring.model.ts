// Sustainability surveys, one per monitoring visit, kept as a history per case. The
// answers describe a person's wellbeing (distress, safety), so they are sealed like
// special-category data; the dimension scores stay readable for statistics.
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import { caseRecordFields, type VersionedCaseRecord, type SustainabilityScores } from '../cases/case.model.ts';
import type { Actor } from '../evidence/evidence.model.ts';
import { versionedFields } from '../../events/event.model.ts';

/** What a survey's sealed answers are bound to. */
export const answersContext = (surveyId: string) => `survey:${surveyId}:answers`;

export type SurveyDoc = VersionedCaseRecord & {
  _id: string;
  /** The scheduled visit it fulfils (1, 2, 3…), or null for a visit outside the schedule. */
  visit: number | null;
  visitedOn: string;
  /** The MONITORING_VISIT progress update that reports the visit. */
  progressUpdateId: string;
  /** The survey definition's version it was scored with. */
  surveyVersion: string;
  scores: SustainabilityScores;
  /** Sealed JSON of the scored answers (src/crypto/sealed.ts), bound to `survey:<id>:answers`. */
  answersSealed: string;
  recordedBy: Actor;
  recordedAt: Date;
};

export const surveySchema = new Schema<SurveyDoc>(
  {
    _id: { type: String, required: true },
    ...caseRecordFields,
    visit: { type: Number, default: null },
    visitedOn: { type: String, required: true },
    progressUpdateId: { type: String, required: true },
    surveyVersion: { type: String, required: true },
    scores: { type: Schema.Types.Mixed, required: true },
    answersSealed: { type: String, required: true },
    recordedBy: { organisation: String, subject: String },
    recordedAt: { type: Date, required: true },
    ...versionedFields,
  },
  { collection: 'surveys', versionKey: false },
);
surveySchema.plugin(tenantScoped);
surveySchema.index({ caseId: 1, visitedOn: -1, recordedAt: -1, _id: -1 });
surveySchema.index({ memberState: 1, caseId: 1 });
surveySchema.index({ partner: 1, sharedWithPartner: 1, caseId: 1 });
