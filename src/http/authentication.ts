// Who is calling: the trusted token issuers (reloaded when the trust file changes) and the one
// function that turns an Authorization header into a principal, shared by HTTP and WebSocket.
import type { Request } from 'express';
import { authenticate, bearerToken, rememberingVerifier } from '../auth/verify.ts';
import { TrustStore } from '../auth/trust.ts';
import type { Principal } from '../auth/principal.ts';
import type { Clock } from '../clock.ts';
import { guardsProduction, type Config } from '../config.ts';
import { AppError, storeUnavailable, unauthenticated } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';
import { isStoreUnavailable } from '../store/errors.ts';

/** Establishes the caller from an Authorization header value (null: anonymous, in development mode only). */
export type PrincipalFrom = (authorization: string | undefined, logger: Logger) => Promise<Principal | null>;

export function createTrust(config: Config, logger: Logger, watchIntervalMs?: number): TrustStore {
  const trust = new TrustStore({
    file: config.trustFile,
    includeDevIssuer: config.devMode,
    refuseDevIssuer: guardsProduction(config),
    dataDir: config.dataDir,
    logger,
    ...(watchIntervalMs ? { watchIntervalMs } : {}),
  });
  const trustLoaded = trust.reload();
  if (config.trustFile && !trustLoaded) throw new Error(`the trust file ${config.trustFile} could not be loaded (see the log)`);
  return trust;
}

export function createAuthenticator(deps: {
  config: Config;
  trust: TrustStore;
  clock: Clock;
  services: Services;
}): PrincipalFrom {
  const { config, trust, clock, services } = deps;
  const verify = rememberingVerifier();
  return async function principalFrom(authorization, requestLogger) {
    const token = bearerToken(authorization);
    if (token === undefined) {
      // Anonymous callers (introspection without a token) only when development mode is asked for.
      if (!config.devMode) throw unauthenticated();
      return null;
    }
    try {
      return await authenticate(
        token,
        trust.current,
        { audience: config.tokenAudience, maxTokenAgeMs: config.tokenMaxAgeMs, now: Math.floor(clock.now().getTime() / 1000) },
        (code) => services.organisations.lookup(code),
        requestLogger,
        verify,
      );
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (isStoreUnavailable(error)) throw storeUnavailable();
      throw error;
    }
  };
}

/** The caller of an HTTP request (null: anonymous); rejects as `PrincipalFrom` does. */
export type CallerOf = (req: Request) => Promise<Principal | null>;

/**
 * Establishes each HTTP request's caller once: the rate limit (which keys on it) and the
 * handler after it read the same verification of the same token.
 */
export function callerOfRequest(principalFrom: PrincipalFrom): CallerOf {
  const established = new WeakMap<Request, Promise<Principal | null>>();
  return (req) => {
    let caller = established.get(req);
    if (!caller) {
      caller = principalFrom(req.headers.authorization, (req as Request & { log: Logger }).log);
      // Read by whoever needs it; a refusal is theirs to report, not an unhandled rejection.
      caller.catch(() => undefined);
      established.set(req, caller);
    }
    return caller;
  };
}
