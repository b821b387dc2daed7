// What each GraphQL object type resolves from: the plain documents services return.
// Codegen reads this file (see codegen.ts) so resolver types match the models.
export type { OrganisationDoc as OrganisationModel } from '../modules/organisations/organisation.model.ts';
export type { ContractDoc as ContractModel } from '../modules/organisations/organisation.model.ts';
export type { ProgrammeDoc as ProgrammeModel } from '../modules/organisations/organisation.model.ts';
export type { Principal as MeModel } from '../auth/principal.ts';

export type MoneyModel = { amount: number; currency: string };
