// A case's personal content: sealed at rest under the case's own key (src/crypto/case-keys.ts),
// opened only for whoever may see it, and every opening noted for the audit trail through
// `PersonalDataReads` (the audit module implements it). Special categories (vulnerability,
// the needs assessment, the entitlement's amounts and lines, which tell an unaccompanied
// minor) are for the parties only; narratives and survey answers for whoever may read the
// record. The partner sees them only as far as the returnee's consent covers (case.consent.ts).
import { maySeeCaseField } from '../../auth/case-team.ts';
import { isCaseParty, requirePrincipal } from '../../auth/policy.ts';
import { isMemberStateUnit, type Principal } from '../../auth/principal.ts';
import { CaseErasedError, type CaseKey, type CaseKeys } from '../../crypto/case-keys.ts';
import { caseErased } from '../../errors.ts';
import type { CaseDoc, Entitlement, EntitlementAmounts, EntitlementLine, Vulnerability } from './case.model.ts';
import { ASSIGNMENT_ENDED_STATUSES } from './case.state.ts';
import type { Clock } from '../../clock.ts';
import { todayIso } from '../../validation.ts';
import { consentCovers, type ConsentPurpose } from './case.consent.ts';

/** The personal fields whose reads are audited (the audit trail and the portal's history name them). */
export const PERSONAL_FIELDS = [
  'vulnerability',
  'needsAssessment',
  'guidance',
  'entitlement.lines',
  'entitlement.total',
  'progress.narrative',
  'survey.answers',
] as const;
export type PersonalField = (typeof PERSONAL_FIELDS)[number];

/** The fields of a case that say who its parties are (enough to address an audit entry). */
export type CaseParties = Pick<CaseDoc, '_id' | 'memberState' | 'partner' | 'sharedWithPartner'> & { units?: readonly string[] };

/** The parties of a case's record (every record carries its case's tenant fields). */
export const partiesOf = (r: {
  caseId: string;
  memberState: string;
  partner: string | null;
  sharedWithPartner: boolean;
}): CaseParties => ({
  _id: r.caseId,
  memberState: r.memberState,
  partner: r.partner,
  sharedWithPartner: r.sharedWithPartner,
});

/** Where the openings of personal fields are noted (a request's audit recorder). */
export interface PersonalDataReads {
  read(kase: CaseParties, field: PersonalField): void;
}

/** What each sealed field of a case is bound to (so a ciphertext moved to another field does not open). */
export const caseFieldContext = (caseId: string, field: string) => `case:${caseId}:${field}`;

/**
 * Special-category data is for the parties to the case: the partner only while the case is
 * assigned to it (not after it declined or let the referral expire) and the returnee's
 * consent is active on `today` and covers SPECIAL_CATEGORY_DATA; of the member state's
 * units, those whose role on the case's team sees `vulnerability` (src/auth/case-team.ts:
 * the implementing organisation, which gives vulnerable people extra guidance, and the lead).
 */
export function maySeeSpecialCategory(p: Principal, c: CaseDoc, today: string): boolean {
  if (!isCaseParty(p, c)) return false;
  if (isMemberStateUnit(p.organisation.kind)) return maySeeCaseField(p, c, 'vulnerability');
  if (p.organisation.kind !== 'PARTNER') return true;
  return !ASSIGNMENT_ENDED_STATUSES.includes(c.status) && consentCovers(c, 'SPECIAL_CATEGORY_DATA', today);
}

/** The consent purpose under which the partner reads a personal record field. */
const PURPOSE_OF_FIELD: Partial<Record<PersonalField, ConsentPurpose>> = { 'survey.answers': 'MONITORING' };

/**
 * Narratives and survey answers: for whoever loaded the record, but for the partner only while
 * consent is active and covers the field's purpose (survey answers: MONITORING; narratives:
 * REINTEGRATION_SUPPORT).
 */
export function mayReadPersonalContent(p: Principal, c: CaseDoc, today: string, field: PersonalField): boolean {
  return p.organisation.kind !== 'PARTNER' || consentCovers(c, PURPOSE_OF_FIELD[field] ?? 'REINTEGRATION_SUPPORT', today);
}

/** The case without its sealed fields (for a caller who may not see them). */
export function withoutSpecialCategory<T extends CaseDoc>(c: T): T {
  return {
    ...c,
    vulnerabilitySealed: null,
    needsAssessmentSealed: null,
    entitlement: withoutAmounts(c.entitlement),
  };
}

/** The entitlement without its amounts (sealed or, on older cases, in clear). */
export function withoutAmounts(e: Entitlement): Entitlement {
  const { total: _total, cashCap: _cashCap, linesSealed: _lines, ...rest } = e;
  return { ...rest, amountsSealed: null };
}

export type CaseSealing = ReturnType<typeof createCaseSealing>;

export function createCaseSealing(keys: CaseKeys, clock: Clock) {
  const today = () => todayIso(clock.now());

  async function openVulnerability(c: CaseDoc): Promise<Vulnerability | null> {
    if (!c.vulnerabilitySealed) return null;
    const text = (await keys.forReading(c._id)).openText(caseFieldContext(c._id, 'vulnerability'), c.vulnerabilitySealed);
    return text === null ? null : (JSON.parse(text) as Vulnerability);
  }

  /**
   * The entitlement's amounts, for the rules (the plan's budget check), not for presenting;
   * null once the case was erased.
   */
  async function openEntitlement(c: Pick<CaseDoc, '_id' | 'entitlement'>): Promise<EntitlementAmounts | null> {
    const e = c.entitlement;
    const key = await keys.forReading(c._id);
    if (e.amountsSealed) {
      const text = key.openText(caseFieldContext(c._id, 'entitlement'), e.amountsSealed);
      return text === null ? null : (JSON.parse(text) as EntitlementAmounts);
    }
    // A case stored before the amounts were sealed.
    if (e.total === undefined) return null;
    const lines = e.linesSealed ? key.openText(caseFieldContext(c._id, 'entitlement.lines'), e.linesSealed) : null;
    return { total: e.total, cashCap: e.cashCap ?? 0, lines: lines ? (JSON.parse(lines) as EntitlementLine[]) : [] };
  }

  return {
    keys,

    /** maySeeSpecialCategory today. */
    maySeeSpecialCategory: (p: Principal, c: CaseDoc): boolean => maySeeSpecialCategory(p, c, today()),

    /**
     * The case's key to seal new values with (made on first use; `fresh` for a case being
     * registered, see CaseKeys.forWriting); INVALID_TRANSITION once the case was erased.
     */
    async keyForWriting(caseId: string, options: { fresh?: boolean } = {}): Promise<CaseKey> {
      try {
        return await keys.forWriting(caseId, options);
      } catch (error) {
        if (error instanceof CaseErasedError) throw caseErased(caseId);
        throw error;
      }
    },

    sealVulnerability(key: CaseKey, v: Vulnerability | null): string | null {
      return v ? key.seal(caseFieldContext(key.caseId, 'vulnerability'), JSON.stringify(v)) : null;
    },

    sealNeeds(key: CaseKey, needs: string | null | undefined): string | null {
      return needs ? key.seal(caseFieldContext(key.caseId, 'needs'), needs) : null;
    },

    /** The household's months of birth, sealed (null when none is known). */
    sealBirthMonths(key: CaseKey, months: readonly (string | null | undefined)[]): string | null {
      return months.some(Boolean)
        ? key.seal(caseFieldContext(key.caseId, 'birthMonths'), JSON.stringify(months.map((m) => m ?? null)))
        : null;
    },

    /** For the rules (ages on the departure day), not for presenting; unknown once the case was erased. */
    async openBirthMonths(c: Pick<CaseDoc, '_id' | 'birthMonthsSealed' | 'household'>): Promise<(string | null)[]> {
      const text = c.birthMonthsSealed
        ? (await keys.forReading(c._id)).openText(caseFieldContext(c._id, 'birthMonths'), c.birthMonthsSealed)
        : null;
      return text ? (JSON.parse(text) as (string | null)[]) : c.household.map(() => null);
    },

    sealEntitlementAmounts(key: CaseKey, amounts: EntitlementAmounts): string {
      const { total, cashCap, lines } = amounts;
      return key.seal(caseFieldContext(key.caseId, 'entitlement'), JSON.stringify({ total, cashCap, lines }));
    },

    openEntitlement,

    /** For the rules (the entitlement counts an unaccompanied minor), not for presenting. */
    openVulnerability,

    /** Opened only for a party, and the read is noted. */
    async vulnerability(principal: Principal | null, c: CaseDoc, reads: PersonalDataReads): Promise<Vulnerability | null> {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c, today()) || !c.vulnerabilitySealed) return null;
      const v = await openVulnerability(c);
      if (v) reads.read(c, 'vulnerability');
      return v;
    },

    async needsAssessment(principal: Principal | null, c: CaseDoc, reads: PersonalDataReads): Promise<string | null> {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c, today()) || !c.needsAssessmentSealed) return null;
      const text = (await keys.forReading(c._id)).openText(caseFieldContext(c._id, 'needs'), c.needsAssessmentSealed);
      if (text !== null) reads.read(c, 'needsAssessment');
      return text;
    },

    /**
     * The entitlement's amounts (its total and lines tell an unaccompanied minor): opened only
     * for a party allowed special categories, null for anyone else; the read is noted as `field`.
     */
    async entitlementAmounts(
      principal: Principal | null,
      c: CaseDoc,
      reads: PersonalDataReads,
      field: 'entitlement.lines' | 'entitlement.total',
      /** Where one request keeps the opened amounts (the entitlement's view): opened once, each field's read still noted. */
      memo?: { opened?: Promise<EntitlementAmounts | null> },
    ): Promise<EntitlementAmounts | null> {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c, today())) return null;
      const amounts = await (memo ? (memo.opened ??= openEntitlement(c)) : openEntitlement(c));
      if (amounts) reads.read(c, field);
      return amounts;
    },

    /**
     * A sealed record field (a narrative, survey answers) of a case, for a caller who loaded
     * the record in their scope (`kase`: its case as they may see it; null when they may not);
     * null when the case was erased, or for the partner while consent does not cover it. The read is noted.
     */
    async recordField(
      principal: Principal | null,
      kase: CaseDoc | null,
      field: PersonalField,
      context: string,
      sealed: string,
      reads: PersonalDataReads,
    ): Promise<string | null> {
      const p = requirePrincipal(principal);
      if (!kase || !mayReadPersonalContent(p, kase, today(), field)) return null;
      const text = (await keys.forReading(kase._id)).openText(context, sealed);
      if (text !== null) reads.read(kase, field);
      return text;
    },
  };
}
