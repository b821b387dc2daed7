// Runs a write: idempotency claim, decision, event append (the commit point), projection,
// completion. Every accepted write of every module goes through here, so each appends
// exactly one event and a retried request is applied once.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.ts';
import { Audience } from '../auth/policy.ts';
import type { Principal } from '../auth/principal.ts';
import { conflict } from '../errors.ts';
import type { Sealer } from '../crypto/sealed.ts';
import type { TenantScope } from '../store/tenant.ts';
import { idempotencyKey as idempotencyKeySchema, parseInput } from '../validation.ts';
import { canonicalJson } from './canonical.ts';
import type { Actor, DocumentChange, EventDraft, StoredEvent } from './event.model.ts';
import { keyReusedForAnotherRequest, type IdempotencyStore } from './idempotency.ts';
import { AlreadyCommitted, VersionConflict, type EventLog } from './log.ts';

export type Decision = Omit<EventDraft, 'actor' | 'idempotencyKey'>;

export type WriteRequest = {
  principal: Principal;
  /** The operation's name; part of what an idempotency key is bound to. */
  command: string;
  input: unknown;
  idempotencyKey?: string | null | undefined;
  /** Loads, checks and decides; throws an AppError to refuse. Runs once per attempt. */
  decide: () => Promise<Decision>;
  /**
   * The scope the write acts in: the principal's own unless a background job says SYSTEM.
   * A replay is answered only while what the write touched is still within it (ReplayCheck).
   */
  scope?: TenantScope;
};

/**
 * Asked before a retried request is answered from the log: throws, as a fresh request would
 * (NOT_FOUND), when the caller may no longer see what the write touched — a case its state
 * took from it, a case given to another partner. A replay answers what the caller may see
 * now, never what it could see when it first wrote.
 */
export type ReplayCheck = (principal: Principal, event: StoredEvent, scope: TenantScope | undefined) => Promise<void>;

/** How far an attempt got: until it reaches the log, a failure is a refusal (nothing committed). */
type Attempt = { reachedLog: boolean };

export type WriteResult = {
  event: StoredEvent;
  /** True when an earlier request with the same idempotency key already did this write. */
  replayed: boolean;
};

export class CommandExecutor {
  /** Called after every committed write (subscriptions wake up sooner). */
  onCommit: ((event: StoredEvent) => void) | undefined;

  constructor(
    private readonly log: EventLog,
    private readonly idempotency: IdempotencyStore,
    /** Keyed digests of request inputs (see Sealer.fingerprint). */
    private readonly fingerprints: Pick<Sealer, 'fingerprint' | 'fingerprintMatches'>,
    private readonly logger: Logger,
    private readonly replayCheck: ReplayCheck,
  ) {}

  async execute(request: WriteRequest): Promise<WriteResult> {
    const { principal } = request;
    const idempotencyKey =
      request.idempotencyKey == null ? null : parseInput(idempotencyKeySchema, request.idempotencyKey, 'idempotencyKey');
    const key = idempotencyKey ? `${principal.organisation.code}:${idempotencyKey}` : null;
    if (!key) return { event: await this.commit(request, null), replayed: false };

    const input = canonicalJson({ command: request.command, input: request.input });
    const sameRequest = (fingerprint: string | null | undefined) =>
      fingerprint == null || this.fingerprints.fingerprintMatches(fingerprint, input);
    const keyed = { key, fingerprint: this.fingerprints.fingerprint(input) };
    const claim = await this.idempotency.claim(keyed, sameRequest, async (k) => {
      const event = await this.log.findByIdempotencyKey(k);
      if (event) await this.log.reconcile([event]);
      return event?._id;
    });
    if (claim.kind === 'replay') return this.replay(request, claim.eventSeq);
    const attempt: Attempt = { reachedLog: false };
    try {
      const event = await this.commit(request, keyed, attempt);
      await this.idempotency.complete(key, event._id);
      return { event, replayed: false };
    } catch (error) {
      if (claim.kind === 'claimed' && !attempt.reachedLog) {
        // Refused before the log took anything (by its decision, or a version taken), and no
        // earlier attempt with this key left a record: nothing with this key is in the log.
        await this.idempotency.release(key).catch(() => undefined);
        throw error;
      }
      // Committed before (the log refused a second event for the key), or by a concurrent
      // retry meanwhile, or by this attempt before an error: answer with that result.
      const committed =
        error instanceof AlreadyCommitted ? error.event : await this.log.findByIdempotencyKey(key).catch(() => null);
      if (committed && !sameRequest(committed.requestHash)) {
        // The key's record was gone (purged after its retention), and the key was reused for another request.
        await this.idempotency.release(key).catch(() => undefined);
        throw keyReusedForAnotherRequest();
      }
      if (committed) {
        // Finish its projection before answering, or the answer would name documents nobody can read yet.
        await this.log.reconcile([committed]);
        await this.idempotency.complete(key, committed._id);
        // Also here: a retry after an attempt of unknown outcome (or one that took over a
        // stale claim) reaches the log through this path when its decision refused it (say
        // with NOT_FOUND), and must not be answered more than that.
        await this.replayCheck(principal, committed, request.scope);
        return { event: committed, replayed: true };
      }
      // Not in the log (or the log could not be read). Refused: free the claim so the client
      // can correct and retry. Outcome unknown (the append or what followed it failed): the
      // write may have committed unseen, so the record says so and a retry asks the log at
      // once (a second commit is refused by the log's unique request claim anyway).
      if (attempt.reachedLog) await this.idempotency.unknown(key).catch(() => undefined);
      else await this.idempotency.release(key).catch(() => undefined);
      throw error;
    }
  }

  private async commit(
    request: WriteRequest,
    keyed: { key: string; fingerprint: string } | null,
    attempt: Attempt = { reachedLog: false },
  ): Promise<StoredEvent> {
    const decision = await request.decide();
    const { principal } = request;
    const draft: EventDraft = {
      ...decision,
      actor: actorOf(principal),
      idempotencyKey: keyed?.key ?? null,
      requestHash: keyed?.fingerprint ?? null,
    };
    let event: StoredEvent;
    try {
      attempt.reachedLog = true;
      event = await this.log.append(draft);
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      attempt.reachedLog = false; // refused: this attempt's event is not in the log
      // Someone else claimed this version. If their write was interrupted before its
      // projection, finish it now so the next attempt sees the true state. The log usually
      // found the winner among its newest events; else it is asked by its indexes.
      const winner = error.rival?.winner ?? (await this.log.findVersion(draft.aggregateType, draft.aggregateId, draft.version));
      if (winner) await this.log.reconcile([winner]);
      const current = error.rival?.current ?? (await this.log.latestVersion(draft.aggregateType, draft.aggregateId));
      throw conflict(
        `${draft.aggregateType} ${draft.aggregateId} was changed by someone else (now at version ${current}); reload and retry.`,
        current,
      );
    }
    this.onCommit?.(event);
    try {
      await this.log.project(event);
    } catch (error) {
      // The event is committed and the projection is finished by the next reconcile (at
      // start, on reconnect, or when a write meets this version). The client sees an
      // error, as for any write of unknown outcome; a retry with its key is answered from the log.
      this.logger.error({ err: error, seq: event._id }, 'projection failed after commit');
      throw error;
    }
    return event;
  }

  /**
   * Appends facts that change no document (audited reads, exports) in one round trip.
   * No idempotency key: each call records what happened once more.
   */
  async recordFacts(principal: Principal, facts: Decision[]): Promise<StoredEvent[]> {
    if (facts.some((f) => f.changes.length > 0)) throw new Error('a recorded fact changes no document');
    const actor = actorOf(principal);
    const events = await this.log.appendMany(facts.map((f) => ({ ...f, actor, idempotencyKey: null })));
    for (const event of events) this.onCommit?.(event);
    return events;
  }

  private async replay(request: WriteRequest, eventSeq: number): Promise<WriteResult> {
    const event = await this.log.get(eventSeq);
    if (!event) throw new Error(`idempotency record points at missing event ${eventSeq}`);
    await this.replayCheck(request.principal, event, request.scope);
    return { event, replayed: true };
  }
}

/** The decision of a write that changes one document, which is its own aggregate (same id, same version). */
export function documentWrite(write: {
  aggregateType: string;
  collection: string;
  doc: DocumentChange['doc'];
  type: string;
  audience: string[];
  data: Record<string, unknown>;
}): Decision {
  const { collection, doc, ...rest } = write;
  return { ...rest, aggregateId: doc._id, version: doc.version, changes: [{ collection, doc }] };
}

/**
 * The next revision of a piece of reference data that everyone sees (a programme, an
 * exchange rate): one document, its version one past the stored one, created when first written.
 */
export function revisionWrite<T extends { _id: string }>(write: {
  aggregateType: string;
  collection: string;
  current: { version: number; createdAt: Date } | null;
  fields: T;
  now: Date;
  /** The event's type when the document is new, and when it is replaced. */
  types: readonly [created: string, replaced: string];
}): Decision {
  const { current, fields, now } = write;
  const doc = {
    ...fields,
    version: (current?.version ?? 0) + 1,
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
  };
  return documentWrite({
    aggregateType: write.aggregateType,
    collection: write.collection,
    doc,
    type: current ? write.types[1] : write.types[0],
    audience: [Audience.everyone],
    data: {},
  });
}

/** An audited fact (a read, an export): its own fresh aggregate, so facts never conflict. */
export function fact(recorded: Pick<Decision, 'aggregateType' | 'type' | 'audience' | 'data' | 'caseId'>): Decision {
  return { ...recorded, aggregateId: randomUUID(), version: 1, changes: [] };
}

/** The document a one-document write left (also when the write was replayed). */
export const writtenDocument = <T>(event: StoredEvent): T => event.changes[0]!.doc as unknown as T;

/** Who a write's event names as its author. */
const actorOf = (principal: Principal): Actor => ({
  subject: principal.subject,
  organisation: principal.organisation.code,
  roles: [...principal.roles],
});

/** The check every update starts with: a stale `expectedVersion` is a conflict. */
export function expectVersion(kind: string, id: string, current: number, expected: number): void {
  if (current !== expected) {
    throw conflict(`${kind} ${id} is at version ${current}, not ${expected}; reload and retry.`, current);
  }
}
