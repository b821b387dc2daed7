// /portal: the partner portal's files (built once at start, see src/portal/portal.assets.ts)
// with their security headers, and its sign-in configuration (which identity providers the
// trust configuration names for people).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';
import type { TrustStore } from '../auth/trust.ts';
import { buildPortalAssets } from '../portal/portal.assets.ts';

export const PORTAL_DIR = fileURLToPath(new URL('../../portal/', import.meta.url));

export type PortalOptions = {
  trust: TrustStore;
  /** Outside production: the marked "paste a token" link for development. */
  allowTokenPaste: boolean;
  /** How long the portal waits for the identity provider or the gateway (ERIN_PORTAL_TIMEOUT). */
  timeoutMs: number;
  /** How long the portal stays signed in without input from the person (ERIN_PORTAL_IDLE). */
  idleMs: number;
};

/** The providers the portal offers for signing in, from the trusted issuers that have a portal client. */
export function signInProviders(trust: TrustStore) {
  return [...trust.current.issuers.values()].flatMap((i) =>
    i.portal
      ? [
          {
            issuer: i.issuer,
            clientId: i.portal.clientId,
            name: i.portal.name,
            scope: i.portal.scope,
            organisations: i.organisations,
            organisationKinds: i.organisationKinds,
          },
        ]
      : [],
  );
}

function origin(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.origin : null;
  } catch {
    return null;
  }
}

/**
 * No inline script, no framing, no referrer: the portal shows personal data. The identity
 * providers' origins are the only other places it talks to (discovery, token endpoint).
 */
function securityHeaders(trust: TrustStore) {
  return (_req: Request, res: Response, next: () => void) => {
    const providers = [...new Set(signInProviders(trust).flatMap((p) => origin(p.issuer) ?? []))].join(' ');
    res.setHeader(
      'content-security-policy',
      [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        `connect-src 'self' ${providers}`.trim(),
        "manifest-src 'self'",
        "worker-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
      ].join('; '),
    );
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-resource-policy', 'same-origin');
    res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
    next();
  };
}

/** The portal's routes, or undefined when this build ships without the portal. */
export async function portalRoute(options: PortalOptions): Promise<Router | undefined> {
  if (!existsSync(PORTAL_DIR)) return undefined;
  const assets = await buildPortalAssets(PORTAL_DIR);
  const router = express.Router();
  router.use(securityHeaders(options.trust));

  // `/portal` without its slash would load the page with every relative address one level too
  // high (`/app.js`): it is sent to `/portal/`, its query string kept (a sign-in's code and state).
  // The address is relative, so it holds behind a proxy that serves the gateway under a path.
  router.get('/', (req, res, next) => {
    const [path = '', query] = req.originalUrl.split(/\?(.*)/s);
    if (path.endsWith('/')) return next();
    res.redirect(301, `${path.slice(path.lastIndexOf('/') + 1)}/${query === undefined ? '' : `?${query}`}`);
  });

  router.get('/config.json', (_req, res) => {
    res.setHeader('cache-control', 'no-cache');
    res.json({
      providers: signInProviders(options.trust),
      tokenPaste: options.allowTokenPaste,
      timeoutMs: options.timeoutMs,
      idleMs: options.idleMs,
    });
  });

  router.get(/.*/, (req, res, next) => {
    const name = req.path === '/' ? '/index.html' : req.path;
    const file = assets.get(name);
    if (!file) return next();
    // Revalidated on every use (a 304 costs one round trip, not the file); the service worker
    // keeps a copy for offline use. The page itself (under 1 KB) is never stored: a browser then
    // keeps no signed-out page in its back-forward cache for Back to show again (main.js also
    // clears a page brought back that way).
    const page = file.type.startsWith('text/html');
    res.setHeader('cache-control', page ? 'no-store' : 'no-cache');
    res.setHeader('content-type', file.type);
    res.setHeader('vary', 'accept-encoding');
    if (!page) res.setHeader('etag', file.etag);
    if (name === '/sw.js') res.setHeader('service-worker-allowed', '/portal/');
    if (!page && req.headers['if-none-match'] === file.etag) return void res.status(304).end();
    const accepts = req.acceptsEncodings('br', 'gzip', 'identity');
    if (accepts === 'br') {
      res.setHeader('content-encoding', 'br');
      return void res.send(file.br);
    }
    if (accepts === 'gzip') {
      res.setHeader('content-encoding', 'gzip');
      return void res.send(file.gzip);
    }
    res.send(file.body);
  });
  return router;
}
