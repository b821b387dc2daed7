// Eligibility at registration: the programme's rules (eligibility.rules.ts) with the one fact
// that needs the store, an earlier assisted departure of the same person from the same
// member state, found through the pseudonymous person key (person-key.ts).
import type { Model } from 'mongoose';
import type { DocumentChange } from '../../events/event.model.ts';
import { op, SYSTEM } from '../../store/tenant.ts';
import type { CaseDoc } from '../cases/case.model.ts';
import { identityText, personKeySchema, type PersonIdentity, type PersonKeyDoc } from './person-key.ts';
import type { Needs } from '../../deps.ts';
import { assistedDepartureOn, yearsBefore } from './eligibility.rules.ts';

export type EligibilityService = ReturnType<typeof createEligibilityService>;

export function createEligibilityService(deps: Needs<'store' | 'sealer' | 'cases'>) {
  const { store, sealer } = deps;
  const PersonKeys: Model<PersonKeyDoc> = store.model('PersonKey', personKeySchema);
  const Cases = deps.cases.model;

  /**
   * The person's (by key) cases of this member state that record an assisted departure, with
   * its day. Only the state's own keys and cases are read.
   */
  async function departuresOf(memberState: string, personKey: string): Promise<{ case: CaseDoc; on: string }[]> {
    const scope = { filter: { memberState } };
    const keys = await PersonKeys.find({ personKey }).setOptions({ scope }).lean<PersonKeyDoc[]>();
    if (keys.length === 0) return [];
    const cases = await Cases.find({ _id: op({ $in: keys.map((k) => k._id) }) })
      .setOptions({ scope })
      .lean<CaseDoc[]>();
    return cases.flatMap((c) => {
      const on = assistedDepartureOn(c);
      return on ? [{ case: c, on }] : [];
    });
  }

  return {
    /** The person's key under the member state's own key (the attributes themselves are never kept). */
    personKey(memberState: string, identity: PersonIdentity): string {
      return sealer.scopedDigest(`person-key:${memberState}`, identityText(identity));
    },

    /**
     * The latest day this person (by key) left with assistance from this member state within
     * `years` before `day`, if any.
     */
    async earlierDeparture(memberState: string, personKey: string, day: string, years: number): Promise<string | null> {
      if (years <= 0) return null;
      const since = yearsBefore(day, years);
      const days = (await departuresOf(memberState, personKey))
        .map((d) => d.on)
        .filter((d) => d > since && d <= day)
        .sort();
      return days.at(-1) ?? null;
    },

    departuresOf,

    /** The person key a case was registered with, if any (its member state's). */
    async keyOfCase(caseId: string): Promise<PersonKeyDoc | null> {
      return PersonKeys.findOne({ _id: caseId }).setOptions({ scope: SYSTEM }).lean<PersonKeyDoc>();
    },

    /** The key document written with the case it belongs to (in the same event). */
    keyDocument(caseId: string, memberState: string, personKey: string, now: Date): DocumentChange {
      const doc: PersonKeyDoc = { _id: caseId, memberState, personKey, version: 1, createdAt: now };
      return { collection: 'person_keys', doc };
    },
  };
}
