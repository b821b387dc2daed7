// Per-request DataLoaders: whatever a page of results fans out to is fetched in one
// store round trip per kind, and each record at most once per request. Loaders of
// tenant-owned records are bound to the caller, so they only ever load within its scope.
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.ts';
import type { PlanDoc } from '../modules/cases/case.model.ts';
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
    plan: new DataLoader((ids: readonly string[]) => services.cases.plansById(needPrincipal(), ids)),
    /** Every plan version of a case, oldest first. */
    plansOfCase: new DataLoader<string, PlanDoc[]>((caseIds) => services.cases.plansOf(needPrincipal(), caseIds)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
