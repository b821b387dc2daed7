// Per-request DataLoaders: whatever a page of results fans out to is fetched in one
// store round trip per kind, and each record at most once per request. Loaders of
// tenant-owned records are bound to the caller, so they only ever load within its scope.
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.ts';
import type { EvidenceDoc } from '../modules/evidence/evidence.model.ts';
import type { SurveyDoc } from '../modules/monitoring/monitoring.model.ts';
import type { PlanDoc } from '../modules/plans/plan.model.ts';
import type { PlanAtCase } from '../modules/plans/plan.service.ts';
import type { ProgressDoc } from '../modules/progress/progress.model.ts';
import type { ShipmentDoc } from '../modules/shipments/shipment.model.ts';
import type { Services } from '../services.ts';

export function createLoaders(services: Services, principal: Principal | null) {
  const needPrincipal = (): Principal => {
    if (!principal) throw new Error('loader used without a principal');
    return principal;
  };
  return {
    organisation: new DataLoader((codes: readonly string[]) => services.organisations.getMany(codes)),
    programme: new DataLoader((codes: readonly string[]) => services.organisations.getProgrammes(codes)),
    /** The contracts of an organisation that the caller may see. */
    contractsOf: new DataLoader((codes: readonly string[]) => services.organisations.contractsOfMany(needPrincipal(), codes)),
    case: new DataLoader((ids: readonly string[]) => services.cases.getMany(needPrincipal(), ids)),
    /** A plan version by `<caseId>:<planVersion>`. */
    plan: new DataLoader((ids: readonly string[]) => services.plans.byIds(needPrincipal(), ids)),
    /** A plan version of a case as the case is at its version (see CaseVersions). */
    planAt: new DataLoader<PlanAtCase, PlanDoc | null, string>((keys) => services.plans.atCaseVersions(needPrincipal(), keys), {
      cacheKeyFn: (key) => `${key.ref}@${key.caseVersion}`,
    }),
    /** Every plan version of a case, oldest first. */
    plansOfCase: new DataLoader<string, PlanDoc[]>((caseIds) => services.plans.plansOf(needPrincipal(), caseIds)),
    // A case's child records, each kind in one query for a whole page of cases. Resolvers
    // of attachments (proofs, certificates, surveys of a visit) pick from these too.
    progressOfCase: new DataLoader<string, ProgressDoc[]>((caseIds) => services.progress.ofCases(needPrincipal(), caseIds)),
    evidenceOfCase: new DataLoader<string, EvidenceDoc[]>((caseIds) => services.evidence.ofCases(needPrincipal(), caseIds)),
    shipmentsOfCase: new DataLoader<string, ShipmentDoc[]>((caseIds) => services.shipments.ofCases(needPrincipal(), caseIds)),
    surveysOfCase: new DataLoader<string, SurveyDoc[]>((caseIds) => services.monitoring.ofCases(needPrincipal(), caseIds)),
    finalReport: new DataLoader((caseIds: readonly string[]) => services.finalReports.ofCases(needPrincipal(), caseIds)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
