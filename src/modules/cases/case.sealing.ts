// Special-category data of a case (vulnerability, the needs assessment): sealed at rest
// under the case's context, opened only for a party to the case, and every opening noted
// for the audit trail through `SpecialCategoryReads` (the audit module implements it).
import { isCaseParty, requirePrincipal } from '../../auth/policy.ts';
import { isMemberStateUnit, type Principal } from '../../auth/principal.ts';
import type { Sealer } from '../../crypto/sealed.ts';
import type { CaseDoc, Vulnerability } from './case.model.ts';
import { ASSIGNMENT_ENDED_STATUSES } from './case.state.ts';

export type SpecialCategoryField = 'vulnerability' | 'needsAssessment' | 'guidance';

/** Where the openings of special-category fields are noted (a request's audit recorder). */
export interface SpecialCategoryReads {
  read(kase: Pick<CaseDoc, '_id' | 'memberState' | 'partner' | 'sharedWithPartner' | 'units'>, field: SpecialCategoryField): void;
}

const sealContext = (caseId: string, field: string) => `case:${caseId}:${field}`;

/**
 * Special-category data is for the parties to the case: the partner only while the case is
 * assigned to it (not after it declined or let the referral expire); of the member state's
 * units, only the implementing organisation (it gives vulnerable people extra guidance).
 */
export function maySeeSpecialCategory(p: Principal, c: CaseDoc): boolean {
  if (!isCaseParty(p, c)) return false;
  if (isMemberStateUnit(p.organisation.kind)) return c.implementingOrganisation === p.organisation.code;
  return p.organisation.kind !== 'PARTNER' || !ASSIGNMENT_ENDED_STATUSES.includes(c.status);
}

/** The case without its sealed fields (for a caller who may not see them). */
export function withoutSpecialCategory<T extends CaseDoc>(c: T): T {
  return { ...c, vulnerabilitySealed: null, needsAssessmentSealed: null };
}

export type CaseSealing = ReturnType<typeof createCaseSealing>;

export function createCaseSealing(sealer: Sealer) {
  function openVulnerability(c: CaseDoc): Vulnerability | null {
    return c.vulnerabilitySealed
      ? (JSON.parse(sealer.openText(c.vulnerabilitySealed, sealContext(c._id, 'vulnerability'))) as Vulnerability)
      : null;
  }

  return {
    sealVulnerability(caseId: string, v: Vulnerability | null): string | null {
      return v ? sealer.seal(JSON.stringify(v), sealContext(caseId, 'vulnerability')) : null;
    },

    sealNeeds(caseId: string, needs: string | null | undefined): string | null {
      return needs ? sealer.seal(needs, sealContext(caseId, 'needs')) : null;
    },

    /** For the rules (the entitlement counts an unaccompanied minor), not for presenting. */
    openVulnerability,

    /** Opened only for a party, and the read is noted. */
    vulnerability(principal: Principal | null, c: CaseDoc, reads: SpecialCategoryReads): Vulnerability | null {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c) || !c.vulnerabilitySealed) return null;
      reads.read(c, 'vulnerability');
      return openVulnerability(c);
    },

    needsAssessment(principal: Principal | null, c: CaseDoc, reads: SpecialCategoryReads): string | null {
      const p = requirePrincipal(principal);
      if (!maySeeSpecialCategory(p, c) || !c.needsAssessmentSealed) return null;
      reads.read(c, 'needsAssessment');
      return sealer.openText(c.needsAssessmentSealed, sealContext(c._id, 'needs'));
    },
  };
}
