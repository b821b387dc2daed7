import type { Resolvers } from '../../graphql/generated/types.ts';
import { requirePrincipal } from '../../auth/policy.ts';
import { eur } from '../../money.ts';
import { writtenAlongside } from '../cases/case.store.ts';
import type { FinalReportDoc } from './final-report.model.ts';

export const finalReportResolvers: Resolvers = {
  Case: {
    finalReport: (c, _, { loaders, principal }) =>
      writtenAlongside<FinalReportDoc>(c, c._id, requirePrincipal(principal)) ?? loaders.finalReport.load(c._id),
  },
  FinalReport: {
    lines: (r) => r.lines.map((l) => ({ ...l, caseId: r.caseId })),
    // Special category, like the case's entitlement: from the case, for a party allowed it, audited.
    entitlement: async (r, _, { services, principal, access, loaders }) => {
      const kase = await loaders.case.load(r.caseId);
      const amounts = kase ? await services.sealing.entitlementAmounts(principal, kase, access, 'entitlement.total') : null;
      return amounts ? eur(amounts.total) : null;
    },
    planned: (r) => eur(r.plannedEur),
    actual: (r) => eur(r.actualEur),
    lastSurvey: async (r, _, { loaders }) =>
      r.lastSurvey ? ((await loaders.surveysOfCase.load(r.caseId)).find((s) => s._id === r.lastSurvey!.surveyId) ?? null) : null,
  },
  FinalReportLine: {
    planned: (l) => eur(l.plannedEur),
    actual: (l) => eur(l.actualEur),
    difference: (l) => eur(l.actualEur - l.plannedEur),
    proofs: async (l, _, { loaders }) => (await loaders.evidenceOfCase.load(l.caseId)).filter((e) => l.proofs.includes(e._id)),
  },
  Mutation: {
    submitFinalReport: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.finalReports.submit(principal, args, idempotencyKey)).case,
  },
};
