// The tenant policy: the one place that decides what each principal may read and do.
// Services ask it for the scope of every query (`scopeFor`) and for permission before
// every write (`authorize`). Another organisation's record is NOT_FOUND, as if missing.
import { forbidden, unauthenticated } from '../errors.ts';
import type { OrganisationKind, Principal, Role } from './principal.ts';
import { SYSTEM, type TenantScope } from '../store/tenant.ts';

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
  'case.read': ['caseworker', 'coordinator', 'partner-officer'],
  'referral.respond': ['partner-officer'],
  'arrival.confirm': ['partner-officer'],
  'plan.draft': ['partner-officer'],
  'plan.submit': ['partner-officer'],
  'plan.decide': ['coordinator'],
  // implementation
  'progress.post': ['partner-officer', 'caseworker', 'coordinator'],
  'shipment.record': ['partner-officer'],
  'evidence.upload': ['partner-officer', 'caseworker', 'coordinator'],
  'evidence.read': ['partner-officer', 'caseworker', 'coordinator'],
  'monitoring.record': ['partner-officer'],
  'finalReport.submit': ['partner-officer'],
  // feed, integration, statistics
  'feed.read': ['caseworker', 'coordinator', 'partner-officer', 'network-admin'],
  'webhook.manage': ['caseworker', 'coordinator', 'partner-officer', 'network-admin'],
  'audit.read': ['caseworker', 'coordinator', 'partner-officer'],
  'statistics.read': ['reg-analyst', 'network-admin'],
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

/**
 * The filter that limits a tenant-owned collection to what a principal may see. A
 * member state sees the cases it referred (drafts included); a partner the cases
 * referred to it, once sent; nobody else sees case content.
 */
export function caseScope(principal: Principal): TenantScope {
  const code = principal.organisation.code;
  switch (principal.organisation.kind) {
    case 'MEMBER_STATE':
      return { filter: { memberState: code } };
    case 'PARTNER':
      return { filter: { partner: code, sharedWithPartner: true } };
    case 'EXPERTS_GROUP':
    case 'NETWORK':
      return { filter: { memberState: { $in: [] } } };
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
      return { filter: { memberState: { $in: [] } } };
  }
}

/** True when the principal is a party to a case (the referring state or the assigned partner). */
export function isCaseParty(
  principal: Principal,
  kase: { memberState: string; partner: string | null; sharedWithPartner: boolean },
): boolean {
  const code = principal.organisation.code;
  if (principal.organisation.kind === 'MEMBER_STATE') return kase.memberState === code;
  if (principal.organisation.kind === 'PARTNER') return kase.partner === code && kase.sharedWithPartner;
  return false;
}

/**
 * Whether a principal can stop being a party to a case it was a party to. Only a partner
 * can (the case is given to another partner); a case never changes its member state and
 * is never deleted.
 */
export function mayLoseCases(principal: Principal): boolean {
  return principal.organisation.kind === 'PARTNER';
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
const NO_CASE_CONTENT: readonly OrganisationKind[] = ['EXPERTS_GROUP', 'NETWORK'];

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

/** The parties to a case, as event audience: the referring state, and the partner once it was sent. */
export function caseParties(kase: { memberState: string; partner: string | null; sharedWithPartner: boolean }): string[] {
  return kase.sharedWithPartner && kase.partner ? [kase.memberState, kase.partner] : [kase.memberState];
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
