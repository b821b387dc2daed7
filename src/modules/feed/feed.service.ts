// The change feed: the event log as each organisation may see it. The `changes` query,
// the `myFeed` and `caseEvents` subscriptions and (without the state) webhooks all
// present events through `present`, so one rule decides what anybody is told.
//
// A page never skips: the log is gap-free in the order events become visible (an event
// claims `head + 1` only after `head` is stored), so reading `_id > cursor` up to a head
// read first sees every event up to that head, and the next page continues from it.
// Events are read through the hub (feed.hub.ts): sealed segments of the caller's audience
// markers and the newest events in memory, so a page costs what it holds.
import { authorize, feedAudience, isCaseParty, mayLoseCases, mayReadInFeed } from '../../auth/policy.ts';
import { mayKnowCaseActor, mayKnowCaseEvent, mayTakeUnitOff, type TeamFacts } from '../../auth/case-team.ts';
import { isMemberStateUnit, type Principal } from '../../auth/principal.ts';
import type { StoredEvent } from '../../events/event.model.ts';
import { badInput } from '../../errors.ts';
import { pageSize, todayIso } from '../../validation.ts';
import { maySeeSpecialCategory, withoutSpecialCategory } from '../cases/case.sealing.ts';
import { withTeamOf } from '../cases/case.model.ts';
import type { CaseService } from '../cases/case.service.ts';
import { caseFromChanges, type CaseView } from '../cases/case.store.ts';
import type { FeedHub } from './feed.hub.ts';
import type { Needs } from '../../deps.ts';

export const MAX_FEED_PAGE = 1000;

export type AggregateKind = 'CASE' | 'EVIDENCE' | 'ORGANISATION' | 'CONTRACT' | 'PROGRAMME' | 'EXCHANGE_RATE' | 'OTHER';
type StateType = 'Case' | 'Evidence' | 'Organisation' | 'Contract' | 'Programme' | 'ExchangeRate';

const AGGREGATES: Record<string, { kind: AggregateKind; type: StateType }> = {
  case: { kind: 'CASE', type: 'Case' },
  evidence: { kind: 'EVIDENCE', type: 'Evidence' },
  organisation: { kind: 'ORGANISATION', type: 'Organisation' },
  contract: { kind: 'CONTRACT', type: 'Contract' },
  programme: { kind: 'PROGRAMME', type: 'Programme' },
  exchangeRate: { kind: 'EXCHANGE_RATE', type: 'ExchangeRate' },
};

/** A state document, named by the GraphQL type it is shown as (the AggregateState union). */
export type FeedState = Record<string, unknown> & { __typename: StateType };

export type FeedChange = {
  event: StoredEvent;
  kind: AggregateKind;
  /** The aggregate after the event, as the caller may see it; null when it may not (any more). */
  state: FeedState | null;
  /** The caller may no longer see this aggregate: a copy of it must be deleted. */
  removed: boolean;
};

export type ChangePage = { changes: FeedChange[]; endCursor: number; hasMore: boolean };

export type FeedService = ReturnType<typeof createFeedService>;

/**
 * Refuses a cursor past the log's head: no page or event of this feed gave it (another
 * deployment's, or one kept across a restore of the store from a backup). Taken as it is, it
 * would skip every change that later takes one of the numbers up to it.
 */
function assertWithinLog(after: number, head: number): void {
  if (after <= head) return;
  throw badInput('This cursor is past the end of the feed: it was not given by this feed. Sync again from the start.', [
    { path: 'after', message: 'past the end of the feed' },
  ]);
}

/**
 * A case event's state, made once per event object and shared by every page that presents it
 * (the hub and the sealed segments hand out the same objects): the case as the event wrote it,
 * and the two states a caller may be shown, with and without the special categories. Nobody
 * writes to a state; each page's rule only chooses which one it shows.
 */
type CaseStates = { written: CaseView | undefined; full?: FeedState; redacted?: FeedState };
const caseStates = new WeakMap<StoredEvent, CaseStates>();

function caseStatesOf(event: StoredEvent): CaseStates {
  let states = caseStates.get(event);
  if (!states) {
    states = { written: caseFromChanges(event.changes, event.aggregateId) };
    caseStates.set(event, states);
  }
  return states;
}

/** The case an event belongs to: a case's own events and its records' (files, missed deadlines). */
function caseIdOf(event: StoredEvent): string | null {
  return event.aggregateType === 'case' ? event.aggregateId : (event.caseId ?? null);
}

/** The document an event wrote for its aggregate, shown as the GraphQL type it is. */
function stateOf(event: StoredEvent, type: StateType): FeedState | null {
  const doc = event.changes.find((ch) => ch.doc._id === event.aggregateId)?.doc;
  return doc ? { ...doc, __typename: type } : null;
}

/** The type a change is shown with to a unit whose role does not see what it was about. */
export const WITHHELD_TYPE = 'CaseChanged';
/** The organisation a change is shown as made by to a unit that may not know who made it. */
export const WITHHELD_ACTOR = 'WITHHELD';

/**
 * The event as the principal may be told of it: whole, or — for a unit whose role on the case
 * does not see the change's subject, or may not know its maker — with the type and the actor
 * withheld, and nothing of what it carried (webhooks read the same object).
 */
function toldOf(p: Principal, live: TeamFacts & { memberState: string }, event: StoredEvent): StoredEvent {
  const what = mayKnowCaseEvent(p, live, event);
  const who = what && mayKnowCaseActor(p, live, event.actor.organisation);
  if (what && who) return event;
  return {
    ...event,
    type: what ? event.type : WITHHELD_TYPE,
    actor: { subject: WITHHELD_ACTOR, organisation: WITHHELD_ACTOR, roles: [] },
    data: what ? event.data : {},
    changes: [],
  };
}

export function createFeedService(deps: Needs<'clock'> & { cases: CaseService; hub: FeedHub }) {
  const { cases, hub, clock } = deps;

  /**
   * The cases as they are now, as the principal may see them (null: not a party now). The log
   * is ahead of the stored cases until an event's projection is written (subscribers hear of
   * an event as soon as it is appended, another gateway's reader as soon as it is in the log):
   * a case stored at a version older than the newest of its events being presented is taken as
   * that event wrote it, or a partner would be told that the case just referred to it is gone.
   */
  async function casesNow(p: Principal, caseIds: string[], events: StoredEvent[]): Promise<Map<string, CaseView | null>> {
    const newest = new Map<string, CaseView>();
    for (const event of events) {
      const written = event.aggregateType === 'case' ? caseStatesOf(event).written : undefined;
      if (written && written.version > (newest.get(written._id)?.version ?? 0)) newest.set(written._id, written);
    }
    const stored = await cases.getMany(p, caseIds);
    const now = await Promise.all(caseIds.map((id, i) => caseNow(p, stored[i] ?? null, newest.get(id))));
    return new Map(caseIds.map((id, i) => [id, now[i]!]));
  }

  /** A case as the principal may see it now: as stored (`doc`, in its scope) or as its newest event wrote it. */
  async function caseNow(p: Principal, doc: CaseView | null, newest: CaseView | undefined): Promise<CaseView | null> {
    if (!newest || (doc && doc.version >= newest.version)) return doc;
    const party = isCaseParty(p, newest);
    if (doc || !party) return party ? newest : null;
    // Out of the caller's scope as stored, but a party by the newest event: the store is behind
    // that event, or the case moved on since (read again: it is stored at least at that version
    // now, so what the scope finds is the case now).
    if ((await cases.storedVersion(newest._id)) < newest.version) return newest;
    return (await cases.getMany(p, [newest._id]))[0] ?? null;
  }

  /**
   * Events as a principal may see them: the feed rule, then each event of a case (the case's
   * own and its records': files, missed deadlines) against the case as it is now — whether the
   * caller is still a party, and for a unit what its role on the case's team sees (the one
   * table, src/auth/case-team.ts): it is told of a change only as far as that table lets it
   * see the change's subject on the case itself.
   */
  async function present(p: Principal, events: StoredEvent[]): Promise<FeedChange[]> {
    const visible = events.filter((e) => mayReadInFeed(p, e));
    const caseIds = [...new Set(visible.flatMap((e) => caseIdOf(e) ?? []))];
    // Only a caller that can lose a case needs the cases as they are now; for anyone else a
    // case they were party to when it was written is theirs still.
    const now = mayLoseCases(p) && caseIds.length > 0 ? await casesNow(p, caseIds, visible) : undefined;
    const unit = isMemberStateUnit(p.organisation.kind);
    const today = todayIso(clock.now());
    return visible.flatMap((event): FeedChange[] => {
      const aggregate = AGGREGATES[event.aggregateType];
      const caseId = caseIdOf(event);
      if (aggregate?.kind === 'CASE') {
        const states = caseStatesOf(event);
        const written = states.written;
        const live = now ? (now.get(event.aggregateId) ?? null) : (written ?? null);
        // A case the caller is no longer a party to (reassigned) is gone, history included.
        // A unit taken off a case hears only of the change that took it off (a change of the
        // case's units), none of the case's other events; a partner is told of each (its copy
        // may hold any of them).
        if (!live || !written || !isCaseParty(p, written)) {
          if (unit && (!mayTakeUnitOff(event) || (!live && written && isCaseParty(p, written)))) return [];
          // A partner that lost the case is told of its changes no more than while it had it
          // (a change of the team as CaseChanged, a unit's without its maker), judged by the
          // case as the change wrote it, the last it may know of.
          const facts = written ?? live;
          const told = unit ? event : toldOf(p, facts ?? { memberState: '' }, event);
          return [{ event: told, kind: 'CASE', state: null, removed: true }];
        }
        // Special category follows who may see it now, not who might then (a partner that declined).
        const state = maySeeSpecialCategory(p, live, today)
          ? (states.full ??= { ...written, __typename: 'Case' })
          : (states.redacted ??= { ...withoutSpecialCategory(written), __typename: 'Case' });
        // The case's new state (its fields gated as on the case) goes to every party, so a copy
        // stays current; what the change was is told only to whom may see its subject.
        return [{ event: toldOf(p, live, event), kind: 'CASE', state: unit ? withTeamOf(state, live) : state, removed: false }];
      }
      if (caseId && now) {
        const live = now.get(caseId) ?? null;
        // A record of a case the caller lost: a unit hears nothing more of the case, a partner
        // that its copy goes.
        if (!live) return unit ? [] : [{ event, kind: aggregate?.kind ?? 'OTHER', state: null, removed: true }];
        // A record (a file, a missed deadline) changes nothing of the case a unit may see unless
        // its role sees what the record is: otherwise it is not told of it at all.
        if (!mayKnowCaseEvent(p, live, event)) return [];
        const told = toldOf(p, live, event);
        if (!aggregate) return [{ event: told, kind: 'OTHER', state: null, removed: false }];
        return [{ event: told, kind: aggregate.kind, state: stateOf(event, aggregate.type), removed: false }];
      }
      if (!aggregate) return [{ event, kind: 'OTHER', state: null, removed: false }];
      return [{ event, kind: aggregate.kind, state: stateOf(event, aggregate.type), removed: false }];
    });
  }

  return {
    present,

    /** The log after `after`, every audience (webhook dispatch applies each organisation's rule through `present`). */
    async eventsAfter(after: number, limit: number): Promise<StoredEvent[]> {
      const head = await hub.catchUp();
      return head > after ? hub.read(null, after, head, limit) : [];
    },

    async changes(principal: Principal | null, args: { after?: number | null; first?: number | null }): Promise<ChangePage> {
      const p = authorize(principal, 'feed.read');
      const first = pageSize(args.first, 100, MAX_FEED_PAGE);
      const after = args.after ?? 0;
      // Everything up to the head read first is stored, so a short page may move the cursor to it.
      const head = await hub.catchUp();
      assertWithinLog(after, head);
      // One event more than the page, so `first: 0` still says whether anything waits (a client
      // asking "anything new?" before it pages), without moving the cursor past it.
      const events = await hub.read(feedAudience(p), after, head, first + 1);
      const hasMore = events.length > first;
      const page = events.slice(0, first);
      const endCursor = hasMore ? (page.at(-1)?._id ?? after) : head;
      return { changes: await present(p, page), endCursor, hasMore };
    },

    /** Events as they come, from `after` (or from now), optionally of one case only, through the hub. */
    async subscribe(
      principal: Principal | null,
      args: { after?: number | null; caseId?: string | null },
    ): Promise<AsyncIterableIterator<FeedChange>> {
      const p = authorize(principal, 'feed.read');
      const caseId = args.caseId ?? null;
      if (caseId) await cases.get(p, caseId); // NOT_FOUND unless the caller may see the case
      const head = await hub.catchUp();
      if (args.after != null) assertWithinLog(args.after, head);
      const start = args.after ?? head;
      return new FeedSubscription(p, start, caseId, { hub, present });
    },
  };
}

const BATCH = 500;

class FeedSubscription implements AsyncIterableIterator<FeedChange> {
  private queue: FeedChange[] = [];
  /** No more changes will come (the caller lost the case it follows); ends once the queue is empty. */
  private ended = false;
  private readonly abort = new AbortController();
  private readonly release: () => void;

  constructor(
    private readonly principal: Principal,
    private cursor: number,
    private readonly caseId: string | null,
    private readonly deps: {
      hub: FeedHub;
      present: (p: Principal, events: StoredEvent[]) => Promise<FeedChange[]>;
    },
  ) {
    this.release = deps.hub.join();
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<FeedChange> {
    return this;
  }

  async next(): Promise<IteratorResult<FeedChange>> {
    try {
      while (!this.abort.signal.aborted) {
        const change = this.queue.shift();
        if (change) return { value: change, done: false };
        if (this.ended) break;
        await this.fill();
      }
      if (this.ended) await this.return();
    } catch (error) {
      // The subscription ends with the error (the client resumes from its cursor); nobody
      // calls return() after a failed next(), so let go of the hub here.
      await this.return();
      throw error;
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<FeedChange>> {
    this.abort.abort();
    this.release();
    this.queue = [];
    return { value: undefined, done: true };
  }

  async throw(error?: unknown): Promise<IteratorResult<FeedChange>> {
    await this.return();
    throw error;
  }

  private async fill(): Promise<void> {
    const { hub, present } = this.deps;
    const head = await hub.position();
    if (head <= this.cursor) {
      await hub.waitBeyond(this.cursor, this.abort.signal);
      return;
    }
    const batch = await hub.read(feedAudience(this.principal), this.cursor, head, BATCH);
    const reached = batch.length < BATCH ? head : batch.at(-1)!._id;
    const mine = this.caseId ? batch.filter((e) => e.caseId === this.caseId && e.aggregateType === 'case') : batch;
    const changes = await present(this.principal, mine);
    if (this.abort.signal.aborted) return;
    this.cursor = reached;
    // A unit taken off the case it follows: it is told, then the subscription ends.
    const removal = this.caseId && isMemberStateUnit(this.principal.organisation.kind) ? changes.findIndex((c) => c.removed) : -1;
    if (removal >= 0) {
      this.queue.push(...changes.slice(0, removal + 1));
      this.ended = true;
      return;
    }
    this.queue.push(...changes);
  }
}
