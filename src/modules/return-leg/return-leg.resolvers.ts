import type { Resolvers } from '../../graphql/generated/types.ts';
import type { OrganisationDoc } from '../organisations/organisation.model.ts';

export const returnLegResolvers: Resolvers = {
  Mutation: {
    assignImplementingOrganisation: async (_, { idempotencyKey, ...args }, { services, principal }) =>
      (await services.returnLeg.assignImplementingOrganisation(principal, args, idempotencyKey)).case,
  },
  Case: {
    implementingOrganisation: (c, _, { loaders }) =>
      c.implementingOrganisation ? loaders.organisation.load(c.implementingOrganisation) : null,
    units: async (c, _, { loaders }) =>
      (await loaders.organisation.loadMany(c.units)).filter((o): o is OrganisationDoc => o !== null && !(o instanceof Error)),
  },
};
