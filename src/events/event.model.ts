// The event log: one document per accepted write, `_id` = its gap-free sequence number.
// Inserting an event is the write's commit point. Three unique claims make it safe on a
// store without transactions: the sequence (`_id`), the aggregate's next version, and the
// request (`requestKey`), so a request retried with its idempotency key commits once
// whatever happened to its earlier attempts.
import { Schema } from 'mongoose';

/** A document an event writes: the post-image the projection applies. */
export type DocumentChange = {
  collection: string;
  /** The whole new document; it carries `_id` and its own `version` (1 = created). */
  doc: Record<string, unknown> & { _id: string; version: number };
};

/**
 * What every document events write carries beside its own fields: its version (what a
 * write's expectedVersion is checked against; 1 = created) and when it was created and last
 * changed. Models declare it once: `Versioned &` in the type, `...versionedFields` in the schema.
 */
export type Versioned = { version: number; createdAt: Date; updatedAt: Date };

/** The stamp of a document created at `now`. */
export const firstVersion = (now: Date): Versioned => ({ version: 1, createdAt: now, updatedAt: now });

/** The next version of a document: `changed` applied, its version one up, changed at `now`. */
export function nextVersion<T extends Versioned>(current: T, changed: NoInfer<Partial<T>>, now: Date): T {
  return { ...current, ...changed, version: current.version + 1, updatedAt: now };
}

export const versionedFields = {
  version: { type: Number, required: true },
  createdAt: { type: Date, required: true },
  updatedAt: { type: Date, required: true },
} as const;

export type Actor = {
  subject: string;
  organisation: string;
  roles: string[];
};

export type EventDraft = {
  aggregateType: string;
  aggregateId: string;
  /** The aggregate's version after this event: 1 for a creation. */
  version: number;
  type: string;
  actor: Actor;
  /** Organisation codes that may read this event (`*`: every authenticated organisation). */
  audience: string[];
  /** What happened, beyond the documents it changed (reasons, comments, figures). */
  data: Record<string, unknown>;
  changes: DocumentChange[];
  /** `<organisation>:<key>` when the write carried an idempotency key. */
  idempotencyKey: string | null;
  /**
   * With a key: a keyed digest of the request (Sealer.fingerprint), so the key reused for
   * another request is refused even after its idempotency record is gone. Older events lack it.
   */
  requestHash?: string | null;
  /** The case this event concerns, if any (case writes, child records, audited reads). */
  caseId?: string | null;
};

export type StoredEvent = EventDraft & {
  _id: number;
  at: Date;
  prevHash: string;
  hash: string;
};

export const eventSchema = new Schema(
  {
    // The sequence number, zero-padded (see eventDocumentId in log.ts).
    _id: { type: String, required: true },
    aggregateType: { type: String, required: true },
    aggregateId: { type: String, required: true },
    version: { type: Number, required: true },
    type: { type: String, required: true },
    at: { type: Date, required: true },
    actor: { type: Schema.Types.Mixed, required: true },
    audience: { type: [String], required: true },
    data: { type: Schema.Types.Mixed },
    changes: { type: Schema.Types.Mixed },
    idempotencyKey: { type: String, default: null },
    requestHash: { type: String, default: null },
    // Stored only (see requestKeyOf in log.ts): the idempotency key, or `#<seq>` without one.
    requestKey: { type: String, required: true },
    caseId: { type: String, default: null },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { collection: 'events', versionKey: false, minimize: false },
);

// The version claim: a second event for the same aggregate version is a conflict.
eventSchema.index({ aggregateType: 1, aggregateId: 1, version: 1 }, { unique: true });
// The change feed and subscriptions: an organisation's events in log order.
eventSchema.index({ audience: 1, _id: 1 });
// The request claim: a second event for the same idempotency key is refused by the store,
// so no timing (a crash, a lost answer, a slow first attempt) can apply a request twice.
// Every event sets it (`#<seq>` without a key): MongoDB would collide on a missing field.
eventSchema.index({ requestKey: 1 }, { unique: true });
// Finding the events of idempotent writes by prefix (the demo seed's own keys).
eventSchema.index({ idempotencyKey: 1 });
// Aggregate history, and a case's audit trail (its own events, its records', its reads).
eventSchema.index({ aggregateId: 1, _id: 1 });
eventSchema.index({ caseId: 1, _id: 1 });
// Event history by type and time (deadline checks, statistics of activity).
eventSchema.index({ type: 1, _id: 1 });

export const GENESIS_HASH = '0'.repeat(64);
