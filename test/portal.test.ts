// The partner portal in a real browser (Debian's Chromium driven by playwright-core):
// a partner officer signs in, answers a referral, confirms the arrival and drafts and
// submits a plan; text from the case is shown as text, never run as HTML.
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let gw: TestGateway;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  gw = await startGateway();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe('partner portal', () => {
  it('a partner officer answers a referral, confirms arrival, drafts and submits a plan', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(
      await flow.create({ needsAssessment: '<img src=x onerror="window.hacked=1"> wants to be a tailor' }),
    );
    const alerts: string[] = [];
    page.on('dialog', (d) => void d.dismiss().then(() => alerts.push(d.message())));

    await page.goto(`${gw.url}/portal/`);
    await page.fill('#token', flow.officer.token);
    await page.click('#signin button[type=submit]');
    await page.getByRole('link', { name: referred.reference }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('REFERRED');
    // Special-category text is rendered as text.
    await expect.poll(() => page.locator('.sensitive p').first().textContent()).toContain('<img src=x');
    expect(await page.evaluate(() => (globalThis as unknown as { hacked?: number }).hacked)).toBeUndefined();

    await page.getByRole('button', { name: 'Accept referral' }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('ACCEPTED');
    await page.fill('#arrived-on', '2026-11-20');
    await page.getByRole('button', { name: 'Confirm arrival' }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('ARRIVED');

    await page.fill('.component [name=title]', 'Tailoring course');
    await page.fill('.component [name=amount]', '90000');
    await page.fill('.component [name=provider]', 'Kabul Vocational Institute');
    await page.fill('.component [name=course]', 'Industrial sewing');
    await page.fill('.component [name=startDate]', '2027-01-10');
    await page.fill('.component [name=endDate]', '2027-03-10');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.locator('#plan h2').textContent()).toContain('version 1 — draft');
    await page.getByRole('button', { name: 'Submit plan for approval' }).click();
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('PLAN SUBMITTED');

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/portal-case.png', fullPage: true });
    const { case: stored } = await flow.state.ok<{ case: { status: string; plan: { totalEur: { amount: number } } } }>(
      'query ($id: ID!) { case(id: $id) { status plan { totalEur { amount } } } }',
      { id: referred.id },
    );
    expect(stored).toEqual({ status: 'PLAN_SUBMITTED', plan: { totalEur: { amount: 90000 } } });
    expect(alerts).toEqual([]);
  });

  it('a write made while the gateway cannot be reached is kept and applied once when it can', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create());
    await page.goto(`${gw.url}/portal/#/case/${referred.id}`);
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('REFERRED');
    // The link drops exactly when the officer accepts.
    let dropped = 0;
    await page.route('**/graphql', async (route) => {
      if (route.request().postData()?.includes('respondToReferral') && dropped === 0) {
        dropped += 1;
        return route.abort('internetdisconnected');
      }
      return route.continue();
    });
    await page.getByRole('button', { name: 'Accept referral' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toContain('will be retried');
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toContain('Done: Accept the referral');
    await page.unroute('**/graphql');
    const history = await gw.services.log.history(referred.id);
    expect(history.filter((e) => e.type === 'ReferralAccepted')).toHaveLength(1);
  });

  it('a stale page does not overwrite a newer change: the conflict is shown', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create());
    await page.goto(`${gw.url}/portal/#/case/${referred.id}`);
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('REFERRED');
    // Meanwhile a colleague declines it from another office.
    await flow.decline(referred, 'no capacity');
    await page.getByRole('button', { name: 'Accept referral' }).click();
    await expect.poll(() => page.locator('#status').textContent()).toContain('Someone changed this case meanwhile');
    await expect.poll(() => page.locator('h1 .badge').textContent()).toBe('DECLINED');
  });
});
