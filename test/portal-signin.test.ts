// Signing in to the portal over a link that stalls, in a real browser through a real local HTTP
// server between it and the gateway (test/helpers/link.ts), with the development identity
// provider the gateway runs: a provider that takes the request and never answers, answers late
// with garbage or with a body that never ends, and callbacks forged or replayed after a timeout.
// Whatever the link does, the person is told within seconds, in their language, and may try
// again; nothing is left half signed in, and a code is never exchanged twice.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { DEMO_PASSWORD } from '../src/idp/demo-users.ts';
import { launchBrowser } from './helpers/browser.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { ecKeyPair, nowSeconds, sign } from './helpers/keys.ts';
import { startLink, type Link } from './helpers/link.ts';
import { catalogue, checkTranslated, type Language } from './helpers/portal.ts';

/** ERIN_PORTAL_TIMEOUT for these tests: how long the portal waits for one answer. */
const TIMEOUT_MS = 3_000;
/** What "within seconds" means here: the timeout, and time for the browser and the page. */
const TOLD_WITHIN_MS = TIMEOUT_MS + 5_000;

let gw: TestGateway;
let link: Link;
let browser: Browser;

beforeAll(async () => {
  link = await startLink();
  gw = await startGateway({ devIdp: { publicUrl: link.url }, env: { ERIN_PORTAL_TIMEOUT: `${TIMEOUT_MS}ms` } });
  link.to(gw.url);
  browser = await launchBrowser();
});
afterEach(() => link.heal());
afterAll(async () => {
  await browser?.close();
  await link?.close();
  await gw?.close();
});

type Catalogue = { [key: string]: string | Catalogue };
/** A message of a catalogue by its key (`signIn.problem.timeout`). */
const message = (language: Language, key: string): string =>
  key.split('.').reduce<string | Catalogue>((at, part) => (at as Catalogue)[part]!, catalogue(language)) as string;

/** A new browser (no cookies, no provider session) on the portal's sign-in page, in `language`. */
async function portal(language: Language): Promise<Page> {
  // No service worker: every request of the page goes over the link, as on a first visit.
  const context = await browser.newContext({ serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.goto(`${link.url}/portal/`);
  await page.locator('#language').selectOption(language);
  await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe(language);
  await page.locator('.providers button').waitFor();
  return page;
}

/** On the provider's login page: the demo user's name and password, and the form sent. */
async function logInAtProvider(page: Page): Promise<void> {
  await page.waitForURL(/\/idp\/interaction\//);
  await page.fill('#username', 'p-af-hope-officer');
  await page.fill('#password', DEMO_PASSWORD);
  await page.locator('form button[type=submit]').click();
}

/** Waits for the sign-in problem and checks it: the reason's message, in the page's language, with a retry. */
async function toldOf(page: Page, language: Language, reason: string, since: number): Promise<void> {
  const problem = page.locator('#signin-problem');
  await problem.waitFor({ timeout: TOLD_WITHIN_MS + 5_000 });
  expect(Date.now() - since).toBeLessThan(TOLD_WITHIN_MS);
  expect(await problem.getAttribute('role')).toBe('alert');
  expect(await problem.textContent()).toContain(message(language, `signIn.problem.${reason}`));
  expect(await page.locator('#signin-retry').textContent()).toBe(message(language, 'signIn.retry'));
  await checkTranslated(page, language, `sign-in problem ${reason}`);
}

/** Nothing of a session: no tokens, no sign-in under way, no code in the address. */
async function signedOut(page: Page): Promise<void> {
  const stored = await page.evaluate<Record<string, string>>('({ ...sessionStorage })');
  expect(Object.keys(stored).filter((k) => k.startsWith('erin.s'))).toEqual([]);
  expect(new URL(page.url()).search).toBe('');
  expect(await page.locator('#signout').count()).toBe(0);
}

const signedIn = (page: Page) => page.locator('#signout').waitFor({ timeout: 15_000 });

/** *Try again* on the sign-in problem, the demo user's login at the provider, signed in; the tab closed. */
async function tryAgainAndSignIn(page: Page): Promise<void> {
  await page.locator('#signin-retry').click();
  await logInAtProvider(page);
  await signedIn(page);
  await page.context().close();
}

describe('the provider stalls before its sign-in page', () => {
  it('its configuration never comes: told within seconds (French), nothing held open, and trying again signs in', async () => {
    const page = await portal('fr');
    link.fault({ path: /\/\.well-known\/openid-configuration$/, kind: 'stall' });
    const started = Date.now();
    await page.locator('.providers button').first().click();
    await toldOf(page, 'fr', 'timeout', started);
    // The abandoned request is closed, not left waiting on the provider.
    await expect.poll(() => link.held(), { timeout: 5_000 }).toBe(0);
    await signedOut(page);

    // Trying again while it still stalls: told again; still nothing piles up.
    const again = Date.now();
    await page.locator('#signin-retry').click();
    await toldOf(page, 'fr', 'timeout', again);
    await expect.poll(() => link.held(), { timeout: 5_000 }).toBe(0);

    link.heal();
    await tryAgainAndSignIn(page);
  }, 90_000);

  it('its sign-in page never loads: told within seconds, the sign-in under way is dropped, and trying again signs in', async () => {
    const page = await portal('ar');
    link.fault({ method: 'GET', path: /^\/idp\/auth$/, kind: 'stall' });
    const started = Date.now();
    await page.locator('.providers button').first().click();
    await toldOf(page, 'ar', 'timeout', started);
    expect(new URL(page.url()).pathname).toBe('/portal/');
    await expect.poll(() => link.held(), { timeout: 5_000 }).toBe(0);
    await signedOut(page);

    link.heal();
    await tryAgainAndSignIn(page);
  }, 90_000);

  it('its configuration comes late as garbage, then too large: told it cannot be used, never a raw error', async () => {
    const page = await portal('fr');
    link.fault({
      path: /\/\.well-known\/openid-configuration$/,
      kind: 'answer',
      delayMs: 1_000,
      body: '<html>gateway timeout',
      times: 1,
    });
    let started = Date.now();
    await page.locator('.providers button').first().click();
    await toldOf(page, 'fr', 'invalid', started);

    link.fault({
      path: /\/\.well-known\/openid-configuration$/,
      kind: 'answer',
      delayMs: 500,
      body: '{"issuer":"',
      bytes: 4 * 1024 * 1024,
      times: 1,
    });
    started = Date.now();
    await page.locator('#signin-retry').click();
    await toldOf(page, 'fr', 'invalid', started);
    await signedOut(page);
    await page.context().close();
  }, 90_000);
});

describe('the provider stalls after the person signed in there', () => {
  /** Records every authorization request and every return to the portal with a code. */
  function watch(page: Page) {
    const authorizations: URL[] = [];
    const callbacks: string[] = [];
    page.on('request', (r: Request) => {
      const url = new URL(r.url());
      if (url.pathname === '/idp/auth') authorizations.push(url);
      if (url.pathname === '/portal/' && url.searchParams.has('code')) callbacks.push(r.url());
    });
    return { authorizations, callbacks };
  }

  it('the code exchange never answers: told within seconds, no half session, the old code never used again; trying again signs in', async () => {
    const page = await portal('en');
    const { authorizations, callbacks } = watch(page);
    const before = link.count(/^\/idp\/token$/, 'POST');
    link.fault({ method: 'POST', path: /^\/idp\/token$/, kind: 'stall', times: 1 });
    await page.locator('.providers button').first().click();
    await logInAtProvider(page);
    await page.waitForURL(/\/portal\//);
    const started = Date.now();
    await toldOf(page, 'en', 'timeout', started);
    await signedOut(page);
    await expect.poll(() => link.held(), { timeout: 5_000 }).toBe(0);
    const exchanges = link.count(/^\/idp\/token$/, 'POST');
    expect(exchanges).toBe(before + 1);

    // The return address with the old code and state, opened again (Back, a reload, a copied link,
    // or someone who saw it): refused as stale, and the code never goes to the provider again.
    expect(callbacks).toHaveLength(1);
    await page.goto(callbacks[0]!);
    await toldOf(page, 'en', 'stale', Date.now());
    await signedOut(page);
    expect(link.count(/^\/idp\/token$/, 'POST')).toBe(exchanges);

    // Trying again: a new authorization (new state, nonce and PKCE challenge); the provider's
    // session answers at once, and the new code is exchanged.
    await page.locator('#signin-retry').click();
    await signedIn(page);
    expect(authorizations).toHaveLength(2);
    for (const parameter of ['state', 'nonce', 'code_challenge']) {
      expect(authorizations[1]!.searchParams.get(parameter)).not.toBe(authorizations[0]!.searchParams.get(parameter));
    }
    expect(link.count(/^\/idp\/token$/, 'POST')).toBe(exchanges + 1);
    await page.locator('#view h1').first().waitFor();
    expect(await page.locator('#who').textContent()).toContain('Hope');
    await page.context().close();
  }, 90_000);

  it('the return to the portal never loads: a portal opened before on this browser opens from its own copy, and the sign-in finishes', async () => {
    // Service workers allowed: the portal was opened here before, and keeps its own files.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${link.url}/portal/`);
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await expect.poll(() => page.evaluate('Boolean(navigator.serviceWorker.controller)')).toBe(true);
    await page.locator('.providers button').first().click();
    await page.waitForURL(/\/idp\/interaction\//);
    link.fault({ method: 'GET', path: /^\/portal\/$/, kind: 'stall' });
    await logInAtProvider(page);
    await signedIn(page);
    expect(new URL(page.url()).search).toBe('');
    await context.close();
  }, 90_000);

  it('the code exchange answers late with garbage, then with a body that never ends: told, no session', async () => {
    const page = await portal('ar');
    link.fault({
      method: 'POST',
      path: /^\/idp\/token$/,
      kind: 'answer',
      delayMs: 1_500,
      body: '{"access_token": tru',
      times: 1,
    });
    await page.locator('.providers button').first().click();
    await logInAtProvider(page);
    await page.waitForURL(/\/portal\//);
    await toldOf(page, 'ar', 'invalid', Date.now());
    await signedOut(page);

    // The provider's session signs in again at once; this time the answer never ends.
    link.fault({ method: 'POST', path: /^\/idp\/token$/, kind: 'trickle', delayMs: 500, times: 1 });
    await page.locator('#signin-retry').click();
    await page.waitForRequest((r) => new URL(r.url()).pathname === '/idp/token');
    await toldOf(page, 'ar', 'timeout', Date.now());
    await signedOut(page);
    await expect.poll(() => link.held(), { timeout: 5_000 }).toBe(0);
    await page.context().close();
  }, 90_000);

  it('a return with a forged state while a sign-in is under way is refused: no exchange, and the person may start again', async () => {
    const page = await portal('fr');
    await page.locator('.providers button').first().click();
    await page.waitForURL(/\/idp\/interaction\//);
    const exchanges = link.count(/^\/idp\/token$/, 'POST');
    // Someone sends the person a return address of their own (their code, a state they made up).
    await page.goto(`${link.url}/portal/?code=forged-code&state=forged-state`);
    await toldOf(page, 'fr', 'stale', Date.now());
    await signedOut(page);
    expect(link.count(/^\/idp\/token$/, 'POST')).toBe(exchanges);

    await tryAgainAndSignIn(page);
  }, 90_000);
});

describe('the gateway stalls once the person is signed in', () => {
  it('the first read of the session never answers: the page says so within seconds with a retry, never blank', async () => {
    const page = await portal('fr');
    await page.locator('.providers button').first().click();
    await page.waitForURL(/\/idp\/interaction\//);
    link.fault({ method: 'POST', path: /^\/graphql$/, kind: 'stall' });
    await logInAtProvider(page);
    const started = Date.now();
    await page.locator('#retry').waitFor({ timeout: TOLD_WITHIN_MS + 5_000 });
    expect(Date.now() - started).toBeLessThan(TOLD_WITHIN_MS + TIMEOUT_MS);
    expect(await page.locator('#view').textContent()).toContain(message('fr', 'offline.nothingKept'));
    await checkTranslated(page, 'fr', 'a read that stalled');
    await expect.poll(() => link.held(), { timeout: 5_000 }).toBe(0);

    link.heal();
    await page.locator('#retry').click();
    await page
      .locator('#view h1')
      .filter({ hasText: message('fr', 'home.title') })
      .waitFor({ timeout: 15_000 });
    await page.context().close();
  }, 90_000);
});

describe('the portal’s own start stalls on a first visit', () => {
  // The settings are what says how long to wait: without them, the portal's own default (30 s).
  it('its sign-in settings never come: told with a retry within the default timeout, then the providers once they do', async () => {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    link.fault({ method: 'GET', path: /^\/portal\/config\.json$/, kind: 'stall' });
    const started = Date.now();
    await page.goto(`${link.url}/portal/`);
    await page.locator('#signin-problem').waitFor({ timeout: 45_000 });
    expect(Date.now() - started).toBeLessThan(40_000);
    expect(await page.locator('#signin-problem').textContent()).toContain(message('en', 'signIn.problem.config'));
    link.heal();
    await page.locator('#signin-retry').click();
    await page.locator('.providers button').waitFor({ timeout: 10_000 });
    await context.close();
  }, 90_000);

  it('its words never come: a message in every language with a retry, never a blank page', async () => {
    const context = await browser.newContext({ serviceWorkers: 'block', locale: 'fr-FR' });
    const page = await context.newPage();
    link.fault({ method: 'GET', path: /^\/portal\/locales\/fr\.json$/, kind: 'stall' });
    const started = Date.now();
    await page.goto(`${link.url}/portal/`);
    await page.locator('#start-failed').waitFor({ timeout: TOLD_WITHIN_MS + 5_000 });
    expect(Date.now() - started).toBeLessThan(TOLD_WITHIN_MS + TIMEOUT_MS);
    const shown = await page.locator('#start-failed').textContent();
    for (const word of ['connection', 'connexion', 'الاتصال']) expect(shown).toContain(word);
    link.heal();
    await page.locator('#start-failed button').click();
    await page.locator('.providers button').waitFor({ timeout: 10_000 });
    expect(await page.evaluate('document.documentElement.lang')).toBe('fr');
    await context.close();
  }, 60_000);
});

describe('the gateway never waits on a provider', () => {
  // The gateway is no OpenID client: it verifies tokens with the keys of its trust file, and only
  // names the providers to the portal. A provider that stalls can hold up no request of the gateway's.
  it('one named in the trust file that takes every request and never answers: the gateway starts, answers at once, and never calls it', async () => {
    const stalled = await startLink();
    stalled.fault({ path: /.*/, kind: 'stall' });
    const issuer = `${stalled.url}/realms/partners`;
    const keys = ecKeyPair();
    const dir = mkdtempSync(path.join(tmpdir(), 'trust-'));
    writeFileSync(path.join(dir, 'partners.pem'), keys.publicPem);
    writeFileSync(
      path.join(dir, 'trust.yaml'),
      YAML.stringify({
        issuers: [
          {
            issuer,
            organisationKinds: ['PARTNER'],
            algorithms: ['ES256'],
            keys: [{ kid: 'k1', pemFile: 'partners.pem' }],
            portal: { clientId: 'erin-portal', name: 'Partners sign-in' },
          },
        ],
      }),
    );
    const other = await startGateway({ env: { ERIN_TRUST: path.join(dir, 'trust.yaml') } });
    try {
      const config = (await (await fetch(`${other.url}/portal/config.json`)).json()) as { providers: { issuer: string }[] };
      expect(config.providers.map((p) => p.issuer)).toContain(issuer);
      const token = sign(
        {
          iss: issuer,
          aud: other.config.tokenAudience,
          sub: 'someone',
          org: 'P-AF-HOPE',
          roles: ['partner-officer'],
          iat: nowSeconds(),
          exp: nowSeconds() + 300,
        },
        keys.privateKey,
        { alg: 'ES256', kid: 'k1' },
      );
      const me = await other.gql<{ me: { organisation: { code: string } } }>('{ me { organisation { code } } }', {}, { token });
      expect(me.data?.me.organisation.code).toBe('P-AF-HOPE');
      expect(stalled.seen).toEqual([]);
    } finally {
      await other.close();
      await stalled.close();
    }
  }, 60_000);
});
