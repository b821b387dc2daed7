import type { Resolvers } from '../../graphql/generated/types.ts';
import { evidenceOf } from '../evidence/evidence.lookup.ts';
import { SHIPMENT_STEPS } from './shipment.state.ts';

export const shipmentResolvers: Resolvers = {
  Case: {
    shipments: (c, _, { loaders }) => {
      loaders.case.prime(c._id, c); // its records are read as this case keeps them
      return loaders.shipmentsOfCase.load(c._id);
    },
  },
  Shipment: {
    id: (s) => s._id,
    allowedNext: (s) => [...SHIPMENT_STEPS[s.status]],
    events: (s) => s.events.map((e) => ({ ...e, caseId: s.caseId })),
    handoverCertificate: (s, _, { loaders }) =>
      s.handoverCertificate ? evidenceOf(loaders.evidenceOfCase, s.caseId, s.handoverCertificate) : null,
  },
  ShipmentEvent: {
    evidence: (e, _, { loaders }) => (e.evidence ? evidenceOf(loaders.evidenceOfCase, e.caseId, e.evidence) : null),
  },
  Mutation: {
    recordShipmentEvent: (_, { idempotencyKey, ...args }, { services, principal }) =>
      services.shipments.record(principal, args, idempotencyKey),
  },
};
