// What each GraphQL object type resolves from: the plain documents services return.
// Codegen reads this file (see codegen.ts) so resolver types match the models.
export type { OrganisationDoc as OrganisationModel } from '../modules/organisations/organisation.model.ts';
export type { ContractDoc as ContractModel } from '../modules/organisations/organisation.model.ts';
export type { ProgrammeDoc as ProgrammeModel } from '../modules/organisations/organisation.model.ts';
export type { Principal as MeModel } from '../auth/principal.ts';
export type { CaseView as CaseModel } from '../modules/cases/case.store.ts';
export type { PlanDoc as PlanModel } from '../modules/plans/plan.model.ts';
export type { PlanComponent as PlanComponentModel } from '../modules/plans/plan.model.ts';
export type { MaterialItem as MaterialItemModel } from '../modules/plans/plan.model.ts';
export type { EntitlementView as EntitlementModel } from '../modules/cases/case.model.ts';
export type { EntitlementLine as EntitlementLineModel } from '../modules/cases/case.model.ts';
export type { CaseConnection as CaseConnectionModel } from '../modules/cases/case.list.ts';
export type { ExchangeRateDoc as ExchangeRateModel } from '../modules/rates/rate.model.ts';

export type { FeedChange as ChangeModel } from '../modules/feed/feed.service.ts';
export type { ChangePage as ChangePageModel } from '../modules/feed/feed.service.ts';
export type { StoredEvent as AuditEntryModel } from '../events/event.model.ts';
export type { AuditTrailPage as AuditTrailModel } from '../modules/audit/audit.service.ts';
export type { WebhookEndpointDoc as WebhookEndpointModel } from '../modules/webhooks/webhook.model.ts';
export type { WebhookDeliveryDoc as WebhookDeliveryModel } from '../modules/webhooks/webhook.model.ts';
export type { WebhookWithSecret as WebhookSecretModel } from '../modules/webhooks/webhook.service.ts';
export type { DeliveryPage as WebhookDeliveryPageModel } from '../modules/webhooks/webhook.service.ts';
export type { StatisticsTable as StatisticsTableModel } from '../modules/statistics/statistics.service.ts';
export type { StatisticsCellView as StatisticsCellModel } from '../modules/statistics/statistics.cells.ts';
export type { ExtractDoc as ExtractRequestModel, ExtractPart as ExtractPartModel } from '../modules/extracts/extract.model.ts';
export type ExtractFileModel = import('../modules/extracts/extract.model.ts').ExtractBuild & {
  extractId: string;
  downloads: number;
};

export type MoneyModel = { amount: number; currency: string };

export type HouseholdMemberModel = import('../modules/cases/case.model.ts').HouseholdMember & { age: number };

// Implementation: progress, evidence, shipments, monitoring, deadlines, final report.
export type { EvidenceDoc as EvidenceModel, Actor as ActorModel } from '../modules/evidence/evidence.model.ts';
export type {
  ProgressDoc as ProgressUpdateModel,
  ComponentRef as ComponentRefModel,
} from '../modules/progress/progress.model.ts';
export type { ProgressPage as ProgressConnectionModel } from '../modules/progress/progress.service.ts';
export type { Budget as BudgetModel, BudgetLine as BudgetLineModel } from '../modules/progress/budget.ts';
export type { ShipmentDoc as ShipmentModel } from '../modules/shipments/shipment.model.ts';
export type { SurveyDoc as SurveyModel } from '../modules/monitoring/monitoring.model.ts';
export type { SurveyDefinition as SurveyDefinitionModel } from '../modules/monitoring/survey.ts';
export type { Deadline as DeadlineModel } from '../modules/deadlines/deadline.rules.ts';
export type { OverdueItem as OverdueItemModel } from '../modules/deadlines/deadline.service.ts';
export type { FinalReportDoc as FinalReportModel } from '../modules/final-report/final-report.model.ts';
export type { CaseDoc as MonitoringModel } from '../modules/cases/case.model.ts';

/** Child records that resolve attachments of their case carry the case id along. */
export type SpendModel = import('../modules/progress/progress.model.ts').SpendRecord & { caseId: string };
export type ShipmentEventModel = import('../modules/shipments/shipment.model.ts').ShipmentEvent & { caseId: string };
export type FinalReportLineModel = import('../modules/final-report/final-report.model.ts').FinalReportLine & { caseId: string };
export type ScheduledVisitModel = import('../modules/cases/case.model.ts').ScheduledVisit & {
  caseId: string;
  status: import('../modules/deadlines/deadline.rules.ts').DeadlineStatus;
};

// The portal's support: the work list and a plan's costing before it is submitted.
export type { WorkItem as WorkItemModel } from '../modules/worklist/worklist.service.ts';
export type { PlanCosting as PlanCostingModel } from '../modules/plans/plan.costing.ts';

// The return leg (src/modules/return-leg): the case carried along for sealed guidance.
export type ReturnSupportModel = import('../modules/return-leg/return-leg.model.ts').ReturnSupport & {
  case: import('../modules/cases/case.model.ts').CaseDoc;
};
export type { TravelDocument as TravelDocumentModel } from '../modules/return-leg/return-leg.model.ts';
export type { Ticket as TicketModel } from '../modules/return-leg/return-leg.model.ts';
export type { Contribution as FirstPeriodContributionModel } from '../modules/return-leg/return-leg.model.ts';
export type { ArrivalHandover as ArrivalHandoverModel } from '../modules/return-leg/return-leg.model.ts';

// Case teams (src/modules/teams): the team as the case stores it.
export type { CaseTeam as CaseTeamModel, TeamMember as CaseTeamMemberModel } from '../auth/case-team.ts';
