// Per-request DataLoaders: whatever a page of results fans out to is fetched in one
// store round trip per kind, and each record at most once per request. Loaders of
// tenant-owned records are bound to the caller, so they only ever load within its scope.
// Each loader is made the first time a resolver asks for it: a request reads two or three
// kinds, and making all thirteen (each with its cache and queue) for every request was a
// measurable share of a small request's allocations.
import DataLoader from 'dataloader';
import type { Principal } from '../auth/principal.ts';
import type { CaseDoc } from '../modules/cases/case.model.ts';
import type { EvidenceDoc } from '../modules/evidence/evidence.model.ts';
import type { SurveyDoc } from '../modules/monitoring/monitoring.model.ts';
import type { PlanDoc } from '../modules/plans/plan.model.ts';
import type { PlanAtCase } from '../modules/plans/plan.service.ts';
import type { ProgressDoc } from '../modules/progress/progress.model.ts';
import type { ShipmentDoc } from '../modules/shipments/shipment.model.ts';
import type { Services } from '../services.ts';

/** The cases this request has read, by id (the case loader's cache: what resolvers primed or it loaded). */
type CasesAsRead = Map<string, Promise<CaseDoc | null>>;

/**
 * Each case as this request read it (with the record ids it keeps), or only its id: a
 * case's own page then reads its records by primary key (recordsOfCaseDocs). Never loads.
 */
async function casesAsRead(cases: CasesAsRead, ids: readonly string[]): Promise<Pick<CaseDoc, '_id' | 'recordIds'>[]> {
  return Promise.all(ids.map(async (id) => (await cases.get(id)?.catch(() => null)) ?? { _id: id }));
}

const needPrincipal = (principal: Principal | null): Principal => {
  if (!principal) throw new Error('loader used without a principal');
  return principal;
};

/** How each loader is made, for one request's services and caller. */
const MAKERS = {
  organisation: (services: Services) => new DataLoader((codes: readonly string[]) => services.organisations.getMany(codes)),
  programme: (services: Services) => new DataLoader((codes: readonly string[]) => services.organisations.getProgrammes(codes)),
  /** The contracts of an organisation that the caller may see. */
  contractsOf: (services: Services, principal: Principal | null) =>
    new DataLoader((codes: readonly string[]) => services.organisations.contractsOfMany(needPrincipal(principal), codes)),
  /** Cases by id; resolvers prime it with the case they resolve (see casesAsRead). */
  case: (services: Services, principal: Principal | null, cases: CasesAsRead) =>
    new DataLoader((ids: readonly string[]) => services.cases.getMany(needPrincipal(principal), ids), { cacheMap: cases }),
  /** A plan version by `<caseId>:<planVersion>`. */
  plan: (services: Services, principal: Principal | null) =>
    new DataLoader((ids: readonly string[]) => services.plans.byIds(needPrincipal(principal), ids)),
  /** A plan version of a case as the case is at its version (see CaseVersions). */
  planAt: (services: Services, principal: Principal | null) =>
    new DataLoader<PlanAtCase, PlanDoc | null, string>((keys) => services.plans.atCaseVersions(needPrincipal(principal), keys), {
      cacheKeyFn: (key) => `${key.ref}@${key.caseVersion}`,
    }),
  /** Every plan version of a case, oldest first. */
  plansOfCase: (services: Services, principal: Principal | null) =>
    new DataLoader<string, PlanDoc[]>((caseIds) => services.plans.plansOf(needPrincipal(principal), caseIds)),
  // A case's child records, each kind in one query for a whole page of cases. Resolvers
  // of attachments (proofs, certificates, surveys of a visit) pick from these too.
  progressOfCase: (services: Services, principal: Principal | null, cases: CasesAsRead) =>
    new DataLoader<string, ProgressDoc[]>(async (caseIds) =>
      services.progress.ofCaseDocs(needPrincipal(principal), await casesAsRead(cases, caseIds)),
    ),
  evidenceOfCase: (services: Services, principal: Principal | null) =>
    new DataLoader<string, EvidenceDoc[]>((caseIds) => services.evidence.ofCases(needPrincipal(principal), caseIds)),
  shipmentsOfCase: (services: Services, principal: Principal | null, cases: CasesAsRead) =>
    new DataLoader<string, ShipmentDoc[]>(async (caseIds) =>
      services.shipments.ofCaseDocs(needPrincipal(principal), await casesAsRead(cases, caseIds)),
    ),
  surveysOfCase: (services: Services, principal: Principal | null, cases: CasesAsRead) =>
    new DataLoader<string, SurveyDoc[]>(async (caseIds) =>
      services.monitoring.ofCaseDocs(needPrincipal(principal), await casesAsRead(cases, caseIds)),
    ),
  finalReport: (services: Services, principal: Principal | null) =>
    new DataLoader((caseIds: readonly string[]) => services.finalReports.ofCases(needPrincipal(principal), caseIds)),
};

type Makers = typeof MAKERS;
export type Loaders = { readonly [K in keyof Makers]: ReturnType<Makers[K]> };

/** The loaders of one request: each made on first use, then the same one for the rest of the request. */
class RequestLoaders {
  readonly cases: CasesAsRead = new Map();
  constructor(
    readonly services: Services,
    readonly principal: Principal | null,
  ) {}
}
for (const key of Object.keys(MAKERS) as (keyof Makers)[]) {
  Object.defineProperty(RequestLoaders.prototype, key, {
    get(this: RequestLoaders) {
      const loader = MAKERS[key](this.services, this.principal, this.cases);
      Object.defineProperty(this, key, { value: loader, enumerable: true });
      return loader;
    },
  });
}

export function createLoaders(services: Services, principal: Principal | null): Loaders {
  return new RequestLoaders(services, principal) as unknown as Loaders;
}
