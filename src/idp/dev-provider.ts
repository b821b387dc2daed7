// The development identity provider: a real OpenID Connect provider (oidc-provider, certified)
// mounted on the gateway at /idp outside production, with the demo users of demo-users.ts.
// The portal signs in at it exactly as at an organisation's own provider (authorization code +
// PKCE); its access tokens are JWTs for the gateway's audience carrying `org` and `roles`, so
// the gateway verifies them like any trusted issuer's (its key is added to the trust store).
import { createPublicKey, generateKeyPairSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { developmentTrust } from '../auth/dev-issuer.ts';
import type { TrustedIssuer } from '../auth/trust.ts';
import type { Logger } from '../logger.ts';
import { DEMO_PASSWORD, demoUsers, type DemoUser } from './demo-users.ts';
import { escapeHtml, loginPage, page } from './pages.ts';

export const DEV_IDP_PATH = '/idp';
export const PORTAL_CLIENT_ID = 'erin-portal';
/** The resource (RFC 8707) the portal's access tokens are for: the gateway. */
export const GATEWAY_RESOURCE = 'urn:erin:gateway';
const KID = 'dev-idp-1';

type Jwk = { kty: string; crv: string; x: string; y: string; d?: string; kid?: string; alg?: string; use?: string };

function signingKey(dataDir: string): Jwk {
  const file = path.join(dataDir, 'dev-idp', 'signing-key.json');
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = { ...(privateKey.export({ format: 'jwk' }) as Jwk), kid: KID, alg: 'ES256', use: 'sig' };
    try {
      writeFileSync(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another process made it first
    }
  }
  return JSON.parse(readFileSync(file, 'utf8')) as Jwk;
}

export type DevIdentityProviderOptions = {
  /** Where the gateway is reached, e.g. http://localhost:4000 (the issuer is this plus /idp). */
  publicUrl: string;
  dataDir: string;
  audience: string;
  logger: Logger;
  /** Access token lifetime in seconds (the portal renews it before it ends). */
  accessTokenTtl?: number;
};

export type DevIdentityProvider = {
  issuer: string;
  router: Router;
  /** The trust store entry that makes the gateway accept its tokens. */
  trusted: TrustedIssuer;
  users: DemoUser[];
};

function passwordMatches(given: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(DEMO_PASSWORD);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function createDevIdentityProvider(options: DevIdentityProviderOptions): DevIdentityProvider {
  const base = options.publicUrl.replace(/\/+$/, '');
  const issuer = `${base}${DEV_IDP_PATH}`;
  const users = demoUsers();
  const bySubject = new Map(users.map((u) => [u.subject, u]));
  const byUsername = new Map(users.map((u) => [u.username, u]));
  const jwk = signingKey(options.dataDir);
  const publicKey: KeyObject = createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, format: 'jwk' });
  const ttl = options.accessTokenTtl ?? 600;
  const log = options.logger.child({ module: 'dev-idp' });

  const configuration: Configuration = {
    clients: [
      {
        client_id: PORTAL_CLIENT_ID,
        client_name: 'ERIN Exchange portal',
        token_endpoint_auth_method: 'none',
        id_token_signed_response_alg: 'ES256',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${base}/portal/`],
        post_logout_redirect_uris: [`${base}/portal/`],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: { openid: ['sub'], profile: ['name'], erin: ['org', 'roles'] },
    scopes: ['openid', 'offline_access', 'profile', 'erin'],
    findAccount: (_ctx, sub) => {
      const user = bySubject.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        claims: () => ({ sub, name: user.name, org: user.organisation.code, roles: user.roles }),
      };
    },
    // The gateway reads organisation and roles from the access token, as from any issuer.
    extraTokenClaims: (_ctx, token) => {
      if (token.kind !== 'AccessToken') return undefined;
      const user = token.accountId ? bySubject.get(token.accountId) : undefined;
      return user ? { org: user.organisation.code, roles: user.roles } : undefined;
    },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx, form) => {
          ctx.body = page(
            'Sign out',
            `<h1>Sign out of the development identity provider?</h1>${form}
             <button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
             <button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: (ctx) => {
          ctx.body = page('Signed out', '<h1>You are signed out.</h1><p><a href="../portal/">Back to the portal</a></p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => GATEWAY_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== GATEWAY_RESOURCE) throw new Error(`unknown resource ${resource}`);
          return {
            audience: options.audience,
            scope: 'erin',
            accessTokenTTL: ttl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    // The portal is the network's own client: no consent screen, and a refresh token for
    // silent renewal without asking for offline access.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (existing) {
        const found = await ctx.oidc.provider.Grant.find(existing);
        if (found) return found;
      }
      const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile erin offline_access');
      grant.addOIDCClaims(['org', 'roles', 'name']);
      grant.addResourceScope(GATEWAY_RESOURCE, 'erin');
      await grant.save();
      return grant;
    },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    pkce: { required: () => true },
    // The portal calls the token endpoint from its own pages: allow the origins it is served from.
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => new URL(uri).origin === origin) ?? false,
    ttl: { AccessToken: ttl, IdToken: ttl, RefreshToken: 8 * 3600, Session: 8 * 3600, Grant: 8 * 3600, Interaction: 3600 },
    interactions: { url: (_ctx, interaction) => `${DEV_IDP_PATH}/interaction/${interaction.uid}` },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in problem', `<h1>Sign-in problem</h1><p>${escapeHtml(out.error_description ?? out.error)}</p>`);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = true;
  provider.on('server_error', (_ctx, error) => log.error({ err: error }, 'identity provider error'));

  const router = express.Router();
  // The provider makes every address it names (discovery, redirects) from the request's Host and,
  // as a proxy is trusted, X-Forwarded-Host and -Proto, which any client can send: a shared cache
  // keeping a discovery document answered to a forged host would send sign-ins elsewhere. It is
  // reached at the public address, so that is the one it is told.
  const publicAddress = new URL(base);
  router.use((req, _res, next) => {
    req.headers.host = publicAddress.host;
    delete req.headers['x-forwarded-host'];
    req.headers['x-forwarded-proto'] = publicAddress.protocol.slice(0, -1);
    next();
  });
  router.get('/interaction/:uid', async (req, res, next) => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') {
        // Consent is implied for the portal (see loadExistingGrant).
        await provider.interactionFinished(req, res, { consent: {} }, { mergeWithLastSubmission: true });
        return;
      }
      sendHtml(res, loginPage({ action: `${DEV_IDP_PATH}/interaction/${details.uid}/login`, users }));
    } catch (error) {
      next(error);
    }
  });
  router.post('/interaction/:uid/login', express.urlencoded({ extended: false, limit: '10kb' }), async (req, res, next) => {
    try {
      const body = req.body as { username?: string; password?: string };
      const user = byUsername.get(
        String(body.username ?? '')
          .trim()
          .toLowerCase(),
      );
      if (!user || !passwordMatches(String(body.password ?? ''))) {
        const details = await provider.interactionDetails(req, res);
        sendHtml(res.status(401), loginPage({ action: `${DEV_IDP_PATH}/interaction/${details.uid}/login`, users, failed: true }));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: user.subject } }, { mergeWithLastSubmission: false });
    } catch (error) {
      next(error);
    }
  });
  const callback = provider.callback();
  router.use((req: Request, res: Response, next: NextFunction) => {
    callback(req, res).catch(next);
  });

  return {
    issuer,
    router,
    users,
    trusted: {
      ...developmentTrust(issuer, KID, publicKey),
      portal: { clientId: PORTAL_CLIENT_ID, name: 'Development sign-in (demo users)', scope: 'openid profile erin' },
    },
  };
}

function sendHtml(res: Response, html: string): void {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.send(html);
}
