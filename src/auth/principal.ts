// Who is calling: an organisation plus roles, established from a verified token.
export const ORGANISATION_KINDS = [
  'MEMBER_STATE',
  'PARTNER',
  'EXPERTS_GROUP',
  'NETWORK',
  'IMPLEMENTING_ORGANISATION',
  'RESEARCH_BODY',
  'MUNICIPALITY',
  'AGENCY',
  'NGO',
] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

/**
 * Kinds of organisation that belong to one member state (its units): they carry
 * `memberState`, and see only the cases of that state that list them among the case's
 * units (`Case.units`), each only the fields and actions of its role on the case's team
 * (src/auth/case-team.ts). An implementing organisation carries out return support for
 * its state (IOM in the Netherlands); a municipality leads local cooperation on a case;
 * an agency is one of the state's services (its `agency` says which); an NGO is a
 * civil-society organisation working with the person.
 */
export const MEMBER_STATE_UNIT_KINDS = [
  'IMPLEMENTING_ORGANISATION',
  'MUNICIPALITY',
  'AGENCY',
  'NGO',
] as const satisfies readonly OrganisationKind[];
export type MemberStateUnitKind = (typeof MEMBER_STATE_UNIT_KINDS)[number];

/**
 * What an organisation of kind AGENCY is: the immigration service (IND in the Netherlands),
 * the police (its aliens police), the return service (DT&V) or the reception agency (COA).
 * One kind with a sub-type rather than four kinds: they share every rule but their role on
 * a case's team, which follows from the sub-type.
 */
export const AGENCY_TYPES = ['IMMIGRATION_SERVICE', 'POLICE', 'RETURN_SERVICE', 'RECEPTION'] as const;
export type AgencyType = (typeof AGENCY_TYPES)[number];

export function isMemberStateUnit(kind: OrganisationKind): kind is MemberStateUnitKind {
  return (MEMBER_STATE_UNIT_KINDS as readonly OrganisationKind[]).includes(kind);
}

export const ROLES = [
  'caseworker',
  'coordinator',
  'partner-officer',
  'reg-analyst',
  'network-admin',
  'return-counsellor',
  'data-protection-officer',
  'researcher',
  'municipal-officer',
  'agency-officer',
  'ngo-worker',
] as const;
export type Role = (typeof ROLES)[number];

/** The roles an organisation of each kind may hold. */
export const ROLES_BY_KIND: Record<OrganisationKind, readonly Role[]> = {
  MEMBER_STATE: ['caseworker', 'coordinator', 'data-protection-officer'],
  PARTNER: ['partner-officer'],
  EXPERTS_GROUP: ['reg-analyst'],
  NETWORK: ['network-admin'],
  IMPLEMENTING_ORGANISATION: ['return-counsellor'],
  RESEARCH_BODY: ['researcher'],
  MUNICIPALITY: ['municipal-officer'],
  AGENCY: ['agency-officer'],
  NGO: ['ngo-worker'],
};

export type Principal = {
  /** The token's `sub`: a pseudonymous user id at the issuer. */
  subject: string;
  issuer: string;
  organisation: {
    code: string;
    kind: OrganisationKind;
    name: string;
    /** The member state a unit belongs to (MEMBER_STATE_UNIT_KINDS); absent for every other kind. */
    memberState?: string | null;
  };
  roles: Role[];
};

/** What a principal's organisation is made from: its record in the directory. */
export type OrganisationRecord = {
  code: string;
  kind: OrganisationKind;
  name: string;
  memberState?: string | null;
};

/**
 * Whether an organisation may act now: it is active, and a unit's member state is active too
 * (a unit works on its state's cases on the state's behalf; a state cut off cuts its units
 * off). `lookup` is the organisations' cached lookup.
 */
export async function mayActNow(
  organisation: OrganisationRecord & { active: boolean },
  lookup: (code: string) => Promise<{ active: boolean } | null>,
): Promise<boolean> {
  if (!organisation.active) return false;
  if (!isMemberStateUnit(organisation.kind)) return true;
  return Boolean(organisation.memberState && (await lookup(organisation.memberState))?.active);
}

/**
 * The one way a principal is made from an organisation's record, for a request's token and for
 * anything acting for the organisation without one (its webhooks): the policy reads every
 * fact it needs from here — a unit's member state among them, without which a unit's scope
 * matches nothing.
 */
export function principalFor(
  organisation: OrganisationRecord,
  who: { subject: string; issuer: string; roles: readonly Role[] },
): Principal {
  const { code, kind, name } = organisation;
  return {
    subject: who.subject,
    issuer: who.issuer,
    organisation: { code, kind, name, ...(isMemberStateUnit(kind) ? { memberState: organisation.memberState ?? null } : {}) },
    // A copy: the roles given may be remembered (a token's claims, for its next request).
    roles: [...who.roles],
  };
}

/** The identity background jobs act under (expiry, deadline checks, seeding). */
export const SYSTEM_PRINCIPAL: Principal = {
  subject: 'system',
  issuer: 'erin-exchange',
  organisation: { code: 'SYSTEM', kind: 'NETWORK', name: 'ERIN Exchange' },
  roles: [],
};
