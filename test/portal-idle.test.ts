// A portal left open on a shared computer, nobody at it: after ERIN_PORTAL_IDLE without input
// (here 20 s) the session ends, with a warning in the person's language shortly before (here 5 s,
// a quarter of the idle time), in a real browser through the development identity provider's login
// page. Input in any of the portal's tabs keeps all of them; the warning's button keeps the session;
// the case goes from the screen and the store; a write not yet sent stays sealed and goes out once
// the same person signs in again, with their password; and a tab whose timers were held back (a
// background tab, a computer that slept) ends the moment it is woken, never shown or revived first.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { catalogue, logInAtProvider, open, signIn, type Language, records } from './helpers/portal.ts';

const IDLE_MS = 20_000;
/** When the session ends at the latest after the last input: the idle time and a slow machine's margin. */
const ENDS_WITHIN_MS = IDLE_MS + 15_000;

let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  gw = await startGateway({ devIdp: {}, env: { ERIN_PORTAL_IDLE: `${IDLE_MS}ms` } });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const SECRET = 'Wants to reopen his bakery';

/** A catalogue's words by key (`idle.title`). */
function word(language: Language, key: string): string {
  let at: unknown = catalogue(language);
  for (const part of key.split('.')) at = (at as Record<string, unknown>)[part];
  return at as string;
}

const events = async (caseId: string, type: string) => (await gw.services.log.history(caseId)).filter((e) => e.type === type);

/** A referred case with something personal in it, and a new browser's tab signed in and showing it. */
async function tabOnCase(
  language: Language = 'en',
): Promise<{ kase: { id: string; reference: string }; context: BrowserContext; page: Page }> {
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  const kase = await flow.refer(await flow.create({ needsAssessment: SECRET }));
  const context = await newBrowserContext(browser);
  const page = await context.newPage();
  await signIn(page, gw.url, 'p-af-hope-officer', language);
  await open(page, `#/case/${kase.id}`);
  await page.locator('#respond').waitFor();
  expect(await page.locator('#view').textContent()).toContain('bakery');
  return { kase, context, page };
}

/** Another tab of the same browser, signed in with the provider's session (the first tab is signed in). */
async function secondTab(context: BrowserContext): Promise<Page> {
  const second = await context.newPage();
  await second.goto(`${gw.url}/portal/`);
  await second.locator('.providers button').first().click();
  await second.locator('#signout').waitFor({ timeout: 15_000 });
  return second;
}

/** Whatever the whole page shows (dialogs included) and keeps in its session storage. */
const everything = (page: Page) => page.evaluate<string>('document.body.textContent + JSON.stringify({ ...sessionStorage })');

/** What the provider does when this tab's sign-in button is pressed: ask for the password, or sign in at once. */
async function providerAnswer(page: Page): Promise<string> {
  await page.locator('.providers button').first().click();
  return Promise.race([
    page
      .locator('#password')
      .waitFor({ timeout: 15_000 })
      .then(() => 'the provider asks for a password'),
    page
      .locator('#signout')
      .waitFor({ timeout: 15_000 })
      .then(() => 'signed in as the officer who left'),
  ]);
}

describe('nobody at the computer', () => {
  it('a warning in the person’s language, then the case goes from the screen and the store; the next sign-in asks for the password though a throttled tab still holds the session, which the next input ends', async () => {
    const { kase, context, page } = await tabOnCase('fr');
    // A second tab in the background whose timers the browser throttles (to once a minute; here,
    // to never): it still holds its session when the first one ends.
    const background = await secondTab(context);
    await background.evaluate('window.setTimeout = () => 0');

    // Nobody touches anything: the warning first, in French, with a button to stay…
    const warning = page.locator('#idle-dialog');
    await warning.waitFor({ timeout: ENDS_WITHIN_MS });
    expect(await warning.textContent()).toContain(word('fr', 'idle.title'));
    expect(await page.locator('#idle-stay').textContent()).toBe(word('fr', 'idle.stay'));
    // …then the sign-in page, and nothing of the case anywhere in the page or its storage.
    await page.locator('.providers button').first().waitFor({ timeout: ENDS_WITHIN_MS });
    expect(await page.locator('#status').textContent()).toContain(word('fr', 'signIn.idle'));
    const left = await everything(page);
    for (const secret of ['bakery', kase.reference, 'erin.session']) expect(left).not.toContain(secret);
    expect(await page.locator('#idle-dialog').count()).toBe(0);
    await expect.poll(async () => (await records(page)).cache ?? 0).toBe(0);

    // The provider's session is the officer's, and the background tab still holds it: the next
    // person is asked for a password all the same.
    expect(await background.locator('#signout').count()).toBe(1);
    expect(await providerAnswer(page)).toBe('the provider asks for a password');
    // Someone else signs in there: the background tab hears of the input, and does not carry on with
    // the officer's session for it (it came after nobody used the portal for the idle time), it ends.
    await logInAtProvider(page, 'p-iq-tigris-officer');
    expect(await page.locator('#who').textContent()).toContain('Tigris');
    await background.locator('.providers button').first().waitFor({ timeout: 10_000 });
    expect(await background.locator('#status').textContent()).toContain(word('fr', 'signIn.idle'));
    expect(await page.locator('#signout').count()).toBe(1);
    await context.close();
  }, 120_000);

  it('input in one tab keeps the others signed in', async () => {
    const { context, page } = await tabOnCase();
    const other = await secondTab(context);
    // The person works in the other tab for longer than the idle time; the first is not touched.
    const until = Date.now() + IDLE_MS * 1.6;
    for (let i = 0; Date.now() < until; i += 1) {
      await other.mouse.move(100 + (i % 2) * 50, 200);
      await other.waitForTimeout(1_500);
    }
    expect(await page.locator('#signout').count()).toBe(1);
    expect(await page.locator('#view').textContent()).toContain('bakery');
    expect(await page.locator('#idle-dialog').count()).toBe(0);
    await context.close();
  }, 120_000);

  it('the warning’s button keeps the session, in every tab', async () => {
    const { context, page } = await tabOnCase('ar');
    const other = await secondTab(context);
    await page.locator('#idle-dialog').waitFor({ timeout: ENDS_WITHIN_MS });
    await other.locator('#idle-dialog').waitFor({ timeout: 5_000 });
    expect(await other.locator('#idle-stay').textContent()).toBe(word('ar', 'idle.stay'));
    const stayed = Date.now();
    await other.locator('#idle-stay').click();
    // The warning goes in both tabs, and the session outlives the end it was warned of.
    await page.locator('#idle-dialog').waitFor({ state: 'detached', timeout: 5_000 });
    expect(await other.locator('#idle-dialog').count()).toBe(0);
    await page.waitForTimeout(Math.max(0, stayed + 10_000 - Date.now()));
    expect(await page.locator('#signout').count()).toBe(1);
    expect(await page.locator('#view').textContent()).toContain('bakery');
    await context.close();
  }, 120_000);

  it('a write not sent before the session ended stays sealed (the sign-out’s question about it goes) and goes out when the same person signs in again', async () => {
    const { kase, context, page } = await tabOnCase();
    // The link is down: the answer waits in the outbox.
    await context.setOffline(true);
    await page.locator('#respond button[value=ACCEPT]').click();
    await expect.poll(() => page.locator('#outbox').textContent()).toContain('1 change waiting');
    // The officer starts to sign out, is asked about the change not sent (naming the case), and walks away.
    await page.locator('#signout').click();
    await page.locator('#discard-dialog').waitFor({ timeout: 10_000 });
    expect(await page.locator('#discard-dialog').textContent()).toContain(kase.reference);
    await page.locator('.providers button').first().waitFor({ timeout: ENDS_WITHIN_MS });
    expect(await page.locator('#status').textContent()).toContain(word('en', 'signIn.idle'));
    // The question went with the rest; the change was neither sent nor discarded: it waits, sealed.
    const left = await everything(page);
    for (const secret of ['bakery', kase.reference]) expect(left).not.toContain(secret);
    expect(await records(page)).toEqual({ cache: 0, outbox: 1 });
    expect(await events(kase.id, 'ReferralAccepted')).toHaveLength(0);

    // The link is back, and the officer signs in again (with the password): the answer goes out, once.
    await context.setOffline(false);
    expect(await providerAnswer(page)).toBe('the provider asks for a password');
    await logInAtProvider(page, 'p-af-hope-officer');
    await expect.poll(async () => (await events(kase.id, 'ReferralAccepted')).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.locator('#outbox').textContent()).toBe('');
    await context.close();
  }, 120_000);
});

describe('a tab whose timers were held back', () => {
  // In the page: the clock moves on by an hour, as it does for a background tab whose timers the
  // browser throttled or a computer that slept, and nothing has fired since.
  const hourLater = '(() => { const real = Date.now.bind(Date); Date.now = () => real() + 3600e3; })()';
  const shows = (page: Page) => page.evaluate<boolean>("document.body.textContent.includes('bakery')");

  it('ends the moment it is shown again, before anything else', async () => {
    const { context, page } = await tabOnCase();
    expect(
      await page.evaluate<boolean>(`(() => {
        ${hourLater};
        document.dispatchEvent(new Event('visibilitychange'));
        return document.body.textContent.includes('bakery');
      })()`),
    ).toBe(false);
    await page.locator('.providers button').first().waitFor({ timeout: 5_000 });
    expect(await page.locator('#status').textContent()).toContain(word('en', 'signIn.idle'));
    await context.close();
  }, 90_000);

  it('is not brought back by a key pressed after its end', async () => {
    const { context, page } = await tabOnCase();
    await page.evaluate(hourLater);
    await page.keyboard.press('Shift');
    expect(await shows(page)).toBe(false);
    await page.locator('.providers button').first().waitFor({ timeout: 5_000 });
    await context.close();
  }, 90_000);

  it('opened again after the idle time (a tab the browser restores with its session), shows nothing of the session', async () => {
    const { kase, context, page } = await tabOnCase();
    // As a browser restores a closed tab (its session storage too) an hour later. The tab is closed
    // first: open, it would itself end the session once it saw the time.
    const copied = await page.evaluate<Record<string, string>>('({ ...sessionStorage })');
    const activity = await page.evaluate<string>("localStorage.getItem('erin.activity')");
    await page.close();
    const restored = await context.newPage();
    await restored.addInitScript(`
      if (sessionStorage.length === 0) {
        for (const [k, v] of Object.entries(${JSON.stringify(copied)})) sessionStorage.setItem(k, v);
        localStorage.setItem('erin.activity', JSON.stringify({ ...${activity}, at: Date.now() - 3600e3 }));
      }
      // Whatever the page ever shows is watched.
      new MutationObserver(() => {
        if (document.body?.textContent.includes('bakery')) sessionStorage.setItem('shown', '1');
      }).observe(document, { subtree: true, childList: true, characterData: true });
    `);
    await restored.goto(`${gw.url}/portal/#/case/${kase.id}`);
    await restored.locator('.providers button').first().waitFor({ timeout: 10_000 });
    expect(await restored.locator('#status').textContent()).toContain(word('en', 'signIn.idle'));
    expect(await restored.evaluate('sessionStorage.getItem("shown")')).toBeNull();
    expect(await restored.evaluate('sessionStorage.getItem("erin.session")')).toBeNull();
    await context.close();
  }, 90_000);
});
