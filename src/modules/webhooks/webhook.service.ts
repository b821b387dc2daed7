// Webhook endpoints: registration, secret rotation and disabling are writes like any
// other (an event with the endpoint's post-image); deliveries are listed and redelivered
// here and sent by webhook.delivery.ts.
import type { Model } from 'mongoose';
import { z } from 'zod';
import { Audience, authorize, webhookScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import type { WebhookSettings } from '../../config.ts';
import { decodeCursor, encodeCursor } from '../../cursor.ts';
import { AppError, badInput, notFound } from '../../errors.ts';
import { documentWrite, expectVersion, writtenDocument } from '../../events/executor.ts';
import { op } from '../../store/tenant.ts';
import { isoInstant, pageSize, parseInput } from '../../validation.ts';
import {
  webhookDeliverySchema,
  webhookEndpointSchema,
  type DeliveryStatus,
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
} from './webhook.model.ts';
import { newWebhookSecret } from './webhook.signature.ts';
import { urlProblem, type TargetPolicy } from './webhook.url.ts';
import { firstVersion, nextVersion } from '../../events/event.model.ts';
import type { Needs } from '../../deps.ts';

export const MAX_ENDPOINTS_PER_ORGANISATION = 10;
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
const MAX_DELIVERY_PAGE = 100;

const registerInput = z.object({
  url: z.string().trim().min(1, 'required'),
  events: z
    .array(z.string().regex(/^(\*|[A-Z][A-Za-z0-9]{1,63})$/, 'an event type such as CaseReferred, or *'))
    .min(1, 'at least one event type, or *')
    .max(100),
});

/**
 * A free slot for a new endpoint, if the organisation has one: each active endpoint holds
 * one of MAX_ENDPOINTS_PER_ORGANISATION slots, and a slot is free when the newest
 * generation registered into it is disabled (disabling is final). Endpoints registered
 * before slots (no `slot`) keep as many slots from the top while they are active.
 */
export function freeSlot(existing: readonly WebhookEndpointDoc[]): { slot: number; generation: number } | undefined {
  const unslotted = existing.filter((e) => e.slot == null && e.status === 'ACTIVE').length;
  const newest = new Map<number, WebhookEndpointDoc>();
  for (const e of existing) {
    if (e.slot == null) continue;
    const held = newest.get(e.slot);
    if (!held || (held.generation ?? 0) < (e.generation ?? 0)) newest.set(e.slot, e);
  }
  for (let slot = 0; slot < MAX_ENDPOINTS_PER_ORGANISATION - unslotted; slot += 1) {
    const held = newest.get(slot);
    if (!held || held.status === 'DISABLED') return { slot, generation: (held?.generation ?? 0) + 1 };
  }
  return undefined;
}

/**
 * Runs a registration again when another one took its slot first (a version conflict on
 * the slot's generation): the next attempt sees that endpoint and takes another slot, or
 * finds none free. Bounded by the number of slots.
 */
async function claimingSlot<T>(register: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await register();
    } catch (error) {
      const lostSlot = error instanceof AppError && error.code === 'CONFLICT' && error.extensions.reason === undefined;
      if (!lostSlot || attempt > MAX_ENDPOINTS_PER_ORGANISATION) throw error;
    }
  }
}

export type WebhookWithSecret = { endpoint: WebhookEndpointDoc; secret: string };
export type DeliveryPage = { deliveries: WebhookDeliveryDoc[]; endCursor: string | null; hasMore: boolean };

export type WebhookService = ReturnType<typeof createWebhookService>;

export function createWebhookService(
  deps: Needs<'store' | 'executor' | 'log' | 'clock' | 'sealer'> & {
    settings: WebhookSettings;
    /** Development mode: loopback receivers are allowed. */
    developmentMode: boolean;
  },
) {
  const { store, executor, log, clock, sealer, settings } = deps;
  const Endpoints: Model<WebhookEndpointDoc> = store.model('WebhookEndpoint', webhookEndpointSchema);
  const Deliveries: Model<WebhookDeliveryDoc> = store.model('WebhookDelivery', webhookDeliverySchema);
  const targets: TargetPolicy = { allowLoopback: deps.developmentMode, allowPrivateNetworks: settings.allowPrivateNetworks };

  const secretContext = (id: string) => `webhook:${id}`;

  function withSecret(doc: WebhookEndpointDoc): WebhookWithSecret {
    return { endpoint: doc, secret: sealer.openText(doc.secretSealed, secretContext(doc._id)) };
  }

  /** Load (scoped) → version check → next state → one event with the endpoint's post-image. */
  async function mutateEndpoint(
    p: Principal,
    command: string,
    id: string,
    expectedVersion: number,
    idempotencyKey: string | null | undefined,
    decide: (current: WebhookEndpointDoc, now: Date) => { type: string; next: WebhookEndpointDoc },
  ): Promise<WebhookEndpointDoc> {
    const { event } = await executor.execute({
      principal: p,
      command,
      input: { id, expectedVersion },
      idempotencyKey,
      decide: async () => {
        const current = await Endpoints.findOne({ _id: id })
          .setOptions({ scope: webhookScope(p) })
          .lean<WebhookEndpointDoc>();
        if (!current) throw notFound('WebhookEndpoint', id);
        expectVersion('WebhookEndpoint', id, current.version, expectedVersion);
        const now = clock.now();
        const { type, next } = decide(current, now);
        const doc = nextVersion(current, next, now);
        return documentWrite({
          aggregateType: 'webhook',
          collection: 'webhook_endpoints',
          doc,
          type,
          audience: [Audience.auditOnly(current.organisation)],
          data: { url: doc.url, events: doc.events, status: doc.status },
        });
      },
    });
    return writtenDocument<WebhookEndpointDoc>(event);
  }

  function decodeDeliveryCursor(cursor: string): { createdAt: Date; id: string } {
    const [at, id] = decodeCursor(cursor, 'deliveries', z.tuple([isoInstant, z.string()]), 'this list');
    return { createdAt: new Date(at), id };
  }

  return {
    targets,
    secretsOf(doc: WebhookEndpointDoc, now: Date): string[] {
      const current = sealer.openText(doc.secretSealed, secretContext(doc._id));
      const previous =
        doc.previousSecretSealed && doc.previousSecretValidUntil && doc.previousSecretValidUntil > now
          ? [sealer.openText(doc.previousSecretSealed, secretContext(doc._id))]
          : [];
      return [current, ...previous];
    },

    async endpoints(principal: Principal | null): Promise<WebhookEndpointDoc[]> {
      const p = authorize(principal, 'webhook.manage');
      return Endpoints.find({})
        .setOptions({ scope: webhookScope(p) })
        .sort({ createdAt: 1 })
        .lean<WebhookEndpointDoc[]>();
    },

    async register(
      principal: Principal | null,
      args: { url: string; events: readonly string[] },
      idempotencyKey?: string | null,
    ): Promise<WebhookWithSecret> {
      const p = authorize(principal, 'webhook.manage');
      const input = parseInput(registerInput, args);
      const problem = urlProblem(input.url, targets);
      if (problem) throw badInput(`This URL cannot receive webhooks: ${problem}.`, [{ path: 'url', message: problem }]);
      const events = input.events.includes('*') ? ['*'] : [...new Set(input.events)].sort();
      const { event } = await claimingSlot(() =>
        executor.execute({
          principal: p,
          command: 'registerWebhook',
          input: { url: input.url, events },
          idempotencyKey,
          decide: async () => {
            const existing = await Endpoints.find({})
              .setOptions({ scope: webhookScope(p) })
              .lean<WebhookEndpointDoc[]>();
            const free = freeSlot(existing);
            if (!free) {
              throw badInput(`An organisation may have at most ${MAX_ENDPOINTS_PER_ORGANISATION} active endpoints.`, [
                { path: 'url', message: 'too many endpoints; disable one first' },
              ]);
            }
            // The id names the slot and its generation: a second registration into the same
            // free slot claims the same event version, and the log's unique index refuses it.
            const id = `${p.organisation.code}:webhook:${free.slot}:${free.generation}`;
            const now = clock.now();
            const doc: WebhookEndpointDoc = {
              _id: id,
              organisation: p.organisation.code,
              slot: free.slot,
              generation: free.generation,
              url: input.url,
              events,
              status: 'ACTIVE',
              secretSealed: sealer.seal(newWebhookSecret(), secretContext(id)),
              previousSecretSealed: null,
              previousSecretValidUntil: null,
              ...firstVersion(now),
            };
            return documentWrite({
              aggregateType: 'webhook',
              collection: 'webhook_endpoints',
              doc,
              type: 'WebhookRegistered',
              audience: [Audience.auditOnly(p.organisation.code)],
              data: { url: doc.url, events },
            });
          },
        }),
      );
      // A retried request gets the same secret back: it is in the post-image, sealed.
      return withSecret(writtenDocument<WebhookEndpointDoc>(event));
    },

    async rotateSecret(
      principal: Principal | null,
      args: { id: string; expectedVersion: number },
      idempotencyKey?: string | null,
    ): Promise<WebhookWithSecret> {
      const p = authorize(principal, 'webhook.manage');
      const doc = await mutateEndpoint(p, 'rotateWebhookSecret', args.id, args.expectedVersion, idempotencyKey, (c, now) => {
        if (c.status !== 'ACTIVE') throw badInput('This endpoint is disabled.', [{ path: 'id', message: 'disabled' }]);
        return {
          type: 'WebhookSecretRotated',
          next: {
            ...c,
            secretSealed: sealer.seal(newWebhookSecret(), secretContext(c._id)),
            previousSecretSealed: c.secretSealed,
            previousSecretValidUntil: new Date(now.getTime() + ROTATION_OVERLAP_MS),
          },
        };
      });
      return withSecret(doc);
    },

    async disable(principal: Principal | null, args: { id: string; expectedVersion: number }, idempotencyKey?: string | null) {
      const p = authorize(principal, 'webhook.manage');
      return mutateEndpoint(p, 'disableWebhook', args.id, args.expectedVersion, idempotencyKey, (c) => {
        if (c.status === 'DISABLED') throw badInput('This endpoint is disabled already.', [{ path: 'id', message: 'disabled' }]);
        return {
          type: 'WebhookDisabled',
          next: { ...c, status: 'DISABLED', previousSecretSealed: null, previousSecretValidUntil: null },
        };
      });
    },

    async deliveries(
      principal: Principal | null,
      args: { status?: DeliveryStatus | null; endpointId?: string | null; first?: number | null; after?: string | null },
    ): Promise<DeliveryPage> {
      const p = authorize(principal, 'webhook.manage');
      const first = pageSize(args.first, 50, MAX_DELIVERY_PAGE);
      const query: Record<string, unknown> = {};
      if (args.status) query.status = args.status;
      if (args.endpointId) query.endpointId = String(args.endpointId);
      if (args.after) {
        const c = decodeDeliveryCursor(args.after);
        query.$or = [{ createdAt: op({ $lt: c.createdAt }) }, { createdAt: c.createdAt, _id: op({ $lt: c.id }) }];
      }
      const docs = await Deliveries.find(query)
        .setOptions({ scope: webhookScope(p) })
        .sort({ createdAt: -1, _id: -1 })
        .limit(first + 1)
        .lean<WebhookDeliveryDoc[]>();
      const page = docs.slice(0, first);
      const last = page.at(-1);
      return {
        deliveries: page,
        endCursor: last ? encodeCursor('deliveries', [last.createdAt.toISOString(), last._id]) : null,
        hasMore: docs.length > first,
      };
    },

    /** Sends a delivery again: recorded as an event, then queued for the next run of the sender. */
    async redeliver(principal: Principal | null, id: string, idempotencyKey?: string | null): Promise<WebhookDeliveryDoc> {
      const p = authorize(principal, 'webhook.manage');
      const delivery = await Deliveries.findOne({ _id: id })
        .setOptions({ scope: webhookScope(p) })
        .lean<WebhookDeliveryDoc>();
      if (!delivery) throw notFound('WebhookDelivery', id);
      const endpoint = await Endpoints.findOne({ _id: delivery.endpointId })
        .setOptions({ scope: webhookScope(p) })
        .lean<WebhookEndpointDoc>();
      if (endpoint?.status !== 'ACTIVE') {
        throw badInput('The endpoint of this delivery is disabled; register a new one.', [{ path: 'id', message: 'disabled' }]);
      }
      if (delivery.status === 'PENDING') return delivery;
      const { event, replayed } = await executor.execute({
        principal: p,
        command: 'redeliver',
        input: { id },
        idempotencyKey,
        decide: async () => ({
          aggregateType: 'webhookDelivery',
          aggregateId: id,
          version: (await log.latestVersion('webhookDelivery', id)) + 1,
          type: 'WebhookRedeliveryRequested',
          audience: [Audience.auditOnly(p.organisation.code)],
          data: { endpointId: delivery.endpointId, previousStatus: delivery.status },
          changes: [],
        }),
      });
      // A replayed request whose delivery was sent since has nothing left to do.
      const acted = replayed && delivery.lastAttemptAt !== null && delivery.lastAttemptAt > event.at;
      if (acted) return delivery;
      const queued = { status: 'PENDING' as const, failures: 0, nextAttemptAt: clock.now(), heldUntil: null };
      await Deliveries.updateOne({ _id: id }, { $set: queued }).setOptions({ scope: webhookScope(p) });
      return { ...delivery, ...queued };
    },
  };
}
