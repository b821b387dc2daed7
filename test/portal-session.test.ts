// Who the portal's browser storage belongs to, in a real browser through the development identity
// provider's login page: when a session ends without a sign-out (the token refused), the offline
// copy of what was read goes at once; the same person signing in again gets their unsent write sent;
// someone else signing in on the same tab finds nothing of the first person's, offline or not. Another
// tab of the portal (a new one, a duplicate) neither keeps the first from signing out nor is kept
// from signing in. And a link into the portal survives the sign-in, but only to a page of the portal's own.
// On a shared computer, the next person is never signed in with the provider session of one who left,
// nor offered what the last one typed.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { businessComponent, cashComponent, materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { logInAtProvider, open, signIn, signInOnProvider, records } from './helpers/portal.ts';

let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  gw = await startGateway({ devIdp: {} });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const events = async (caseId: string, type: string) => (await gw.services.log.history(caseId)).filter((e) => e.type === type);

/** The session ends at the gateway: its token is no longer accepted and cannot be renewed. */
async function endSession(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const s = JSON.parse(sessionStorage.getItem('erin.session'));
    s.accessToken = s.accessToken.slice(0, -4) + 'AAAA';
    s.refreshToken = null;
    s.expiresAt = Date.now() + 3600e3;
    sessionStorage.setItem('erin.session', JSON.stringify(s));
  })()`);
}

/** Signs in on the provider's login page from the portal's sign-in page (the provider's own session ended). */
async function signInAgain(context: BrowserContext, page: Page, username: string): Promise<void> {
  await context.clearCookies();
  await signInOnProvider(page, username);
  await page.locator('#view h1').first().waitFor();
}

describe('the portal’s storage belongs to one person', () => {
  const newPage = async () => {
    const context = await newBrowserContext(browser);
    const page = await context.newPage();
    page.on('dialog', (d) => void d.dismiss());
    return { context, page };
  };

  it('someone else signing in on the tab a session ended in sees nothing of the first person’s, even offline', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const first = await flow.refer(await flow.create({ needsAssessment: 'Wants to reopen his bakery' }));
    const { context, page } = await newPage();
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    await open(page, '#/cases');
    await page.locator(`#view a[href="#/case/${first.id}"]`).first().waitFor();
    await open(page, `#/case/${first.id}`);
    await page.locator('#respond').waitFor();
    expect((await records(page)).cache).toBeGreaterThan(0);

    // The session ends (no sign-out): what was read goes at once.
    await endSession(page);
    await page.evaluate(`location.hash = '#/cases'`);
    await page.locator('.providers button').waitFor();
    expect(await page.locator('#status').textContent()).toContain('Your session has ended');
    await expect.poll(async () => (await records(page)).cache ?? 0).toBe(0);

    await signInAgain(context, page, 'p-iq-tigris-officer');
    // Not on the page the first person was on: at home.
    expect(new URL(page.url()).hash).toBe('');
    expect(await page.locator('#who').textContent()).toContain('Tigris');
    await context.setOffline(true);
    await open(page, `#/case/${first.id}`);
    expect(await page.locator('#view').textContent()).not.toContain('bakery');
    expect(await page.locator('#view').textContent()).not.toContain(first.reference);
    await open(page, '#/cases');
    expect(await page.locator('#view').textContent()).not.toContain(first.reference);
    await context.close();
  }, 120_000);

  it('a write refused because the session ended is sent when the same person signs in again, never as someone else', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const first = await flow.refer(await flow.create());
    const second = await flow.refer(await flow.create());
    const { context, page } = await newPage();
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    await open(page, `#/case/${first.id}`);
    await page.locator('#respond').waitFor();

    // The session ends under an answer: it is held; what was read goes.
    await endSession(page);
    await page.locator('#respond button[value=ACCEPT]').click();
    await page.locator('.providers button').waitFor();
    expect(await page.locator('#status').textContent()).toContain('Your session has ended');
    expect(await records(page)).toEqual({ cache: 0, outbox: 1 });

    // The same person signs in again: the held answer goes out, once.
    await signInAgain(context, page, 'p-af-hope-officer');
    await expect.poll(async () => (await events(first.id, 'ReferralAccepted')).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.locator('#outbox').textContent()).toBe('');

    // Held again, and someone else signs in: it is deleted, not sent.
    await open(page, `#/case/${second.id}`);
    await page.locator('#respond').waitFor();
    await endSession(page);
    await page.locator('#respond button[value=ACCEPT]').click();
    await page.locator('.providers button').waitFor();
    await signInAgain(context, page, 'p-iq-tigris-officer');
    expect((await records(page)).outbox).toBe(0);
    expect(await page.locator('#outbox').textContent()).toBe('');
    expect(await events(second.id, 'ReferralAccepted')).toHaveLength(0);
    await context.close();
  }, 120_000);
});

describe('signing out on a stalled link', () => {
  it('ends within seconds: what is not sent is named, the person stays or discards it, and nothing is left', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const kase = await flow.refer(await flow.create());
    // No service worker: the stalled link is made by intercepting the page's own requests.
    const context = await browser.newContext({ serviceWorkers: 'block' });
    if (process.env.DATE_OFFSET_DAYS) await context.clock.install({ time: Date.now() });
    const page = await context.newPage();
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    await open(page, `#/case/${kase.id}`);
    // A fresh page: the provider's configuration is not known yet, and will have to be asked for.
    await page.reload();
    await page.locator('#respond').waitFor();

    // The link stalls: requests go out and nothing ever comes back (the gateway, the provider).
    const stall = () => undefined;
    await page.route('**/graphql', stall);
    await page.route('**/idp/**', stall);
    await page.locator('#respond button[value=ACCEPT]').click();
    await expect.poll(() => page.locator('#outbox').textContent()).toContain('1 change waiting');

    // Sign out: within seconds the person is told what has not gone, and may stay signed in…
    let started = Date.now();
    await page.locator('#signout').click();
    const dialog = page.locator('#discard-dialog');
    await dialog.waitFor({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(await dialog.textContent()).toContain('1 change has not been sent');
    expect(await dialog.textContent()).toContain(kase.reference);
    await dialog.locator('button.secondary').click();
    expect(await page.evaluate('sessionStorage.getItem("erin.session") !== null')).toBe(true);
    await page.locator('#signout').waitFor();

    // …or sign out anyway: signed out within seconds, though neither the gateway nor the provider answers.
    started = Date.now();
    await page.locator('#signout').click();
    await dialog.waitFor({ timeout: 10_000 });
    await dialog.locator('button.danger').click();
    await page.locator('.providers button').waitFor({ timeout: 10_000 });
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(await page.locator('#app').textContent()).not.toContain(kase.reference);
    expect(await page.evaluate('({ ...sessionStorage })')).toEqual({});
    expect(await records(page)).toEqual({});
    // The provider's session may live on: the next sign-in here asks for the password again.
    expect(await page.evaluate('localStorage.getItem("erin.reauthenticate")')).toBe('1');
    await context.close();
  }, 120_000);
});

describe('back to a page after sign-out', () => {
  it('a page the browser brings back from its back-forward cache drops what it showed and checks the session again', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const kase = await flow.refer(await flow.create({ needsAssessment: 'Wants to reopen his bakery' }));
    const context = await newBrowserContext(browser);
    const page = await context.newPage();
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    await open(page, `#/case/${kase.id}`);
    await page.locator('#respond').waitFor();
    // Signed in, a page brought back is read again (and still shows the case).
    await page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))");
    await page.locator('#respond').waitFor();
    // As a page left for the provider's sign-out page is when Back brings it back: the tokens are
    // gone (sign-out forgot them before leaving), the case still on screen. (Headless Chromium keeps
    // no back-forward cache, so the browser's event is sent here as it would send it.)
    await page.evaluate("sessionStorage.removeItem('erin.session')");
    expect(await page.locator('#view').textContent()).toContain('bakery');
    await page.evaluate("dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))");
    await page.locator('.providers button').waitFor({ timeout: 5_000 });
    const shown = await page.locator('#app').textContent();
    for (const secret of ['bakery', kase.reference]) expect(shown).not.toContain(secret);
    expect(await page.locator('#signout').count()).toBe(0);
    await context.close();
  }, 90_000);
});

describe('a shared computer', () => {
  it('someone who opens the portal after another closed their tab without signing out signs in with their own password, never as them', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const kase = await flow.refer(await flow.create({ needsAssessment: 'Wants to reopen his bakery' }));
    const context = await newBrowserContext(browser);
    const first = await context.newPage();
    await signIn(first, gw.url, 'p-af-hope-officer', 'en');
    await open(first, `#/case/${kase.id}`);
    await first.locator('#respond').waitFor();
    // The officer closes the tab (or the browser's window) and leaves; the provider's session lives on.
    await first.close();

    // The next person at this computer opens the portal and signs in.
    const next = await context.newPage();
    await next.goto(`${gw.url}/portal/`);
    await next.locator('.providers button').first().click();
    const shown = await Promise.race([
      next
        .locator('#password')
        .waitFor({ timeout: 15_000 })
        .then(() => 'the provider asks for a password'),
      next
        .locator('#signout')
        .waitFor({ timeout: 15_000 })
        .then(() => 'signed in as the officer who left'),
    ]);
    expect(shown).toBe('the provider asks for a password');
    // Back to the portal without signing in there, and again: a sign-in that never came back from
    // the provider gives no right to its session.
    await next.goBack();
    await next.locator('.providers button').first().click();
    await next.locator('#password').waitFor({ timeout: 15_000 });
    await logInAtProvider(next, 'p-iq-tigris-officer');
    expect(await next.locator('#who').textContent()).toContain('Tigris');
    await next.locator('#view h1').first().waitFor();
    expect(await next.locator('#app').textContent()).not.toContain(kase.reference);
    await context.close();
  }, 90_000);

  it('a session the provider will not renew ends when its token does: a page left open shows nothing of it', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const kase = await flow.refer(await flow.create({ needsAssessment: 'Wants to reopen his bakery' }));
    const context = await newBrowserContext(browser);
    const page = await context.newPage();
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    // The officer's grant is withdrawn at the provider (a refresh token it refuses) while the case is
    // on screen, and the access token has seconds left; the officer walks away from the open tab.
    await page.evaluate(`(() => {
      const s = JSON.parse(sessionStorage.getItem('erin.session'));
      s.refreshToken = 'withdrawn-at-the-provider';
      s.expiresAt = Date.now() + 8000;
      sessionStorage.setItem('erin.session', JSON.stringify(s));
    })()`);
    await page.goto(`${gw.url}/portal/#/case/${kase.id}`);
    await page.reload();
    await page.locator('#respond').waitFor();
    expect(await page.locator('#view').textContent()).toContain('bakery');

    // Nobody touches the page: once the token is spent, the case goes from the screen and the store.
    await page.locator('.providers button').first().waitFor({ timeout: 20_000 });
    expect(await page.locator('#status').textContent()).toContain('Your session has ended');
    expect(await page.locator('#app').textContent()).not.toContain('bakery');
    await expect.poll(async () => (await records(page)).cache ?? 0).toBe(0);
    await context.close();
  }, 90_000);

  it('nothing typed into the portal’s forms is kept in the browser’s form history for the next person to be offered', async () => {
    // What a partner types about a person (where the business is, what the cash is for, what was
    // seen on a visit) would otherwise be offered back, field by field, to whoever types next in a
    // field of the same name on this computer, on the portal or on any other site.
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const components = [
      { ...businessComponent(), id: 'shop' },
      { ...cashComponent(), id: 'cash' },
      { ...materialsComponent(), id: 'tools' },
    ];
    const drafted = await flow.draft(await flow.arrived(), { components });
    // The programme pays no cash: the approved plan has none.
    const approved = await flow.approved({ components: components.filter((k) => k.kind !== 'CASH') });
    const context = await newBrowserContext(browser);
    const page = await context.newPage();
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    const kept: string[] = [];
    for (const route of [
      `#/case/${drafted.id}/plan`,
      `#/case/${approved.id}/work`,
      `#/case/${approved.id}/monitoring`,
      '#/cases',
    ]) {
      await open(page, route);
      // In the page (DOM types are not the test's): every field one types text into, and whether it is off.
      const fields = await page.evaluate<{ name: string; off: boolean }[]>(`
        [...document.querySelectorAll('#view input, #view textarea')]
          .filter((el) => !['hidden', 'file', 'radio', 'checkbox', 'date', 'submit', 'button'].includes(el.type))
          .map((el) => ({ name: el.name, off: (el.getAttribute('autocomplete') ?? el.form?.getAttribute('autocomplete')) === 'off' }))
      `);
      expect(fields.length, route).toBeGreaterThan(0);
      kept.push(...fields.filter((f) => !f.off).map((f) => `${route} ${f.name}`));
    }
    expect(kept).toEqual([]);
    await context.close();
  }, 120_000);
});

describe('more than one tab', () => {
  /** A referred case, and a first tab of a new browser signed in and showing it: the tab holds the offline store open. */
  async function firstTabOnCase(): Promise<{ kase: { id: string }; context: BrowserContext; first: Page }> {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const kase = await flow.refer(await flow.create());
    const context = await newBrowserContext(browser);
    const first = await context.newPage();
    await signIn(first, gw.url, 'p-af-hope-officer', 'en');
    await open(first, `#/case/${kase.id}`);
    await first.locator('#respond').waitFor();
    return { kase, context, first };
  }

  /** Signs out on a tab: it leaves for the provider's sign-out page with no token left behind. */
  async function signsOut(page: Page): Promise<void> {
    await page.bringToFront();
    await page.locator('#signout').click();
    await page.waitForURL(/\/idp\/session\/end/, { timeout: 10_000 });
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
  }

  it('a second tab signs in and shows its page while the first shows a case; the first then signs out', async () => {
    const { kase, context, first } = await firstTabOnCase();

    const second = await context.newPage();
    await second.goto(`${gw.url}/portal/#/case/${kase.id}`);
    await second.locator('.providers button').first().click(); // the provider's session signs it in
    await second.locator('#respond').waitFor({ timeout: 10_000 });

    await signsOut(first);
    await context.close();
  }, 90_000);

  it('signing out is not held up by a duplicated tab that keeps the store open', async () => {
    const { kase, context, first } = await firstTabOnCase();
    // A duplicated tab starts with a copy of the first one's session storage (its session, key and owner).
    const copied = await first.evaluate<Record<string, string>>('({ ...sessionStorage })');
    const duplicate = await context.newPage();
    await duplicate.addInitScript(
      `if (sessionStorage.length === 0) for (const [k, v] of Object.entries(${JSON.stringify(copied)})) sessionStorage.setItem(k, v);`,
    );
    await duplicate.goto(`${gw.url}/portal/#/case/${kase.id}`);
    await duplicate.locator('#respond').waitFor();

    await signsOut(first);
    await context.close();
  }, 90_000);
});

describe('a link into the portal', () => {
  const signInFrom = async (address: string): Promise<Page> => {
    const page = await (await newBrowserContext(browser)).newPage();
    await page.goto(address);
    await signInOnProvider(page, 'p-af-hope-officer');
    await page.locator('#view h1').first().waitFor();
    return page;
  };

  it('opens the page it names after the sign-in; an address elsewhere is not followed', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const approved = await flow.approved({ components: [trainingComponent()] });
    const linked = await signInFrom(`${gw.url}/portal/#/case/${approved.id}/work`);
    await linked.locator('#implementation').waitFor();
    expect(new URL(linked.url()).hash).toBe(`#/case/${approved.id}/work`);
    expect(new URL(linked.url()).search).toBe('');
    await linked.context().close();

    const elsewhere = await signInFrom(`${gw.url}/portal/#https://evil.example/`);
    expect(elsewhere.url()).toBe(`${gw.url}/portal/`);
    await elsewhere.context().close();
  }, 90_000);
});
