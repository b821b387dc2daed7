// The tenant policy: the one place that decides what each principal may read and do.
// Services ask it for the scope of every query (`scopeFor`) and for permission before
// every write (`authorize`). Another organisation's record is NOT_FOUND, as if missing.
import { forbidden, unauthenticated } from '../errors.ts';
import { isMemberStateUnit, type OrganisationKind, type Principal, type Role } from './principal.ts';
import { SYSTEM, type TenantScope } from '../store/tenant.ts';

/** Everyone whose system keeps a copy of its cases: they read the feed and register webhooks. */
const SYNCING_ROLES = [
  'caseworker',
  'coordinator',
  'partner-officer',
  'network-admin',
  'return-counsellor',
  'municipal-officer',
  'agency-officer',
  'ngo-worker',
] as const;

export const PERMISSIONS = {
  // organisations and contracts
  'organisation.manage': ['network-admin'],
  'contract.manage': ['network-admin'],
  'contract.read': ['network-admin', 'caseworker', 'coordinator', 'partner-officer'],
  'exchangeRate.set': ['network-admin'],
  // cases
  'case.create': ['caseworker', 'coordinator'],
  'case.update': ['caseworker', 'coordinator'],
  'case.refer': ['caseworker', 'coordinator'],
  'case.reopen': ['caseworker', 'coordinator'],
  'case.close': ['caseworker', 'coordinator'],
  // erasure (src/modules/erasure): the member state's coordinator only
  'case.erase': ['coordinator'],
  'case.read': [
    'caseworker',
    'coordinator',
    'partner-officer',
    'return-counsellor',
    'municipal-officer',
    'agency-officer',
    'ngo-worker',
  ],
  'case.assignUnits': ['caseworker', 'coordinator'],
  // case teams: the state forms one; the state or the team's lead (src/auth/case-team.ts) manages it
  'team.form': ['caseworker', 'coordinator'],
  'team.manage': ['caseworker', 'coordinator', 'municipal-officer', 'agency-officer'],
  // withdrawal and renewal of the returnee's consent: the owning member state only (see case.consent.ts)
  'consent.manage': ['caseworker', 'coordinator'],
  'referral.respond': ['partner-officer'],
  'arrival.confirm': ['partner-officer'],
  // a unit records the steps its role on the case's team allows (src/auth/case-team.ts)
  'returnStep.record': ['return-counsellor', 'caseworker', 'coordinator', 'municipal-officer', 'agency-officer', 'ngo-worker'],
  'plan.draft': ['partner-officer'],
  'plan.submit': ['partner-officer'],
  'plan.decide': ['coordinator'],
  'spendingWindow.extend': ['coordinator'],
  // implementation
  'progress.post': ['partner-officer', 'caseworker', 'coordinator'],
  'shipment.record': ['partner-officer'],
  'evidence.upload': ['partner-officer', 'caseworker', 'coordinator'],
  'evidence.read': ['partner-officer', 'caseworker', 'coordinator'],
  'monitoring.record': ['partner-officer'],
  'finalReport.submit': ['partner-officer'],
  // feed, integration, statistics
  'feed.read': SYNCING_ROLES,
  'webhook.manage': SYNCING_ROLES,
  'audit.read': ['caseworker', 'coordinator', 'partner-officer', 'return-counsellor'],
  'statistics.read': ['reg-analyst', 'network-admin'],
  // evaluation extracts (src/modules/extracts)
  'extract.request': ['researcher'],
  'extract.decide': ['data-protection-officer'],
  'extract.read': ['researcher', 'data-protection-officer'],
  'extract.download': ['researcher'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function requirePrincipal(principal: Principal | null | undefined): Principal {
  if (!principal) throw unauthenticated();
  return principal;
}

export function can(principal: Principal, permission: Permission): boolean {
  const allowed: readonly Role[] = PERMISSIONS[permission];
  return principal.roles.some((role) => allowed.includes(role));
}

/** Throws FORBIDDEN unless one of the principal's roles grants the permission. */
export function authorize(principal: Principal | null | undefined, permission: Permission): Principal {
  const p = requirePrincipal(principal);
  if (!can(p, permission)) throw forbidden(permission);
  return p;
}

/** Matches nothing: for those who see no record of a kind. */
const NOTHING: TenantScope = { filter: { memberState: { $in: [] } } };

/** The member state a unit belongs to; null for anyone else (and for a unit without one, which sees nothing). */
export function unitMemberState(principal: Principal): string | null {
  return isMemberStateUnit(principal.organisation.kind) ? (principal.organisation.memberState ?? null) : null;
}

/**
 * The filter that limits a tenant-owned collection to what a principal may see. A
 * member state sees the cases it referred (drafts included); a partner the cases
 * referred to it, once sent; a unit of a member state (an implementing organisation, …)
 * the cases of its own state that list it in `units`; nobody else sees case content.
 * A case's records (plans, progress, files…) carry no `units`, so units see none of them.
 */
export function caseScope(principal: Principal): TenantScope {
  const code = principal.organisation.code;
  switch (principal.organisation.kind) {
    case 'MEMBER_STATE':
      return { filter: { memberState: code } };
    case 'PARTNER':
      return { filter: { partner: code, sharedWithPartner: true } };
    case 'IMPLEMENTING_ORGANISATION':
    case 'MUNICIPALITY':
    case 'AGENCY':
    case 'NGO': {
      const state = unitMemberState(principal);
      return state ? { filter: { memberState: state, units: code } } : NOTHING;
    }
    case 'EXPERTS_GROUP':
    case 'NETWORK':
    case 'RESEARCH_BODY':
      return NOTHING;
  }
}

/** Contracts: the two parties see theirs; the network's administrators see all. */
export function contractScope(principal: Principal): TenantScope {
  const code = principal.organisation.code;
  switch (principal.organisation.kind) {
    case 'MEMBER_STATE':
      return { filter: { memberState: code } };
    case 'PARTNER':
      return { filter: { partner: code } };
    case 'NETWORK':
      return SYSTEM;
    case 'EXPERTS_GROUP':
    case 'IMPLEMENTING_ORGANISATION':
    case 'MUNICIPALITY':
    case 'AGENCY':
    case 'NGO':
    case 'RESEARCH_BODY':
      return NOTHING;
  }
}

/** The case fields that decide who is a party to it. */
export type CaseParties = { memberState: string; partner: string | null; sharedWithPartner: boolean; units?: readonly string[] };

/**
 * True when the principal is a party to a case: the referring state, the assigned partner,
 * or a unit of the referring state that the case lists in `units`.
 */
export function isCaseParty(principal: Principal, kase: CaseParties): boolean {
  const code = principal.organisation.code;
  if (principal.organisation.kind === 'MEMBER_STATE') return kase.memberState === code;
  if (principal.organisation.kind === 'PARTNER') return kase.partner === code && kase.sharedWithPartner;
  const state = unitMemberState(principal);
  if (state) return kase.memberState === state && (kase.units ?? []).includes(code);
  return false;
}

/**
 * Whether a principal can stop being a party to a case it was a party to: a partner (the
 * case is given to another partner) and a unit (its state takes the case from it). A case
 * never changes its member state and is never deleted.
 */
export function mayLoseCases(principal: Principal): boolean {
  return principal.organisation.kind === 'PARTNER' || isMemberStateUnit(principal.organisation.kind);
}

// ---- the event log: who reads which event ------------------------------------------------

/** The markers an event's `audience` is made of. */
export const Audience = {
  /** Every authenticated organisation. */
  everyone: '*',
  /** Every organisation of a kind (`kind:NETWORK`: the network's administrators). */
  ofKind: (kind: OrganisationKind) => `kind:${kind}`,
  /**
   * Only in this organisation's audit trail, never in a feed, subscription or webhook:
   * audited reads, exports and an organisation's own integration settings.
   */
  auditOnly: (code: string) => `audit:${code}`,
} as const;

/** The audience markers that put an event in a principal's feed (an index serves `audience ∈ these`). */
export function feedAudience(principal: Principal): string[] {
  return [principal.organisation.code, Audience.everyone, Audience.ofKind(principal.organisation.kind)];
}

/**
 * The markers an event is filed under for feeds (all but the audit-only ones), so that
 * reading the events of `feedAudience(p)` finds every event `mayReadInFeed` could pass.
 */
export function feedMarkersOf(event: { audience: string[] }): string[] {
  return event.audience.filter((marker) => !marker.startsWith(Audience.auditOnly('')));
}

/** Organisation kinds that never see anything case-level, whatever an event's audience says. */
const NO_CASE_CONTENT: readonly OrganisationKind[] = ['EXPERTS_GROUP', 'NETWORK', 'RESEARCH_BODY'];

type EventVisibility = { audience: string[]; caseId?: string | null | undefined };

/**
 * Whether an event belongs in a principal's change feed (query, subscriptions, webhooks).
 * Case events also need the caller to be a party to the case's post-image; the feed
 * service checks that against the case, as for any case read.
 */
export function mayReadInFeed(principal: Principal, event: EventVisibility): boolean {
  if (event.caseId && NO_CASE_CONTENT.includes(principal.organisation.kind)) return false;
  const mine = feedAudience(principal);
  return event.audience.some((a) => mine.includes(a));
}

/** Whether an event of a case belongs in the case's audit trail as a principal may read it. */
export function mayReadInAuditTrail(principal: Principal, event: EventVisibility): boolean {
  if (NO_CASE_CONTENT.includes(principal.organisation.kind)) return false;
  const code = principal.organisation.code;
  return event.audience.includes(code) || event.audience.includes(Audience.auditOnly(code));
}

/** The parties to a case, as event audience: the referring state, the partner once it was sent, and its units. */
export function caseParties(kase: CaseParties): string[] {
  return [
    kase.memberState,
    ...(kase.sharedWithPartner && kase.partner ? [kase.partner] : []),
    ...(kase.units ?? []).filter((u) => u !== kase.memberState),
  ];
}

/**
 * The parties to a case's records (its plan, the plan's carrying out, its files), as event
 * audience: the referring state and the partner once it was sent — never its units, whose
 * scope holds no record of a case (caseScope; src/auth/case-team.ts CASE_RECORDS).
 */
export function caseRecordParties(kase: CaseParties): string[] {
  return caseParties({ ...kase, units: [] });
}

/**
 * The audience of a write on a case: its parties before and after, so a partner the case
 * is taken from learns (through its feed) that it must forget the case.
 */
export function caseWriteAudience(
  before: Parameters<typeof caseParties>[0] | null,
  after: Parameters<typeof caseParties>[0],
): string[] {
  return [...new Set([...(before ? caseParties(before) : []), ...caseParties(after)])];
}

// ---- integration settings and statistics -------------------------------------------------

/** Webhook endpoints and their deliveries: each organisation sees its own only. */
export function webhookScope(principal: Principal): TenantScope {
  return { filter: { organisation: principal.organisation.code } };
}

/**
 * Statistics aggregate every case of the network; nothing case-level leaves the
 * statistics service (cells only, small ones suppressed). Only for those allowed.
 */
export function statisticsScope(principal: Principal): TenantScope {
  authorize(principal, 'statistics.read');
  return SYSTEM;
}

// ---- evaluation extracts -----------------------------------------------------------------

/**
 * Extract requests: a research body sees its own; a member state's data-protection officer
 * those that ask for its cases (to decide its part). Nobody else sees them.
 */
export function extractScope(principal: Principal): TenantScope {
  authorize(principal, 'extract.read');
  const code = principal.organisation.code;
  switch (principal.organisation.kind) {
    case 'RESEARCH_BODY':
      return { filter: { researchBody: code } };
    case 'MEMBER_STATE':
      return { filter: { memberStates: code } };
    case 'PARTNER':
    case 'EXPERTS_GROUP':
    case 'NETWORK':
    case 'IMPLEMENTING_ORGANISATION':
    case 'MUNICIPALITY':
    case 'AGENCY':
    case 'NGO':
      return NOTHING;
  }
}

/**
 * The cases an extract is built from: those of the member states whose data-protection
 * officer approved their part, and never a draft (a case not yet sent is its state's alone).
 * Only the extract builder reads through this scope; nothing case-level leaves it but the
 * pseudonymised, generalised rows.
 */
export function extractSourceScope(approvedMemberStates: readonly string[]): TenantScope {
  return { filter: { memberState: { $in: [...approvedMemberStates] } } };
}

/** The audience of an extract's events: audit-only, for the research body and each member state asked. */
export function extractAudience(extract: { researchBody: string; memberStates: readonly string[] }): string[] {
  return [extract.researchBody, ...extract.memberStates].map(Audience.auditOnly);
}
