// Shipments of MATERIALS components procured SHIPPED: what is sent, by whom, and every
// step from order to handover, each with its time, place and actor.
import { caseRecordFields, type VersionedCaseRecord } from '../cases/case.model.ts';
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import type { Actor } from '../evidence/evidence.model.ts';
import type { ComponentRef } from '../progress/progress.model.ts';
import { SHIPMENT_STATUSES, type ShipmentStatus } from './shipment.state.ts';
import { versionedFields } from '../../events/event.model.ts';

export type ShipmentEvent = {
  status: ShipmentStatus;
  /** When it happened (as reported). */
  at: Date;
  place: string;
  /** Who recorded it. */
  actor: Actor;
  /** Who handled the goods at this step (a carrier, a customs broker), if someone else. */
  handledBy: string | null;
  note: string | null;
  /** An attachment (waybill, customs papers, the handover certificate). */
  evidence: string | null;
  recordedAt: Date;
};

export type ShipmentDoc = VersionedCaseRecord & {
  _id: string;
  component: ComponentRef;
  items: { description: string; quantity: number }[];
  supplier: string;
  carrier: string;
  trackingReference: string;
  origin: string;
  destination: string;
  status: ShipmentStatus;
  events: ShipmentEvent[];
  handoverCertificate: string | null;
  /** Handed over: the component's delivery is complete and takes no further shipment. */
  deliveryClosed: boolean;
};

export const shipmentSchema = new Schema<ShipmentDoc>(
  {
    _id: { type: String, required: true },
    ...caseRecordFields,
    component: { type: Schema.Types.Mixed, required: true },
    items: [{ _id: false, description: String, quantity: Number }],
    supplier: { type: String, required: true },
    carrier: { type: String, required: true },
    trackingReference: { type: String, required: true },
    origin: { type: String, required: true },
    destination: { type: String, required: true },
    status: { type: String, enum: SHIPMENT_STATUSES, required: true },
    events: { type: Schema.Types.Mixed, required: true },
    handoverCertificate: { type: String, default: null },
    deliveryClosed: { type: Boolean, required: true },
    ...versionedFields,
  },
  { collection: 'shipments', versionKey: false },
);
shipmentSchema.plugin(tenantScoped);
shipmentSchema.index({ caseId: 1, createdAt: 1 });
shipmentSchema.index({ memberState: 1, caseId: 1 });
shipmentSchema.index({ partner: 1, sharedWithPartner: 1, caseId: 1 });
