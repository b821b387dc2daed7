// What each GraphQL object type resolves from: the plain documents services return.
// Codegen reads this file (see codegen.ts) so resolver types match the models.
export type { OrganisationDoc as OrganisationModel } from '../modules/organisations/organisation.model.ts';
export type { ContractDoc as ContractModel } from '../modules/organisations/organisation.model.ts';
export type { ProgrammeDoc as ProgrammeModel } from '../modules/organisations/organisation.model.ts';
export type { Principal as MeModel } from '../auth/principal.ts';
export type { CaseDoc as CaseModel } from '../modules/cases/case.model.ts';
export type { PlanDoc as PlanModel } from '../modules/cases/case.model.ts';
export type { PlanComponent as PlanComponentModel } from '../modules/cases/case.model.ts';
export type { MaterialItem as MaterialItemModel } from '../modules/cases/case.model.ts';
export type { Entitlement as EntitlementModel } from '../modules/cases/case.model.ts';
export type { EntitlementLine as EntitlementLineModel } from '../modules/cases/case.model.ts';
export type { CaseConnection as CaseConnectionModel } from '../modules/cases/case.service.ts';
export type { ExchangeRateDoc as ExchangeRateModel } from '../modules/rates/rate.model.ts';

export type MoneyModel = { amount: number; currency: string };

export type HouseholdMemberModel = import('../modules/cases/case.model.ts').HouseholdMember & { age: number };
