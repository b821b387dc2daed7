// The tenant policy: the one place that decides what each principal may read and do.
// Services ask it for the scope of every query (`scopeFor`) and for permission before
// every write (`authorize`). Another organisation's record is NOT_FOUND, as if missing.
import { forbidden, unauthenticated } from '../errors.ts';
import type { Principal, Role } from './principal.ts';
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
  kase: { memberState: string; partner: string; sharedWithPartner: boolean },
): boolean {
  const code = principal.organisation.code;
  if (principal.organisation.kind === 'MEMBER_STATE') return kase.memberState === code;
  if (principal.organisation.kind === 'PARTNER') return kase.partner === code && kase.sharedWithPartner;
  return false;
}
