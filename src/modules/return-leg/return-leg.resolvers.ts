import type { Resolvers } from '../../graphql/generated/types.ts';
import { eur } from '../../money.ts';
import { maySeeSpecialCategory } from '../cases/case.sealing.ts';
import type { OrganisationDoc } from '../organisations/organisation.model.ts';
import { arrivalHandover } from './return-leg.model.ts';

export const returnLegResolvers: Resolvers = {
  Mutation: {
    assignImplementingOrganisation: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.returnLeg.assignImplementingOrganisation(principal, args, idempotencyKey)).case,
    recordReturnStep: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.returnLeg.recordStep(principal, args, idempotencyKey)).case,
  },
  Case: {
    implementingOrganisation: (c, _, { loaders }) =>
      c.implementingOrganisation ? loaders.organisation.load(c.implementingOrganisation) : null,
    units: async (c, _, { loaders }) =>
      (await loaders.organisation.loadMany(c.units)).filter((o): o is OrganisationDoc => o !== null && !(o instanceof Error)),
    // The return leg is the member state's and its implementing organisation's; the partner gets the handover.
    returnSupport: (c, _, { principal }) =>
      c.returnSupport && principal?.organisation.kind !== 'PARTNER' ? { ...c.returnSupport, case: c } : null,
    arrivalHandover: (c) => arrivalHandover(c.returnSupport ?? null),
  },
  ReturnSupport: {
    guidance: async (rs, _, { services, principal, access }) => {
      if (!principal || !maySeeSpecialCategory(principal, rs.case) || !rs.guidanceSealed) return rs.guidanceSealed ? null : [];
      const notes = await services.returnLeg.openGuidance(rs.case);
      if (notes.length > 0) access.read(rs.case, 'guidance');
      return notes;
    },
  },
  TravelDocument: { cost: (d) => eur(d.costEur) },
  Ticket: { landTravelAllowance: (t) => eur(t.landTravelAllowanceEur) },
  FirstPeriodContribution: { amount: (f) => eur(f.amountEur) },
  ArrivalHandover: {
    landTravelAllowance: (h) => eur(h.landTravelAllowanceEur),
    firstPeriodContribution: (h) => eur(h.firstPeriodContributionEur),
  },
};
