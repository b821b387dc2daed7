// Turning the log into webhook deliveries, and sending them. Both run on every gateway
// instance (background jobs without a lease) and stay correct there:
//
// - dispatch reads the log after a shared cursor and inserts one delivery per (endpoint,
//   event) with a deterministic id, so two instances dispatching the same events make
//   one delivery; the cursor moves only after the deliveries are stored.
// - send picks due deliveries and claims each attempt by inserting
//   `<delivery>:<attempt>:<hold window>`; only the instance whose insert succeeds sends.
//   The delivery is then held for the window; a crashed instance's hold lapses and the
//   next window's claim sends it again (at least once; receivers dedupe by delivery id).
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Model } from 'mongoose';
import { mayActNow, principalFor, SYSTEM_PRINCIPAL, type Principal } from '../../auth/principal.ts';
import type { WebhookSettings } from '../../config.ts';
import type { StoredEvent } from '../../events/event.model.ts';
import { isDuplicateKey } from '../../store/store.ts';
import { op, SYSTEM } from '../../store/tenant.ts';
import { encodeCursor } from '../feed/cursor.ts';
import { WITHHELD_TYPE } from '../feed/feed.service.ts';
import {
  attemptClaimSchema,
  dispatchStateSchema,
  webhookDeliverySchema,
  webhookEndpointSchema,
  type AttemptClaimDoc,
  type DispatchStateDoc,
  type WebhookDeliveryDoc,
  type WebhookEndpointDoc,
} from './webhook.model.ts';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './webhook.signature.ts';
import { guardedLookup, literalRefusal } from './webhook.url.ts';
import type { Needs } from '../../deps.ts';

const DISPATCH_PAGE = 500;
const SEND_BATCH = 50;
const SEND_CONCURRENCY = 8;
const STATE_ID = 'log';

/** The delivery id: the same endpoint and event always give the same id. */
export function deliveryId(endpointId: string, eventSeq: number): string {
  return `wd_${createHash('sha256').update(`${endpointId}:${eventSeq}`).digest('base64url').slice(0, 32)}`;
}

/** Exponential backoff with jitter: base·2^(n-1), capped, then a random 50–100 % of it. */
export function retryDelay(failures: number, settings: Pick<WebhookSettings, 'retryBaseMs' | 'retryMaxMs'>): number {
  const exponential = Math.min(settings.retryMaxMs, settings.retryBaseMs * 2 ** Math.min(failures - 1, 30));
  return Math.round(exponential * (0.5 + Math.random() / 2));
}

type EndpointWindow = { endpoint: WebhookEndpointDoc; from: number; until: number };

export type WebhookDelivery = ReturnType<typeof createWebhookDelivery>;

export function createWebhookDelivery(
  deps: Needs<'store' | 'log' | 'clock' | 'logger' | 'feed' | 'organisations' | 'webhooks'> & { settings: WebhookSettings },
) {
  const { store, log, clock, logger, feed, organisations, webhooks, settings } = deps;
  const Endpoints: Model<WebhookEndpointDoc> = store.model('WebhookEndpoint', webhookEndpointSchema);
  const Deliveries: Model<WebhookDeliveryDoc> = store.model('WebhookDelivery', webhookDeliverySchema);
  const Claims: Model<AttemptClaimDoc> = store.model('WebhookAttemptClaim', attemptClaimSchema);
  const State: Model<DispatchStateDoc> = store.model('WebhookDispatchState', dispatchStateSchema);
  const owner = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  /** An attempt's hold: longer than any request may take. */
  const holdMs = settings.timeoutMs * 2 + 5_000;
  const lookup = guardedLookup(webhooks.targets);

  // Facts about endpoints that never change once known: where in the log they start and stop.
  const registeredAt = new Map<string, number>();
  const disabledAt = new Map<string, number>();

  async function startOf(endpoint: WebhookEndpointDoc): Promise<number> {
    let seq = registeredAt.get(endpoint._id);
    if (seq === undefined) {
      seq = (await log.findVersion('webhook', endpoint._id, 1))?._id ?? Number.MAX_SAFE_INTEGER;
      registeredAt.set(endpoint._id, seq);
    }
    return seq;
  }

  async function endOf(endpoint: WebhookEndpointDoc): Promise<number> {
    if (endpoint.status === 'ACTIVE') return Number.MAX_SAFE_INTEGER;
    let seq = disabledAt.get(endpoint._id);
    if (seq === undefined) {
      const history = await log.history(endpoint._id);
      seq = history.find((e) => e.aggregateType === 'webhook' && e.type === 'WebhookDisabled')?._id ?? 0;
      disabledAt.set(endpoint._id, seq);
    }
    return seq;
  }

  async function principalOf(code: string): Promise<Principal | null> {
    const org = await organisations.lookup(code);
    // An organisation that may not sign in any more (or a unit of a state that may not) gets nothing pushed to it either.
    if (!org || !(await mayActNow(org, (c) => organisations.lookup(c)))) return null;
    // Made as a request's principal is (a unit's member state included), so its feed's rule applies.
    return principalFor(org, { subject: 'webhooks', issuer: SYSTEM_PRINCIPAL.issuer, roles: [] });
  }

  const wants = (endpoint: WebhookEndpointDoc, event: StoredEvent) =>
    endpoint.events.includes('*') || endpoint.events.includes(event.type);
  /**
   * Whether an endpoint may want an event before it is presented to its organisation: a change
   * may yet be withheld (WITHHELD_TYPE), so an endpoint asking for that type may want any; its
   * own type must not decide, or which endpoints get a withheld change would tell what it was.
   */
  const mayWant = (endpoint: WebhookEndpointDoc, event: StoredEvent) =>
    wants(endpoint, event) || endpoint.events.includes(WITHHELD_TYPE);

  /** Turns the next page of the log into deliveries. Returns how many events it read. */
  async function dispatch(): Promise<number> {
    const state = await State.findOne({ _id: STATE_ID }).lean<DispatchStateDoc>();
    let cursor = state?.seq ?? 0;
    if (!state) {
      // Nothing to deliver before the first endpoint: start from the head when there is none yet.
      const head = await log.lastCommittedSeq();
      if (!(await log.firstOfType('webhook', head))) cursor = head;
      await State.collection.insertOne({ _id: STATE_ID as never, seq: cursor, at: clock.now() }).catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      });
    }
    const events = await feed.eventsAfter(cursor, DISPATCH_PAGE);
    if (events.length === 0) return 0;

    const windows = new Map<string, EndpointWindow>();
    // Every organisation's endpoints (a handful each), in a stable order.
    const all = await Endpoints.find({}).setOptions({ scope: SYSTEM }).sort({ _id: 1 }).lean<WebhookEndpointDoc[]>();
    for (const endpoint of all) {
      windows.set(endpoint._id, { endpoint, from: await startOf(endpoint), until: await endOf(endpoint) });
    }
    // Endpoints registered or disabled within this page count from their own event, even
    // when their post-image is not projected yet.
    for (const event of events) {
      if (event.aggregateType !== 'webhook') continue;
      const endpoint = event.changes[0]?.doc as unknown as WebhookEndpointDoc | undefined;
      if (!endpoint) continue;
      const known = windows.get(endpoint._id);
      if (event.version === 1) registeredAt.set(endpoint._id, event._id);
      if (event.type === 'WebhookDisabled') disabledAt.set(endpoint._id, event._id);
      windows.set(endpoint._id, {
        endpoint: known?.endpoint ?? endpoint,
        from: registeredAt.get(endpoint._id) ?? known?.from ?? event._id,
        until: disabledAt.get(endpoint._id) ?? known?.until ?? Number.MAX_SAFE_INTEGER,
      });
    }

    const now = clock.now();
    const deliveries: WebhookDeliveryDoc[] = [];
    const byOrganisation = new Map<string, EndpointWindow[]>();
    for (const w of windows.values())
      byOrganisation.set(w.endpoint.organisation, [...(byOrganisation.get(w.endpoint.organisation) ?? []), w]);
    for (const [code, endpoints] of byOrganisation) {
      const principal = await principalOf(code);
      if (!principal) continue;
      const relevant = events.filter((e) => endpoints.some((w) => e._id > w.from && e._id < w.until && mayWant(w.endpoint, e)));
      if (relevant.length === 0) continue;
      // The same rule as the organisation's feed, applied now.
      for (const change of await feed.present(principal, relevant)) {
        const { event } = change;
        for (const w of endpoints) {
          if (!(event._id > w.from && event._id < w.until && wants(w.endpoint, event))) continue;
          deliveries.push({
            _id: deliveryId(w.endpoint._id, event._id),
            organisation: code,
            endpointId: w.endpoint._id,
            eventSeq: event._id,
            eventType: event.type,
            kind: change.kind,
            aggregateId: event.aggregateId,
            aggregateVersion: event.version,
            eventAt: event.at,
            actorOrganisation: event.actor.organisation,
            removed: change.removed,
            status: 'PENDING',
            attempts: 0,
            failures: 0,
            nextAttemptAt: now,
            heldUntil: null,
            lastAttemptAt: null,
            lastStatusCode: null,
            lastError: null,
            deliveredAt: null,
            createdAt: now,
          });
        }
      }
    }
    if (deliveries.length > 0) {
      try {
        await Deliveries.collection.insertMany(deliveries as never[], { ordered: false });
      } catch (error) {
        // Another instance dispatched some of these already: the same ids, the same deliveries.
        if (!isDuplicateKey(error)) throw error;
      }
    }
    const reached = events.at(-1)!._id;
    await State.collection.updateOne({ _id: STATE_ID as never }, { $max: { seq: reached }, $set: { at: now } });
    return events.length;
  }

  async function post(
    endpoint: WebhookEndpointDoc,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status?: number; error?: string }> {
    const url = new URL(endpoint.url);
    const refused = literalRefusal(url, webhooks.targets);
    if (refused) return { error: `refused: the URL names ${refused}` };
    const client = url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const request = client.request(
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
          lookup: lookup,
          signal: AbortSignal.timeout(settings.timeoutMs),
          agent: false,
        },
        (response) => {
          // The answer's body is not ours to read: drain and drop it.
          response.resume();
          response.on('end', () => resolve({ status: response.statusCode ?? 0 }));
          response.on('error', () => resolve({ status: response.statusCode ?? 0 }));
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ error: error.name === 'AbortError' ? 'timed out' : (error.code ?? error.message).slice(0, 200) }),
      );
      request.end(body);
    });
  }

  async function attempt(delivery: WebhookDeliveryDoc, endpoints: Map<string, WebhookEndpointDoc | null>): Promise<void> {
    const now = clock.now();
    const number = delivery.attempts + 1;
    try {
      await Claims.collection.insertOne({
        _id: `${delivery._id}:${number}:${Math.floor(now.getTime() / holdMs)}` as never,
        deliveryId: delivery._id,
        owner,
        at: now,
      });
    } catch (error) {
      if (isDuplicateKey(error)) return; // another instance sends this attempt
      throw error;
    }
    await Deliveries.updateOne(
      { _id: delivery._id },
      { $set: { attempts: number, heldUntil: new Date(now.getTime() + holdMs) } },
    ).setOptions({ scope: SYSTEM });

    if (!endpoints.has(delivery.endpointId)) {
      endpoints.set(
        delivery.endpointId,
        await Endpoints.findOne({ _id: delivery.endpointId }).setOptions({ scope: SYSTEM }).lean<WebhookEndpointDoc>(),
      );
    }
    const endpoint = endpoints.get(delivery.endpointId);
    const refusal =
      endpoint?.status !== 'ACTIVE'
        ? 'the endpoint is disabled'
        : !(await principalOf(endpoint.organisation))
          ? 'the organisation is not active'
          : undefined;
    if (!endpoint || refusal) {
      await Deliveries.updateOne(
        { _id: delivery._id },
        { $set: { status: 'PARKED', heldUntil: null, nextAttemptAt: null, lastError: refusal ?? 'the endpoint is gone' } },
      ).setOptions({ scope: SYSTEM });
      return;
    }

    let result: { status?: number; error?: string };
    try {
      result = await sign(delivery, endpoint, number, now);
    } catch (error) {
      // Our own failure (a secret that does not open with this instance's key, say): it
      // counts like the receiver's, so the delivery is parked in the end, not retried forever.
      logger.error({ err: error, delivery: delivery._id }, 'webhook attempt could not be made');
      result = { error: 'the gateway could not sign or send this delivery (see its log)' };
    }
    await record(delivery, result);
  }

  async function sign(
    delivery: WebhookDeliveryDoc,
    endpoint: WebhookEndpointDoc,
    number: number,
    now: Date,
  ): Promise<{ status?: number; error?: string }> {
    const body = JSON.stringify({
      deliveryId: delivery._id,
      endpointId: delivery.endpointId,
      attempt: number,
      change: {
        cursor: encodeCursor(delivery.eventSeq),
        kind: delivery.kind,
        aggregateId: delivery.aggregateId,
        version: delivery.aggregateVersion,
        type: delivery.eventType,
        at: delivery.eventAt.toISOString(),
        actorOrganisation: delivery.actorOrganisation,
        removed: delivery.removed,
      },
    });
    const timestamp = Math.floor(now.getTime() / 1000);
    return post(endpoint, body, {
      'user-agent': 'ERIN-Exchange-Webhooks/1',
      [DELIVERY_HEADER]: delivery._id,
      [EVENT_HEADER]: delivery.eventType,
      [SIGNATURE_HEADER]: signatureHeader(webhooks.secretsOf(endpoint, now), timestamp, body),
    });
  }

  /** Writes the outcome of an attempt this instance claimed. */
  async function record(delivery: WebhookDeliveryDoc, result: { status?: number; error?: string }): Promise<void> {
    const done = clock.now();
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    if (ok) {
      await Deliveries.updateOne(
        { _id: delivery._id },
        {
          $set: {
            status: 'DELIVERED',
            deliveredAt: done,
            lastAttemptAt: done,
            lastStatusCode: result.status,
            lastError: null,
            nextAttemptAt: null,
            heldUntil: null,
          },
        },
      ).setOptions({ scope: SYSTEM });
      return;
    }
    const failures = delivery.failures + 1;
    const parked = failures >= settings.maxAttempts;
    await Deliveries.updateOne(
      { _id: delivery._id },
      {
        $set: {
          status: parked ? 'PARKED' : 'PENDING',
          failures,
          lastAttemptAt: done,
          lastStatusCode: result.status ?? null,
          lastError: result.error ?? `HTTP ${result.status}`,
          nextAttemptAt: parked ? null : new Date(done.getTime() + retryDelay(failures, settings)),
          heldUntil: null,
        },
      },
    ).setOptions({ scope: SYSTEM });
    if (parked) logger.warn({ delivery: delivery._id, endpoint: delivery.endpointId, failures }, 'webhook delivery parked');
  }

  /** Sends the deliveries that are due. Returns how many it looked at. */
  async function send(): Promise<number> {
    const now = clock.now();
    const due = await Deliveries.find({ status: 'PENDING', nextAttemptAt: op({ $lte: now }) })
      .setOptions({ scope: SYSTEM })
      .sort({ nextAttemptAt: 1 })
      .limit(SEND_BATCH)
      .lean<WebhookDeliveryDoc[]>();
    const ready = due.filter((d) => !d.heldUntil || d.heldUntil <= now);
    const endpoints = new Map<string, WebhookEndpointDoc | null>();
    let next = 0;
    const worker = async () => {
      while (next < ready.length) {
        const delivery = ready[next]!;
        next += 1;
        await attempt(delivery, endpoints).catch((error: unknown) =>
          logger.warn({ err: error, delivery: delivery._id }, 'webhook attempt failed'),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, ready.length) }, worker));
    return due.length;
  }

  return {
    dispatch,
    send,
    /** One run of both: dispatch until the log is read, then send what is due. */
    async run(): Promise<void> {
      for (let i = 0; i < 20 && (await dispatch()) === DISPATCH_PAGE; i += 1);
      await send();
    },
    /** Attempt claims are history once their window has passed; delivered deliveries after a while. */
    async purge(claimsBefore: Date, deliveredBefore: Date): Promise<void> {
      await Claims.collection.deleteMany({ at: { $lt: claimsBefore } });
      await Deliveries.deleteMany({ createdAt: op({ $lt: deliveredBefore }), status: 'DELIVERED' }).setOptions({ scope: SYSTEM });
    },
  };
}
