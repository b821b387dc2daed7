// Progress updates: what the partner (and for some kinds the member state) reports on a
// case. Append-only: an update is never changed; a correction is a new update that
// names the one it corrects, and from then on stands in its place.
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import { caseRecordFields, type VersionedCaseRecord } from '../cases/case.model.ts';
import type { AppliedRate, PlanComponent } from '../plans/plan.model.ts';
import type { Actor } from '../evidence/evidence.model.ts';
import { versionedFields } from '../../events/event.model.ts';

export const PROGRESS_KINDS = [
  'ARRIVAL_SUPPORT',
  'COUNSELLING',
  'PURCHASE',
  'TRAINING_ATTENDANCE',
  'TRAINING_COMPLETED',
  'BUSINESS_STARTED',
  'MONITORING_VISIT',
  'CONCERN',
  'OTHER',
] as const;
export type ProgressKind = (typeof PROGRESS_KINDS)[number];

/** The plan component an update concerns, as it was named when the update was posted. */
export type ComponentRef = { id: string; kind: PlanComponent['kind']; title: string };

export type SpendRecord = {
  /** In the currency paid, minor units. */
  amount: number;
  currency: string;
  /** At the rate valid on the day it was spent. */
  amountEur: number;
  rate: AppliedRate;
  /** The evidence (receipt, invoice) that proves it. */
  proof: string;
};

export type ProgressDoc = VersionedCaseRecord & {
  _id: string;
  /** The case version this update's write produced: orders a case's updates, newest first. */
  caseVersion: number;
  kind: ProgressKind;
  component: ComponentRef | null;
  /** Sealed (AES-256-GCM): a narrative can carry health or other sensitive details. Open with `narrativeContext`. */
  narrativeSealed: string;
  /** BCP 47 language tag of the narrative (e.g. `en`, `ps-AF`). */
  language: string;
  occurredOn: string;
  spend: SpendRecord | null;
  /** The update this one corrects (and replaces), if any. */
  corrects: string | null;
  postedBy: Actor;
  postedAt: Date;
};

export const progressSchema = new Schema<ProgressDoc>(
  {
    _id: { type: String, required: true },
    ...caseRecordFields,
    caseVersion: { type: Number, required: true },
    kind: { type: String, enum: PROGRESS_KINDS, required: true },
    component: { type: Schema.Types.Mixed, default: null },
    narrativeSealed: { type: String, required: true },
    language: { type: String, required: true },
    occurredOn: { type: String, required: true },
    spend: { type: Schema.Types.Mixed, default: null },
    corrects: { type: String, default: null },
    postedBy: { organisation: String, subject: String },
    postedAt: { type: Date, required: true },
    ...versionedFields,
  },
  { collection: 'progress_updates', versionKey: false },
);
progressSchema.plugin(tenantScoped);
progressSchema.index({ caseId: 1, caseVersion: -1 });
progressSchema.index({ memberState: 1, caseId: 1 });
progressSchema.index({ partner: 1, sharedWithPartner: 1, caseId: 1 });
progressSchema.index({ corrects: 1 });

/** What a narrative's ciphertext is bound to: its update. */
export const narrativeContext = (updateId: string) => `progress:${updateId}:narrative`;
