// Signing in with OpenID Connect: authorization code with PKCE at the person's organisation's
// identity provider (the gateway's trust configuration names them, /portal/config.json), with
// oauth4webapi, a certified client. Tokens live in this tab's session storage only; they are
// renewed with the refresh token before they expire, and sign-out ends the provider's session.
import * as oauth from 'oauth4webapi';

const SESSION = 'erin.session';
const PENDING = 'erin.signin';
const RENEW_BEFORE_MS = 60_000;
/** Set at every sign-out (the provider's own sign-out page may never load): the next sign-in asks for the password again. */
const PROVIDER_SESSION_LEFT = 'erin.reauthenticate';
/** How long sign-out waits for the provider's configuration (a stalled link) before ending the session here only. */
const SIGN_OUT_DISCOVERY_MS = 3_000;
const redirectUri = () => new URL('./', location.href).href.split('#')[0].split('?')[0];
/** A route of the portal's own (`#/case/…/plan`), never an address elsewhere: kept through the sign-in. */
const IN_APP_ROUTE = /^#\/[\w\-./?=&%]{0,300}$/;
const inAppRoute = (hash) => (typeof hash === 'string' && IN_APP_ROUTE.test(hash) && !hash.startsWith('#//') ? hash : '');

let config = null;
let renewTimer = null;
const discovered = new Map();

export async function loadConfig() {
  config ??= await fetch('config.json', { cache: 'no-cache' }).then((r) => r.json());
  return config;
}

/** http issuers only for local development; oauth4webapi refuses them unless told. */
const options = (issuer) => (issuer.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {});

async function server(issuerUrl, signal) {
  if (!discovered.has(issuerUrl)) {
    const issuer = new URL(issuerUrl);
    const response = await oauth.discoveryRequest(issuer, {
      ...options(issuer),
      algorithm: 'oidc',
      ...(signal ? { signal } : {}),
    });
    discovered.set(issuerUrl, await oauth.processDiscoveryResponse(issuer, response));
  }
  return discovered.get(issuerUrl);
}

const read = () => JSON.parse(sessionStorage.getItem(SESSION) ?? 'null');
const write = (session) => sessionStorage.setItem(SESSION, JSON.stringify(session));

export const session = () => read();
export const signedIn = () => Boolean(read());

/** Who is signed in, as the outbox binds its entries: issuer and subject. */
export function person() {
  const s = read();
  return s ? `${s.issuer}|${s.subject}` : null;
}

/** Who and for which organisation, as the offline store is bound (vault.js): issuer, subject, organisation. */
export function owner() {
  const s = read();
  return s ? `${s.issuer}|${s.subject}|${organisationOf(s.accessToken)}` : null;
}

/** The `org` claim of an access token the gateway reads (a JWT); '' when it cannot be read here. */
function organisationOf(token) {
  try {
    return String(claimsOf(token).org ?? '');
  } catch {
    return '';
  }
}

const claimsOf = (token) => JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));

export async function signIn(provider, uiLocale) {
  const as = await server(provider.issuer);
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(
    PENDING,
    JSON.stringify({
      issuer: provider.issuer,
      clientId: provider.clientId,
      verifier,
      state,
      nonce,
      route: inAppRoute(location.hash),
    }),
  );
  const url = new URL(as.authorization_endpoint);
  url.search = new URLSearchParams({
    client_id: provider.clientId,
    redirect_uri: redirectUri(),
    response_type: 'code',
    scope: provider.scope,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ui_locales: uiLocale,
    ...(localStorage.getItem(PROVIDER_SESSION_LEFT) ? { prompt: 'login' } : {}),
  }).toString();
  location.assign(url.href);
}

function store(issuer, clientId, result, previous) {
  const claims = result.id_token ? oauth.getValidatedIdTokenClaims(result) : null;
  write({
    issuer,
    clientId,
    subject: claims?.sub ?? previous?.subject,
    accessToken: result.access_token,
    refreshToken: result.refresh_token ?? previous?.refreshToken ?? null,
    idToken: result.id_token ?? previous?.idToken ?? null,
    expiresAt: Date.now() + (result.expires_in ?? 300) * 1000,
  });
  scheduleRenewal();
}

/** Finishes a sign-in when the provider sends the person back with a code. Returns true if it did. */
export async function completeSignIn() {
  const here = new URL(location.href);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  if (!pending || !(here.searchParams.has('code') || here.searchParams.has('error'))) return false;
  sessionStorage.removeItem(PENDING);
  // Back to the page asked for before signing in (a deep link), if it is one of the portal's own.
  history.replaceState(null, '', redirectUri() + inAppRoute(pending.route));
  const as = await server(pending.issuer);
  const client = { client_id: pending.clientId };
  const params = oauth.validateAuthResponse(as, client, here, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    params,
    redirectUri(),
    pending.verifier,
    options(new URL(pending.issuer)),
  );
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  store(pending.issuer, pending.clientId, result, null);
  localStorage.removeItem(PROVIDER_SESSION_LEFT);
  return true;
}

/** Development only: a pasted token (the link is shown only when the gateway allows it). */
export function usePastedToken(token) {
  const claims = claimsOf(token);
  write({
    issuer: claims.iss,
    subject: claims.sub,
    accessToken: token,
    refreshToken: null,
    idToken: null,
    expiresAt: (claims.exp ?? 0) * 1000,
    pasted: true,
  });
}

let renewing = null;

/**
 * Renews with the refresh token; false when there is none or the provider refused. One renewal
 * at a time: the provider rotates refresh tokens, and a used one presented twice ends the grant.
 */
export function renew() {
  renewing ??= renewOnce().finally(() => (renewing = null));
  return renewing;
}

async function renewOnce() {
  const s = read();
  if (!s?.refreshToken) return false;
  try {
    const as = await server(s.issuer);
    const client = { client_id: s.clientId };
    const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), s.refreshToken, options(new URL(s.issuer)));
    store(s.issuer, s.clientId, await oauth.processRefreshTokenResponse(as, client, response), s);
    return true;
  } catch (error) {
    if (error instanceof TypeError) throw error; // no connection: try again later
    return false;
  }
}

export function scheduleRenewal() {
  clearTimeout(renewTimer);
  const s = read();
  if (!s?.refreshToken) return;
  const wait = Math.max(5_000, s.expiresAt - Date.now() - RENEW_BEFORE_MS);
  renewTimer = setTimeout(() => void renew().catch(() => scheduleRenewal()), wait);
}

/** A token that is still valid, renewed first if it is about to expire. */
export async function accessToken() {
  const s = read();
  if (!s) return null;
  if (s.expiresAt - Date.now() < RENEW_BEFORE_MS && s.refreshToken) await renew().catch(() => undefined);
  return read()?.accessToken ?? null;
}

/**
 * Forgets the tokens here at once and ends the session at the provider (a page of its own),
 * giving up on the provider after a few seconds when the link stalls. Whether or not the
 * provider's page ever loads, the next sign-in on this browser asks for the password again.
 */
export async function signOut() {
  clearTimeout(renewTimer);
  const s = read();
  sessionStorage.clear();
  if (!s || s.pasted) return false;
  // A flag, nothing personal: set before leaving, as the provider's sign-out page may never load.
  localStorage.setItem(PROVIDER_SESSION_LEFT, '1');
  try {
    const as = await server(s.issuer, AbortSignal.timeout(SIGN_OUT_DISCOVERY_MS));
    if (!as.end_session_endpoint) throw new Error('no end_session_endpoint');
    const url = new URL(as.end_session_endpoint);
    url.search = new URLSearchParams({
      client_id: s.clientId,
      post_logout_redirect_uri: redirectUri(),
      ...(s.idToken ? { id_token_hint: s.idToken } : {}),
    }).toString();
    location.assign(url.href);
    return true;
  } catch {
    return false;
  }
}
