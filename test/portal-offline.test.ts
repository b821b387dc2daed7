// The portal on a broken link, in a real browser: cases read before are shown offline (marked
// stale), writes made offline wait in the outbox and go out once with their idempotency key, a
// conflicting change is shown and not overwritten, shipments are followed to the handover,
// sign-out names what would be lost, ends the session at the identity provider, and leaves
// nothing readable in the browser's storage.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { open, signIn } from './helpers/portal.ts';

let gw: TestGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  // Short-lived access tokens: the portal renews them (a minute before expiry) while the tests work.
  gw = await startGateway({ devIdp: { accessTokenTtl: 70 } });
  browser = await launchBrowser();
  context = await newBrowserContext(browser);
  page = await context.newPage();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** Everything the browser keeps for the portal's origin, as text an attacker could read. */
async function storage(): Promise<string> {
  const inPage = await page.evaluate(`(async () => {
    const out = { local: { ...localStorage }, session: { ...sessionStorage }, databases: await indexedDB.databases(), records: [], caches: [] };
    for (const { name } of out.databases) {
      const db = await new Promise((resolve, reject) => { const r = indexedDB.open(name); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
      for (const store of db.objectStoreNames) {
        const all = await new Promise((resolve) => { const r = db.transaction(store).objectStore(store).getAll(); r.onsuccess = () => resolve(r.result); });
        for (const record of all) out.records.push(JSON.stringify(record, (k, v) => v instanceof ArrayBuffer || ArrayBuffer.isView(v) ? new TextDecoder().decode(v) : v));
      }
      db.close();
    }
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) out.caches.push(request.url + ' ' + (await (await cache.match(request)).text()));
    }
    return JSON.stringify(out);
  })()`);
  const cookies = JSON.stringify(await context.cookies());
  return `${String(inPage)}\n${cookies}`;
}

const events = async (caseId: string, type: string) => (await gw.services.log.history(caseId)).filter((e) => e.type === type);

describe('the portal offline', () => {
  it('reads cases offline, keeps offline writes in the outbox and sends them once, and leaves nothing behind at sign-out', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const first = await flow.refer(await flow.create({ needsAssessment: 'Wants to reopen his bakery' }));
    const second = await flow.refer(await flow.create());

    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await open(page, `#/case/${second.id}`);
    await open(page, `#/case/${first.id}`);
    await page.locator('#respond').waitFor();
    // What is kept is sealed: neither the case nor the token is in the clear, even now.
    const during = await storage();
    expect(during).not.toContain(first.reference);
    expect(during).not.toContain('bakery');

    // The link drops: the page still opens, from the offline copy, marked stale.
    await context.setOffline(true);
    await page.reload();
    await page.locator('.banner.stale').waitFor();
    expect(await page.locator('.sensitive .needs').textContent()).toContain('bakery');

    // An answer given offline waits in the outbox…
    await page.locator('#respond button[value=ACCEPT]').click();
    await expect.poll(() => page.locator('#outbox').textContent()).toContain('1 change waiting');
    expect(await events(first.id, 'ReferralAccepted')).toHaveLength(0);
    // …and goes out once when the link is back.
    await context.setOffline(false);
    await page.evaluate("dispatchEvent(new Event('online'))");
    await expect.poll(async () => (await events(first.id, 'ReferralAccepted')).length, { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.locator('#outbox').textContent()).toBe('');

    // Offline again, a second answer cannot go out before sign-out: the warning names it.
    await open(page, `#/case/${second.id}`);
    await page.locator('#respond').waitFor();
    await context.setOffline(true);
    await page.locator('#respond button[value=ACCEPT]').click();
    await expect.poll(() => page.locator('#outbox').textContent()).toContain('1 change waiting');
    await page.locator('#signout').click();
    const dialog = page.locator('#discard-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(second.reference);
    await dialog.locator('button.danger').click();
    await page.locator('.providers button').waitFor();
    await context.setOffline(false);

    // Nothing personal is left: no case, no token, no outbox entry (the portal's own files stay cached).
    const after = await storage();
    for (const secret of [first.reference, second.reference, 'bakery', 'eyJ', first.id, second.id]) {
      expect(after, secret).not.toContain(secret);
    }
    const kept = JSON.parse(after.split('\n')[0]!) as { session: object; local: object; databases: unknown[] };
    expect(kept.session).toEqual({});
    // The language, the flag that asks the provider for the password, and when the portal was last
    // used in this browser (a time and a random run id, for the idle sign-out in other tabs, idle.js).
    expect(Object.keys(kept.local).sort()).toEqual(['erin.activity', 'erin.language', 'erin.reauthenticate']);
    expect(Object.keys(JSON.parse((kept.local as Record<string, string>)['erin.activity']!) as object).sort()).toEqual([
      'at',
      'run',
    ]);
    expect(kept.databases).toEqual([]);
    expect(await events(second.id, 'ReferralAccepted')).toHaveLength(0);
  }, 120_000);

  it('a stale page does not overwrite a newer change: the conflict is shown', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create());
    await signIn(page, gw.url, 'p-af-hope-officer', 'en');
    await open(page, `#/case/${referred.id}`);
    await page.locator('#respond').waitFor();
    // Meanwhile a colleague declines it from another office.
    await flow.decline(referred, 'no capacity');
    await page.locator('#respond button[value=ACCEPT]').click();
    await expect.poll(() => page.locator('#status').textContent()).toContain('Someone changed this case meanwhile');
    await expect
      .poll(
        async () =>
          (
            await flow.state.ok<{ case: { status: string } }>('query ($id: ID!) { case(id: $id) { status } }', {
              id: referred.id,
            })
          ).case.status,
      )
      .toBe('DECLINED');
    // The view is read again after the conflict: the answered referral's form goes away
    // (the old view's heading is on screen meanwhile, so wait for the form, not the heading).
    await expect.poll(() => page.locator('#respond').count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => page.locator('#view h1').count()).toBe(1);
  }, 60_000);

  it('a partner orders a shipment and records it step by step to the handover with its certificate', async () => {
    const { samplePng } = await import('../src/seed/sample-files.ts');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    // A name that is personal data: it travels in a header (X-File-Name), never in the URL.
    const certificate = `${mkdtempSync('test-results/portal-files-')}/handover Rahimi.png`;
    const uploads: { url: string; name: string | undefined }[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && new URL(r.url()).pathname === '/evidence')
        uploads.push({ url: r.url(), name: r.headers()['x-file-name'] });
    });
    writeFileSync(certificate, samplePng());
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const approved = await flow.approved({
      components: [
        {
          kind: 'MATERIALS',
          title: 'Sewing machine',
          materials: {
            supplier: 'Tools BV',
            procurement: 'SHIPPED',
            items: [{ description: 'Machine', quantity: 1, unitCost: { amount: 40000, currency: 'EUR' } }],
          },
        },
      ],
    });
    await open(page, `#/case/${approved.id}/work`);
    await page.locator('#order-shipment').waitFor();
    for (const [name, value] of [
      ['carrier', 'DHL'],
      ['trackingReference', 'JD0146'],
      ['origin', 'Rotterdam'],
      ['destination', 'Kabul'],
    ]) {
      await page.fill(`#order-shipment [name=${name}]`, value!);
    }
    await page.locator('#order-shipment button[type=submit]').click();
    const shipment = async () =>
      (
        await flow.state.ok<{ case: { shipments: { status: string; deliveryClosed: boolean }[] } }>(
          'query ($id: ID!) { case(id: $id) { shipments { status deliveryClosed } } }',
          { id: approved.id },
        )
      ).case.shipments[0];
    for (const status of ['DISPATCHED', 'IN_TRANSIT', 'AT_CUSTOMS', 'DELIVERED']) {
      await page.locator(`#shipments form.step button[value=${status}]`).click();
      await expect.poll(async () => (await shipment())?.status, { timeout: 15_000 }).toBe(status);
    }
    await page.setInputFiles('#shipments form.step [name=certificate]', certificate);
    await page.locator('#shipments form.step button[value=HANDED_OVER]').click();
    await expect.poll(async () => await shipment(), { timeout: 15_000 }).toEqual({ status: 'HANDED_OVER', deliveryClosed: true });
    await page.locator('#evidence').getByText('handover Rahimi.png').waitFor();
    expect(uploads.length).toBeGreaterThan(0);
    for (const upload of uploads) {
      expect(upload.url).not.toMatch(/Rahimi|filename=/i);
      expect(upload.name).toBe('handover%20Rahimi.png');
    }
  }, 90_000);

  it('the access token is renewed silently before it expires, and the renewed one is accepted', async () => {
    const token = () => page.evaluate<string>('JSON.parse(sessionStorage.getItem("erin.session")).accessToken');
    const before = await token();
    await expect.poll(token, { timeout: 30_000, interval: 1_000 }).not.toBe(before);
    await open(page, '#/cases');
    await page.locator('#view table, #view p').first().waitFor();
    const me = await gw.gql<{ me: { subject: string } }>('{ me { subject } }', {}, { token: await token() });
    expect(me.data?.me.subject).toBe('demo-p-af-hope-officer');
  }, 60_000);

  it('sign-out ends the session at the identity provider too', async () => {
    await page.locator('#signout').click();
    // The provider asks to confirm the sign-out of its own session, then sends the person back.
    await page.waitForURL(/\/idp\//);
    await page.locator('button[name=logout]').click();
    await page.waitForURL(/\/portal\/$/);
    await page.locator('.providers button').click();
    // Signed out at the provider as well: it asks for the password again.
    await page.waitForURL(/\/idp\/interaction\//);
    await page.locator('#password').waitFor();
  }, 60_000);
});
