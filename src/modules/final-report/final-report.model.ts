// The partner's final report on a case: actual against planned per component with the
// proofs of payment, the last sustainability survey and the partner's feedback. Written
// once, when the case moves to FINAL_REPORTED; `_id` is the case id.
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import { caseRecordFields, type VersionedCaseRecord, type SustainabilityScores } from '../cases/case.model.ts';
import type { Actor } from '../evidence/evidence.model.ts';
import type { ComponentRef } from '../progress/progress.model.ts';
import { versionedFields } from '../../events/event.model.ts';

export type FinalReportLine = {
  component: ComponentRef;
  plannedEur: number;
  actualEur: number;
  /** Evidence ids of the receipts and invoices behind the actual spend. */
  proofs: string[];
};

export type FinalReportDoc = VersionedCaseRecord & {
  _id: string;
  planVersion: number;
  lines: FinalReportLine[];
  /** Reports stored before the entitlement was sealed carry it here; newer ones read it from their case. */
  entitlementEur?: number;
  plannedEur: number;
  actualEur: number;
  lastSurvey: { surveyId: string; visitedOn: string; scores: SustainabilityScores } | null;
  finalMeetingOn: string;
  feedback: string;
  language: string;
  submittedBy: Actor;
  submittedAt: Date;
};

export const finalReportSchema = new Schema<FinalReportDoc>(
  {
    _id: { type: String, required: true },
    ...caseRecordFields,
    planVersion: { type: Number, required: true },
    lines: { type: Schema.Types.Mixed, required: true },
    plannedEur: { type: Number, required: true },
    actualEur: { type: Number, required: true },
    lastSurvey: { type: Schema.Types.Mixed, default: null },
    finalMeetingOn: { type: String, required: true },
    feedback: { type: String, required: true },
    language: { type: String, required: true },
    submittedBy: { organisation: String, subject: String },
    submittedAt: { type: Date, required: true },
    ...versionedFields,
  },
  { collection: 'final_reports', versionKey: false },
);
finalReportSchema.plugin(tenantScoped);
finalReportSchema.index({ memberState: 1, caseId: 1 });
finalReportSchema.index({ partner: 1, sharedWithPartner: 1, caseId: 1 });
