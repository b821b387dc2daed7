// Who is calling: an organisation plus roles, established from a verified token.
export const ORGANISATION_KINDS = ['MEMBER_STATE', 'PARTNER', 'EXPERTS_GROUP', 'NETWORK'] as const;
export type OrganisationKind = (typeof ORGANISATION_KINDS)[number];

export const ROLES = ['caseworker', 'coordinator', 'partner-officer', 'reg-analyst', 'network-admin'] as const;
export type Role = (typeof ROLES)[number];

/** The roles an organisation of each kind may hold. */
export const ROLES_BY_KIND: Record<OrganisationKind, readonly Role[]> = {
  MEMBER_STATE: ['caseworker', 'coordinator'],
  PARTNER: ['partner-officer'],
  EXPERTS_GROUP: ['reg-analyst'],
  NETWORK: ['network-admin'],
};

export type Principal = {
  /** The token's `sub`: a pseudonymous user id at the issuer. */
  subject: string;
  issuer: string;
  organisation: { code: string; kind: OrganisationKind; name: string };
  roles: Role[];
};

/** The identity background jobs act under (expiry, deadline checks, seeding). */
export const SYSTEM_PRINCIPAL: Principal = {
  subject: 'system',
  issuer: 'erin-exchange',
  organisation: { code: 'SYSTEM', kind: 'NETWORK', name: 'ERIN Exchange' },
  roles: [],
};
