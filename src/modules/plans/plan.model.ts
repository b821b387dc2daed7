// Plan versions: documents of their own (`<caseId>:<planVersion>`), records of their case
// (its tenant fields), written only as post-images of the case's events.
import { Schema } from 'mongoose';
import type { Money } from '../../money.ts';
import { tenantScoped } from '../../store/tenant.ts';
import { caseRecordFields, type VersionedCaseRecord } from '../cases/case.model.ts';
import { versionedFields } from '../../events/event.model.ts';

export type MaterialItem = { description: string; quantity: number; unitCost: Money };

export type PlanComponent = {
  id: string;
  kind: 'TRAINING' | 'BUSINESS_PLAN' | 'MATERIALS' | 'SERVICE' | 'CASH';
  title: string;
  cost: Money;
  costEur: number | null;
  training: { provider: string; course: string; startDate: string; endDate: string; certificateExpected: boolean } | null;
  businessPlan: {
    sector: string;
    description: string;
    location: string;
    startupCosts: Money;
    expectedMonthlyIncome: Money;
  } | null;
  materials: { items: MaterialItem[]; supplier: string; procurement: 'LOCAL' | 'SHIPPED' } | null;
  service: { category: string; provider: string; description: string } | null;
  cash: { purpose: string } | null;
};

export type PlanStatus = 'DRAFT' | 'SUBMITTED' | 'APPROVED' | 'CHANGES_REQUESTED' | 'SUPERSEDED';

export type AppliedRate = { currency: string; rate: string; validFrom: string };

export type PlanDoc = VersionedCaseRecord & {
  /** `<caseId>:<planVersion>` */
  _id: string;
  planVersion: number;
  status: PlanStatus;
  amendmentOf: number | null;
  summary: string | null;
  components: PlanComponent[];
  totalEur: number | null;
  cashEur: number | null;
  ratesUsed: AppliedRate[];
  submittedAt: Date | null;
  decidedAt: Date | null;
  decisionComment: string | null;
};

export const planSchema = new Schema<PlanDoc>(
  {
    _id: { type: String, required: true },
    ...caseRecordFields,
    planVersion: { type: Number, required: true },
    status: { type: String, required: true },
    amendmentOf: { type: Number, default: null },
    summary: { type: String, default: null },
    components: { type: Schema.Types.Mixed, required: true },
    totalEur: { type: Number, default: null },
    cashEur: { type: Number, default: null },
    ratesUsed: { type: Schema.Types.Mixed, default: [] },
    submittedAt: { type: Date, default: null },
    decidedAt: { type: Date, default: null },
    decisionComment: { type: String, default: null },
    ...versionedFields,
  },
  { collection: 'plans', versionKey: false },
);
planSchema.plugin(tenantScoped);
planSchema.index({ caseId: 1, planVersion: 1 }, { unique: true });
planSchema.index({ memberState: 1, caseId: 1 });
planSchema.index({ partner: 1, sharedWithPartner: 1, caseId: 1 });
