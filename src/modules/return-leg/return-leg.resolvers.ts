import type { Resolvers } from '../../graphql/generated/types.ts';
import { eur } from '../../money.ts';
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
    returnSupport: (c, _, { services, principal }) => {
      const support = services.returnLeg.supportFor(principal, c);
      return support ? { ...support, case: c } : null;
    },
    arrivalHandover: (c) => arrivalHandover(c.returnSupport ?? null),
  },
  ReturnSupport: {
    guidance: (rs, _, { services, principal, access }) => services.returnLeg.guidance(principal, rs.case, access),
  },
  TravelDocument: { cost: (d) => eur(d.costEur) },
  Ticket: { landTravelAllowance: (t) => eur(t.landTravelAllowanceEur) },
  FirstPeriodContribution: { amount: (f) => eur(f.amountEur) },
  ArrivalHandover: {
    landTravelAllowance: (h) => eur(h.landTravelAllowanceEur),
    firstPeriodContribution: (h) => eur(h.firstPeriodContributionEur),
  },
};
