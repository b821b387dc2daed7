// Signing in with OpenID Connect: authorization code with PKCE at the person's organisation's
// identity provider (the gateway's trust configuration names them, /portal/config.json), with
// oauth4webapi, a certified client. Tokens live in this tab's session storage only; they are
// renewed with the refresh token before they expire, and sign-out ends the provider's session.
// Partner staff sign in over links that stall: every request to the provider is bounded (the
// gateway's ERIN_PORTAL_TIMEOUT, and a size no provider's answer comes near), and a sign-in that
// does not finish ends in a SignInError the sign-in page names, with a way to try again.
import * as oauth from 'oauth4webapi';
import { recentlyActive } from './idle.js';

const SESSION = 'erin.session';
const PENDING = 'erin.signin';
const RENEW_BEFORE_MS = 60_000;
/** Set at every sign-out (the provider's own sign-out page may never load): the next sign-in asks for the password again. */
const PROVIDER_SESSION_LEFT = 'erin.reauthenticate';
/**
 * Held (shared) by every tab of this browser that is signed in, and let go when it signs out, its
 * session ends or it is closed: while one holds it, the provider's session is that of someone
 * signed in here now, and another tab may use it (see signIn).
 */
const SIGNED_IN_LOCK = 'erin.signed-in';
/**
 * In this tab, a sign-in came back from the provider with a code and did not finish (the exchange
 * stalled or failed), when: the provider's session is the one this tab's person just signed in
 * with, and trying again within a few minutes may use it.
 */
const SIGNED_IN_AT_PROVIDER = 'erin.triedSignIn';
const RETRY_WITH_PROVIDER_SESSION_MS = 10 * 60_000;
/** How long sign-out waits for the provider's configuration (a stalled link) before ending the session here only. */
const SIGN_OUT_DISCOVERY_MS = 3_000;
/** How long the portal waits for one answer until config.json says (ERIN_PORTAL_TIMEOUT's default). */
const DEFAULT_TIMEOUT_MS = 30_000;
/** A discovery document or a token response is a few KB: an answer larger than this is not one. */
const MAX_ANSWER_BYTES = 256 * 1024;
const redirectUri = () => new URL('./', location.href).href.split('#')[0].split('?')[0];
/** A route of the portal's own (`#/case/…/plan`), never an address elsewhere: kept through the sign-in. */
const IN_APP_ROUTE = /^#\/[\w\-./?=&%]{0,300}$/;
const inAppRoute = (hash) => (typeof hash === 'string' && IN_APP_ROUTE.test(hash) && !hash.startsWith('#//') ? hash : '');

let config = null;
let configLoad = null;
let renewTimer = null;
const discovered = new Map();

/**
 * Why a sign-in did not finish, as the sign-in page tells the person (signIn.problem.<reason>):
 * `timeout` (no answer in time), `unreachable` (no connection), `invalid` (an answer that is not
 * the provider's), `refused` (the provider said no), `stale` (a return to the portal from no
 * sign-in under way in this tab: replayed, forged or given up).
 */
export class SignInError extends Error {
  constructor(reason, issuer = null) {
    super(`sign-in: ${reason}`);
    this.name = 'SignInError';
    this.reason = reason;
    this.issuer = issuer;
  }
}

/**
 * The portal's sign-in configuration, asked for once within the timeout. A failure stays until
 * the person asks again (`again`): the sign-in page shows it rather than waiting a second time.
 */
export function loadConfig(again = false) {
  if (again && !config) configLoad = null;
  configLoad ??= fetch('config.json', { cache: 'no-cache', signal: AbortSignal.timeout(DEFAULT_TIMEOUT_MS) })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`config.json: ${r.status}`))))
    .then((loaded) => (config = loaded));
  return configLoad;
}

/** How long the portal waits for one answer (of the provider, or a read of the gateway). */
export const timeoutMs = () => config?.timeoutMs ?? DEFAULT_TIMEOUT_MS;

/**
 * A signal that aborts once the timeout has passed since `started`: the default until config.json
 * is read, then the gateway's (for what is asked for at the same time, such as the words).
 */
export function timeoutSince(started = Date.now()) {
  const controller = new AbortController();
  let timer;
  const arm = () => {
    clearTimeout(timer);
    const wait = Math.max(0, started + timeoutMs() - Date.now());
    timer = setTimeout(() => controller.abort(new DOMException('no answer in time', 'TimeoutError')), wait);
  };
  arm();
  void configLoad?.then(arm, () => undefined);
  return controller.signal;
}

/**
 * fetch for the provider's endpoints (oauth4webapi's customFetch), bounded: the whole answer within
 * the timeout and under MAX_ANSWER_BYTES, or the request is abandoned (its connection closed, never
 * left waiting on a stalled provider) with a SignInError. `attempt` aborts it sooner (a newer
 * attempt, sign-out's own deadline): then the abort itself is thrown.
 */
const bounded = (attempt) => async (url, init) => {
  const deadline = AbortSignal.timeout(timeoutMs());
  const signal = attempt ? AbortSignal.any([attempt, deadline]) : deadline;
  try {
    const response = await fetch(url, { ...init, signal });
    if (response.type === 'opaqueredirect' || response.body === null) return response;
    const reader = response.body.getReader();
    const chunks = [];
    let size = 0;
    for (let part = await reader.read(); !part.done; part = await reader.read()) {
      size += part.value.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await reader.cancel().catch(() => undefined);
        throw new SignInError('invalid');
      }
      chunks.push(part.value);
    }
    return new Response(new Blob(chunks), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  } catch (error) {
    if (error instanceof SignInError) throw error;
    if (attempt?.aborted) throw attempt.reason;
    throw new SignInError(deadline.aborted ? 'timeout' : 'unreachable');
  }
};

/** What went wrong, as a SignInError (an abort by a newer attempt stays what it is). */
function problem(error, issuer) {
  if (error instanceof SignInError) {
    error.issuer ??= issuer;
    return error;
  }
  if (error?.name === 'AbortError') return error;
  const refused =
    error instanceof oauth.AuthorizationResponseError ||
    error instanceof oauth.ResponseBodyError ||
    error instanceof oauth.WWWAuthenticateChallengeError;
  return new SignInError(refused ? 'refused' : 'invalid', issuer);
}

/** http issuers only for local development; oauth4webapi refuses them unless told. */
const options = (issuer, attempt) => ({
  ...(issuer.protocol === 'http:' ? { [oauth.allowInsecureRequests]: true } : {}),
  [oauth.customFetch]: bounded(attempt),
});

async function server(issuerUrl, attempt) {
  if (!discovered.has(issuerUrl)) {
    const issuer = new URL(issuerUrl);
    const response = await oauth.discoveryRequest(issuer, { ...options(issuer, attempt), algorithm: 'oidc' });
    discovered.set(issuerUrl, await oauth.processDiscoveryResponse(issuer, response));
  }
  return discovered.get(issuerUrl);
}

/** The sign-in under way in this tab: one at a time, so a stalled provider never collects requests. */
let attempt = null;
function newAttempt() {
  attempt?.abort();
  attempt = new AbortController();
  return attempt.signal;
}

const read = () => JSON.parse(sessionStorage.getItem(SESSION) ?? 'null');
const write = (session) => {
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  holdPresence();
};

let presence = null;
/** This tab is signed in: other tabs of the browser can tell (SIGNED_IN_LOCK). */
export function holdPresence() {
  if (presence || !navigator.locks) return;
  const held = { release: null, released: false };
  presence = held;
  navigator.locks
    .request(SIGNED_IN_LOCK, { mode: 'shared' }, () =>
      held.released ? undefined : new Promise((resolve) => (held.release = resolve)),
    )
    .catch(() => undefined);
}

function releasePresence() {
  if (!presence) return;
  presence.released = true;
  presence.release?.();
  presence = null;
}

/** The session ended here without a sign-out (its token refused): forgotten, and no longer held. */
export function dropSession() {
  sessionStorage.removeItem(SESSION);
  clearTimeout(expiryTimer);
  releasePresence();
}

/**
 * Whether the provider may sign this tab in with the session it holds, without a password. Only
 * when that session is known to be of someone at this browser now: another tab is signed in, or
 * this tab's own sign-in came back from the provider and is being tried again. Otherwise (the last
 * person closed their tab or the browser without signing out, and the next one opens the portal on
 * this shared computer, or nobody has used the portal here for the idle time, ERIN_PORTAL_IDLE) the
 * provider's session is the one who left: the password is asked again.
 */
async function providerSessionUsable() {
  if (localStorage.getItem(PROVIDER_SESSION_LEFT)) return false;
  const tried = Number(sessionStorage.getItem(SIGNED_IN_AT_PROVIDER));
  if (tried && Date.now() - tried < RETRY_WITH_PROVIDER_SESSION_MS) return true;
  if (!navigator.locks) return false;
  // A tab still signed in only because its timers were held back (a background tab, a computer
  // that slept) is of someone who has gone when nobody used the portal for the idle time (idle.js).
  if (!recentlyActive()) return false;
  const { held = [] } = await navigator.locks.query().catch(() => ({}));
  return held.some((lock) => lock.name === SIGNED_IN_LOCK);
}

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

/**
 * Starts a sign-in: the provider's configuration, then its sign-in page, each waited for at most
 * the timeout. Leaves the page when the provider answers; otherwise throws a SignInError (or an
 * AbortError when the person started another meanwhile).
 */
export async function signIn(provider, uiLocale) {
  const signal = newAttempt();
  try {
    const as = await server(provider.issuer, signal);
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
      ...((await providerSessionUsable()) ? {} : { prompt: 'login' }),
    }).toString();
    location.assign(url.href);
    await leaving(signal);
  } catch (error) {
    throw problem(error, provider.issuer);
  }
}

/**
 * Waits for the page to be left for the provider's sign-in page. The page stays, its scripts
 * running, while that page does not come: after the timeout the navigation is stopped (so a late
 * answer cannot take the person away later) and the sign-in under way is dropped.
 */
function leaving(signal) {
  return new Promise((_resolve, reject) => {
    const gone = () => clearTimeout(timer);
    const timer = setTimeout(() => {
      removeEventListener('pagehide', gone);
      if (signal.aborted) return reject(signal.reason);
      window.stop();
      sessionStorage.removeItem(PENDING);
      reject(new SignInError('timeout'));
    }, timeoutMs());
    addEventListener('pagehide', gone, { once: true });
  });
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

/** Whether this page is a return from the provider (a code, an error, or a state). */
export function returnedFromProvider() {
  const here = new URL(location.href).searchParams;
  return here.has('code') || here.has('error') || here.has('state');
}

/**
 * Finishes a sign-in when the provider sends the person back with a code. Returns true if it did;
 * throws a SignInError if it did not. A sign-in is finished or given up once: what it was waiting
 * for goes first, and the code leaves the address at once (Back, a reload or a copied address never
 * present it again). A return that does not answer this tab's sign-in under way (none, or another
 * state) is refused before anything goes to the provider. Nothing is stored until the provider's
 * answer is checked, and an exchange that does not answer in time is abandoned whole.
 */
export async function completeSignIn() {
  const here = new URL(location.href);
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  if (!returnedFromProvider()) return false;
  // Back to the page asked for before signing in (a deep link), if it is one of the portal's own.
  history.replaceState(null, '', redirectUri() + inAppRoute(pending?.route));
  if (!pending || here.searchParams.get('state') !== pending.state) throw new SignInError('stale', pending?.issuer);
  if (here.searchParams.has('code')) sessionStorage.setItem(SIGNED_IN_AT_PROVIDER, String(Date.now()));
  const signal = newAttempt();
  try {
    const issuer = new URL(pending.issuer);
    const as = await server(pending.issuer, signal);
    const client = { client_id: pending.clientId };
    const params = oauth.validateAuthResponse(as, client, here, pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      redirectUri(),
      pending.verifier,
      options(issuer, signal),
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: pending.nonce,
      requireIdToken: true,
    });
    store(pending.issuer, pending.clientId, result, null);
  } catch (error) {
    throw problem(error, pending.issuer);
  }
  localStorage.removeItem(PROVIDER_SESSION_LEFT);
  sessionStorage.removeItem(SIGNED_IN_AT_PROVIDER);
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

let onExpired = () => undefined;
/** `handler` ends the session here once it cannot go on (its token spent, and the provider refused to renew it). */
export const whenSessionExpires = (handler) => (onExpired = handler);
let expiryTimer = null;

/**
 * The provider refused to renew the session (its grant withdrawn, its refresh token expired): the
 * access token is the last one. When it is spent the session ends here too, with nothing of it left
 * on screen, rather than stay shown in a tab left open until someone touches it.
 */
function endWhenSpent(s) {
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(
    () => {
      if (read()?.accessToken === s.accessToken) onExpired();
    },
    Math.max(0, s.expiresAt - Date.now()),
  );
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
    // No connection, or no answer in time: try again later.
    if (error instanceof SignInError && (error.reason === 'timeout' || error.reason === 'unreachable')) throw error;
    if (problem(error, s.issuer).reason === 'refused') endWhenSpent(s);
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
  clearTimeout(expiryTimer);
  const s = read();
  sessionStorage.clear();
  releasePresence();
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
