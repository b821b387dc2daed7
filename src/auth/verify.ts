// Token verification: a plain function shared by HTTP and the WebSocket transport.
// Every refusal is the same UNAUTHENTICATED to the client; the log says which check failed.
import { createHash, type KeyObject } from 'node:crypto';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import type { Logger } from '../logger.ts';
import { unauthenticated } from '../errors.ts';
import {
  isMemberStateUnit,
  mayActNow,
  principalFor,
  ROLES,
  ROLES_BY_KIND,
  type OrganisationKind,
  type OrganisationRecord,
  type Principal,
  type Role,
} from './principal.ts';
import type { TrustSnapshot } from './trust.ts';

/** Clock tolerance for exp, nbf and iat (the issue allows at most 60 s). */
export const CLOCK_TOLERANCE_SECONDS = 30;
const MAX_TOKEN_LENGTH = 8192;

export class TokenRejected extends Error {
  constructor(readonly check: string) {
    super(`token rejected: ${check}`);
    this.name = 'TokenRejected';
  }
}

export type VerifiedClaims = {
  issuer: string;
  subject: string;
  organisation: string;
  roles: Role[];
  /** The issuer entry, to check what it may assert once the organisation is known. */
  mayAssert: (organisation: { code: string; kind: OrganisationKind; memberState?: string | null }) => boolean;
  /**
   * Seconds since the epoch from which until which the token is valid without any clock
   * tolerance: from its iat (or nbf, if later), until its exp or the end of its maximum
   * age, whichever comes first.
   */
  validFrom: number;
  validUntil: number;
};

export type VerifyOptions = {
  audience: string;
  maxTokenAgeMs: number;
  /** Seconds since the epoch; defaults to now. */
  now?: number;
};

/** Verifies signature and claims against the trusted issuers. Throws TokenRejected. */
export function verifyToken(token: string, trust: TrustSnapshot, options: VerifyOptions): VerifiedClaims {
  if (token.length > MAX_TOKEN_LENGTH) throw new TokenRejected('token too long');
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object') throw new TokenRejected('not a JWT');
  const { header } = decoded;
  // RFC 7515 §4.1.11: a recipient that does not understand every critical extension refuses
  // the token (jsonwebtoken ignores `crit`); this gateway understands none.
  if ('crit' in header) throw new TokenRejected('critical header parameters not supported');
  const unverified = decoded.payload;
  if (typeof unverified.iss !== 'string') throw new TokenRejected('no iss');
  const issuer = trust.issuers.get(unverified.iss);
  if (!issuer) throw new TokenRejected('unknown issuer');
  if (!(issuer.algorithms as string[]).includes(header.alg)) throw new TokenRejected(`algorithm ${header.alg} not allowed`);
  let key: KeyObject | undefined;
  if (header.kid !== undefined) {
    key = issuer.keys.get(header.kid);
  } else {
    if (issuer.keys.size !== 1) throw new TokenRejected('kid required');
    key = [...issuer.keys.values()][0];
  }
  if (!key) throw new TokenRejected('unknown kid');
  const maxAgeMs = Math.min(options.maxTokenAgeMs, issuer.maxTokenAgeMs ?? Infinity);
  let payload: JwtPayload;
  try {
    const verified = jwt.verify(token, key, {
      algorithms: issuer.algorithms,
      audience: options.audience,
      issuer: issuer.issuer,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      maxAge: `${Math.floor(maxAgeMs / 1000)}s`,
      clockTimestamp: options.now,
    });
    if (typeof verified === 'string') throw new TokenRejected('payload is not a JSON object');
    payload = verified;
  } catch (error) {
    if (error instanceof TokenRejected) throw error;
    throw new TokenRejected(error instanceof Error ? `${error.name}: ${error.message}` : 'verification failed');
  }
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (typeof payload.exp !== 'number') throw new TokenRejected('no exp');
  if (typeof payload.iat !== 'number') throw new TokenRejected('no iat');
  if (payload.iat > now + CLOCK_TOLERANCE_SECONDS) throw new TokenRejected('issued in the future');
  if (payload.exp - payload.iat > maxAgeMs / 1000 + CLOCK_TOLERANCE_SECONDS)
    throw new TokenRejected('lifetime longer than the maximum age');
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) throw new TokenRejected('no sub');
  const org: unknown = payload.org;
  if (typeof org !== 'string' || !/^[A-Z0-9-]{2,32}$/.test(org)) throw new TokenRejected('no org');
  const roles: unknown = payload.roles;
  if (!Array.isArray(roles) || roles.length === 0 || !roles.every((r) => (ROLES as readonly unknown[]).includes(r))) {
    throw new TokenRejected('roles missing or unknown');
  }
  return {
    issuer: issuer.issuer,
    validFrom: Math.max(payload.iat, typeof payload.nbf === 'number' ? payload.nbf : payload.iat),
    validUntil: Math.min(payload.exp, payload.iat + Math.floor(maxAgeMs / 1000)),
    subject: payload.sub,
    organisation: org,
    roles: [...new Set(roles as Role[])],
    mayAssert: ({ code, kind, memberState }) =>
      issuer.organisations.includes(code) ||
      issuer.organisationKinds.includes(kind) ||
      (isMemberStateUnit(kind) && !!memberState && issuer.unitsOf.includes(memberState)),
  };
}

export type TokenVerifier = (token: string, trust: TrustSnapshot, options: VerifyOptions) => VerifiedClaims;

/**
 * A verifier that remembers the tokens it accepted, so that a caller's next request with the
 * same token does not check its signature again (an RS256 or ES256 verification was the
 * largest share of a small request's CPU). Only acceptances are remembered, keyed by the
 * token's SHA-256 (no token is kept), each no longer than the token is valid without any
 * clock tolerance (its exp, or the end of its maximum age). A new trust configuration (a
 * key added or retired, an issuer removed), audience or maximum age forgets them all, so
 * a retired key's tokens are refused from the reload on, as before. What the token asserts
 * about the organisation (that it exists, is active, may be asserted by the issuer, allows
 * the roles) is checked on every request by `authenticate`, as before. At most
 * `maxEntries`, the oldest out first.
 */
export function rememberingVerifier(maxEntries = 10_000): TokenVerifier {
  let snapshot: TrustSnapshot | undefined;
  let checked: { audience: string; maxTokenAgeMs: number } | undefined;
  const accepted = new Map<string, VerifiedClaims>();
  return (token, trust, options) => {
    if (trust !== snapshot || options.audience !== checked?.audience || options.maxTokenAgeMs !== checked.maxTokenAgeMs) {
      accepted.clear();
      snapshot = trust;
      checked = { audience: options.audience, maxTokenAgeMs: options.maxTokenAgeMs };
    }
    if (token.length > MAX_TOKEN_LENGTH) return verifyToken(token, trust, options);
    const now = options.now ?? Math.floor(Date.now() / 1000);
    const key = createHash('sha256').update(token).digest('base64');
    const known = accepted.get(key);
    if (known) {
      if (now >= known.validFrom && now < known.validUntil) return known;
      accepted.delete(key);
    }
    const claims = verifyToken(token, trust, options);
    if (now >= claims.validFrom && now < claims.validUntil) {
      if (accepted.size >= maxEntries) accepted.delete(accepted.keys().next().value!);
      accepted.set(key, claims);
    }
    return claims;
  };
}

export type OrganisationLookup = (code: string) => Promise<(OrganisationRecord & { active: boolean }) | null>;

/**
 * From a bearer token to a principal: verifies the token, then checks that the issuer
 * may assert the organisation and that the roles fit the organisation's kind.
 */
export async function authenticate(
  token: string,
  trust: TrustSnapshot,
  options: VerifyOptions,
  lookup: OrganisationLookup,
  logger: Logger,
  verify: TokenVerifier = verifyToken,
): Promise<Principal> {
  try {
    const claims = verify(token, trust, options);
    const organisation = await lookup(claims.organisation);
    if (!organisation || !(await mayActNow(organisation, lookup))) throw new TokenRejected('unknown or inactive organisation');
    if (!claims.mayAssert(organisation)) throw new TokenRejected('issuer may not assert this organisation');
    const allowed = ROLES_BY_KIND[organisation.kind];
    if (!claims.roles.every((role) => allowed.includes(role))) throw new TokenRejected('role does not fit the organisation');
    return principalFor(organisation, claims);
  } catch (error) {
    if (error instanceof TokenRejected) {
      logger.warn({ module: 'auth', check: error.check }, 'token refused');
      throw unauthenticated();
    }
    throw error;
  }
}

/** The token from `Authorization: Bearer …`, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? '';
}
