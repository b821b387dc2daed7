// The five-year rule where the money is: when an assisted departure is recorded (the DEPARTURE
// step, an ARRIVAL without one, a confirmed arrival, a registration after the return). Checked
// at registration alone, two open cases of one person could both depart, a past return
// recorded after a registration was never held against it, and two registrations at once both
// passed: the same person assisted twice within the years.
//
// Every assisted departure of a person (by the member state's person key, person-key.ts) is
// on the person's list of departures, kept as versions: `<memberState>:<personKey>:<n>` holds
// the whole list as of version n. Recording a departure reads the newest version (by primary
// key, one version after another), refuses when another case of the person departed within
// the years before or after, and else inserts the next version with this departure on it:
// the insert is the claim (atomic on every store, where a conditional update is not on the
// embedded store), so of two departures at once one takes the version and the other reads
// it, finds the first, and is refused. A list's first version takes in the departures
// recorded before lists were kept (found as registration finds them).
//
// A claim whose write then fails stays on the list: it is released when the write was
// refused before the log took it, and otherwise (or if the release fails) it no longer
// counts once its case is stored at the claimed version without the departure, or it is
// older than PENDING_MS and the log holds no event at that version. Until then it counts, as
// a departure being recorded must. Only ids, days and versions are kept here, nothing personal.
import { AppError } from '../../errors.ts';
import { isDuplicateKey, type Store } from '../../store/store.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import type { ProgrammeDoc } from '../organisations/organisation.model.ts';
import { assistedDepartureOn, yearsBefore } from './eligibility.rules.ts';
import type { EligibilityService } from './eligibility.service.ts';

export const DEPARTURE_LISTS = 'departure_lists';

/** How long a claim whose case does not show the departure yet counts without asking the log. */
export const PENDING_MS = 10 * 60 * 1000;

/** Versions a claim steps over before giving up (each a rival's departure of the same person). */
const MAX_STEPS = 100;

type Departure = {
  caseId: string;
  /** The assisted departure's day (departure assistance, else the arrival). */
  on: string;
  /** The case's version the departure is written at. */
  atVersion: number;
  claimedAt: Date;
};
type ListDoc = { _id: string; memberState: string; personKey: string; version: number; departures: Departure[] };
type List = { version: number; departures: Departure[] };

/** Whether two days are within `years` of each other (the rule's window, as registration counts it). */
export function withinYears(a: string, b: string, years: number): boolean {
  const [earlier, later] = a <= b ? [a, b] : [b, a];
  return earlier > yearsBefore(later, years);
}

export function assistedDepartureWithinYears(programme: string, years: number): AppError {
  const message = `Not eligible for ${programme}: this person had another assisted departure within ${years} years (nobody gets assisted departure twice within ${years} years).`;
  return new AppError('BAD_USER_INPUT', message, {
    problems: [{ path: 'programme', message: 'ASSISTED_DEPARTURE_WITHIN_YEARS' }],
    reasons: [{ code: 'ASSISTED_DEPARTURE_WITHIN_YEARS', message }],
  });
}

/** A departure this write put on its person's list; `release` takes it off after the write failed. */
export type DepartureClaim = { release: (error: unknown) => Promise<void> };

export type DepartureClaims = ReturnType<typeof createDepartureClaims>;

export function createDepartureClaims(deps: {
  store: Store;
  programme: (code: string) => Promise<ProgrammeDoc | null>;
  /** Whether the log holds an event of the case at this version (a write of unknown outcome). */
  eventAt: (caseId: string, version: number) => Promise<boolean>;
  /** A case as stored, whoever may see it (the case store's `load` in the system's scope). */
  caseById: (id: string) => Promise<CaseDoc | null>;
  /** The person keys and their recorded departures (eligibility.service.ts). */
  eligibility: Pick<EligibilityService, 'departuresOf' | 'keyOfCase'>;
}) {
  const { store, caseById, eligibility } = deps;
  const lists = store.connection.collection<ListDoc>(DEPARTURE_LISTS);
  const options = () => store.queryOptions;
  const listId = (memberState: string, personKey: string, version: number) => `${memberState}:${personKey}:${version}`;

  async function versionOf(memberState: string, personKey: string, version: number): Promise<List | null> {
    const found = await lists.findOne({ _id: listId(memberState, personKey, version) }, options());
    return found && { version: found.version, departures: found.departures };
  }

  /** The person's newest list, asking for each next version by primary key until none. */
  async function newest(memberState: string, personKey: string, from: List): Promise<List> {
    let list = from;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const next = await versionOf(memberState, personKey, list.version + 1);
      if (!next) return list;
      list = next;
    }
    throw new Error('a list of departures did not end');
  }

  /** Departures recorded before lists were kept: the person's cases of the state that show one. */
  async function recordedBefore(memberState: string, personKey: string): Promise<Departure[]> {
    return (await eligibility.departuresOf(memberState, personKey)).map(({ case: c, on }) => ({
      caseId: c._id,
      on,
      atVersion: c.version,
      claimedAt: c.updatedAt,
    }));
  }

  /** The day a claim of another case stands for, or null once it is known not to have been written. */
  async function standing(d: Departure, now: Date): Promise<string | null> {
    const c = await caseById(d.caseId);
    const on = c ? assistedDepartureOn(c) : null;
    if (on) return on;
    if (c && c.version >= d.atVersion) return null; // stored at (or past) that version without it
    if (now.getTime() - new Date(d.claimedAt).getTime() < PENDING_MS) return d.on; // being written
    return (await deps.eventAt(d.caseId, d.atVersion)) ? d.on : null;
  }

  async function refuseWithin(list: List, caseId: string, on: string, years: number, now: Date, programme: string) {
    for (const d of list.departures) {
      if (d.caseId === caseId || !withinYears(d.on, on, years)) continue;
      const day = await standing(d, now);
      if (day && withinYears(day, on, years)) throw assistedDepartureWithinYears(programme, years);
    }
  }

  async function insert(memberState: string, personKey: string, version: number, departures: Departure[]): Promise<boolean> {
    try {
      await lists.insertOne({ _id: listId(memberState, personKey, version), memberState, personKey, version, departures });
      return true;
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      return false; // a rival took the version: read it and decide again
    }
  }

  /** Takes this one claim off the list (a new version without it), if the list still has it. */
  async function release(memberState: string, personKey: string, claimed: Departure): Promise<void> {
    const isIt = (d: Departure) => d.caseId === claimed.caseId && d.atVersion === claimed.atVersion && d.on === claimed.on;
    let list = await newest(memberState, personKey, { version: 0, departures: [] });
    for (let step = 0; step < MAX_STEPS; step += 1) {
      if (!list.departures.some(isIt)) return;
      const rest = list.departures.filter((d) => !isIt(d));
      if (await insert(memberState, personKey, list.version + 1, rest)) return;
      list = await newest(memberState, personKey, list);
    }
  }

  /**
   * Claims the person's departure on `on` for the case (at its version `atVersion`), or refuses
   * with ASSISTED_DEPARTURE_WITHIN_YEARS when another case of the person departed (or is
   * departing) within the years. Answers the claim when this call put it on the list.
   */
  async function claim(request: {
    memberState: string;
    personKey: string;
    caseId: string;
    atVersion: number;
    on: string;
    years: number;
    programme: string;
    now: Date;
  }): Promise<DepartureClaim | null> {
    const { memberState, personKey, caseId, atVersion, on, years, programme, now } = request;
    let list = await newest(memberState, personKey, { version: 0, departures: [] });
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const known = list.version === 0 ? await recordedBefore(memberState, personKey) : list.departures;
      const current = { version: list.version, departures: known };
      await refuseWithin(current, caseId, on, years, now, programme);
      if (known.some((d) => d.caseId === caseId && d.on === on)) return null; // claimed already (a retry)
      // Added, never replacing a claim of the same case: a rival attempt on the case may be the one that commits.
      const claimed: Departure = { caseId, on, atVersion, claimedAt: now };
      if (await insert(memberState, personKey, list.version + 1, [...known, claimed])) {
        return {
          release: async (error) => {
            // Only a write refused (an AppError), and only while nothing holds the case's version:
            // anything else may have committed, and a rival's write at that version makes the
            // claim count for nothing anyway (see standing). Kept, it is merely checked again.
            if (!(error instanceof AppError)) return;
            const c = await caseById(caseId);
            if (c && (assistedDepartureOn(c) === on || c.version >= atVersion)) return;
            if (await deps.eventAt(caseId, atVersion)) return;
            await release(memberState, personKey, claimed);
          },
        };
      }
      list = await newest(memberState, personKey, list);
    }
    throw new Error('could not claim a departure');
  }

  return {
    claim,

    /**
     * The claim a write on a case needs: when it records the case's assisted departure (or
     * moves its day) under a programme with the rule, for a case with a person key.
     */
    async forWrite(before: CaseDoc, after: CaseDoc, now: Date): Promise<DepartureClaim | null> {
      const on = assistedDepartureOn(after);
      if (!on || on === assistedDepartureOn(before)) return null;
      const programme = await deps.programme(after.programme);
      const years = programme?.eligibility.noRepeatWithinYears ?? 0;
      if (years <= 0) return null;
      const key = await eligibility.keyOfCase(after._id);
      if (key?.memberState !== after.memberState) return null;
      return claim({
        memberState: after.memberState,
        personKey: key.personKey,
        caseId: after._id,
        atVersion: after.version,
        on,
        years,
        programme: after.programme,
        now,
      });
    },
  };
}
