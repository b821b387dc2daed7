// Webhook endpoints (an organisation's integration settings, written as events like any
// other record) and deliveries (operational state of sending one event to one endpoint,
// written by the delivery loop). Both are tenant-owned by `organisation`.
import { Schema } from 'mongoose';
import { tenantScoped } from '../../store/tenant.ts';
import { versionedFields, type Versioned } from '../../events/event.model.ts';

export type WebhookEndpointDoc = Versioned & {
  _id: string;
  organisation: string;
  /**
   * Which of the organisation's endpoint slots it holds, and the how-manieth registration into
   * that slot it is (its id is made of both; see freeSlot). Absent on endpoints registered before slots.
   */
  slot?: number;
  generation?: number;
  url: string;
  /** Event types, or `*`. */
  events: string[];
  status: 'ACTIVE' | 'DISABLED';
  /** The signing secret, sealed (AES-256-GCM, bound to the endpoint id). */
  secretSealed: string;
  /** The secret before the last rotation, still signing alongside until `previousSecretValidUntil`. */
  previousSecretSealed: string | null;
  previousSecretValidUntil: Date | null;
};

export const webhookEndpointSchema = new Schema<WebhookEndpointDoc>(
  {
    _id: { type: String, required: true },
    organisation: { type: String, required: true },
    slot: { type: Number },
    generation: { type: Number },
    url: { type: String, required: true },
    events: { type: [String], required: true },
    status: { type: String, enum: ['ACTIVE', 'DISABLED'], required: true },
    secretSealed: { type: String, required: true },
    previousSecretSealed: { type: String, default: null },
    previousSecretValidUntil: { type: Date, default: null },
    ...versionedFields,
  },
  { collection: 'webhook_endpoints', versionKey: false },
);
webhookEndpointSchema.plugin(tenantScoped);
webhookEndpointSchema.index({ organisation: 1, createdAt: 1 });

export type DeliveryStatus = 'PENDING' | 'DELIVERED' | 'PARKED';

export type WebhookDeliveryDoc = {
  /** Deterministic from endpoint and event, so creating it twice is one delivery. */
  _id: string;
  organisation: string;
  endpointId: string;
  eventSeq: number;
  eventType: string;
  /** AggregateKind of the change (CASE, CONTRACT, ...). */
  kind: string;
  aggregateId: string;
  aggregateVersion: number;
  eventAt: Date;
  actorOrganisation: string;
  /** The organisation may no longer see the aggregate (it should delete its copy). */
  removed: boolean;
  status: DeliveryStatus;
  /** Attempts made in all (numbers the attempt claims). */
  attempts: number;
  /** Failures since the delivery was created or last redelivered (parks it at the limit). */
  failures: number;
  nextAttemptAt: Date | null;
  /** An instance sending it holds it until then; a crashed instance's hold simply lapses. */
  heldUntil: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
};

export const webhookDeliverySchema = new Schema<WebhookDeliveryDoc>(
  {
    _id: { type: String, required: true },
    organisation: { type: String, required: true },
    endpointId: { type: String, required: true },
    eventSeq: { type: Number, required: true },
    eventType: { type: String, required: true },
    kind: { type: String, required: true },
    aggregateId: { type: String, required: true },
    aggregateVersion: { type: Number, required: true },
    eventAt: { type: Date, required: true },
    actorOrganisation: { type: String, required: true },
    removed: { type: Boolean, required: true },
    status: { type: String, enum: ['PENDING', 'DELIVERED', 'PARKED'], required: true },
    attempts: { type: Number, required: true },
    failures: { type: Number, required: true },
    nextAttemptAt: { type: Date, default: null },
    heldUntil: { type: Date, default: null },
    lastAttemptAt: { type: Date, default: null },
    lastStatusCode: { type: Number, default: null },
    lastError: { type: String, default: null },
    deliveredAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'webhook_deliveries', versionKey: false },
);
webhookDeliverySchema.plugin(tenantScoped);
// The sender: due deliveries across tenants.
webhookDeliverySchema.index({ status: 1, nextAttemptAt: 1 });
// An organisation's deliveries, newest first, by status or endpoint.
webhookDeliverySchema.index({ organisation: 1, status: 1, createdAt: -1, _id: -1 });
webhookDeliverySchema.index({ organisation: 1, createdAt: -1, _id: -1 });
webhookDeliverySchema.index({ organisation: 1, endpointId: 1, createdAt: -1, _id: -1 });
// Housekeeping of old delivered ones.
webhookDeliverySchema.index({ createdAt: 1 });

/** Claims of one attempt: inserting `<delivery>:<attempt>:<hold window>` is what lets an instance send it. */
export type AttemptClaimDoc = { _id: string; deliveryId: string; owner: string; at: Date };
export const attemptClaimSchema = new Schema<AttemptClaimDoc>(
  {
    _id: { type: String, required: true },
    deliveryId: { type: String, required: true },
    owner: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'webhook_attempt_claims', versionKey: false },
);
attemptClaimSchema.index({ at: 1 });

/** How far the dispatcher has turned the log into deliveries (one document). */
export type DispatchStateDoc = { _id: string; seq: number; at: Date };
export const dispatchStateSchema = new Schema<DispatchStateDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true }, at: { type: Date, required: true } },
  { collection: 'webhook_dispatch', versionKey: false },
);
