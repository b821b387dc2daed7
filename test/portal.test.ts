// The partner portal in a real browser (Chromium from the npm registry, driven by playwright-core),
// signed in through the development identity provider's own login page (no token injected): a
// partner officer walks a case from the referral to the final report, a monitoring visit with the
// sustainability survey included, and a member-state coordinator approves the plan, in English,
// French and Arabic. Every view passes axe-core and shows no untranslated text.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf } from '../src/seed/sample-files.ts';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { checkView, open, signIn, watchMissingKeys, type Language } from './helpers/portal.ts';

let gw: TestGateway;
let browser: Browser;
let receipt: string;

beforeAll(async () => {
  gw = await startGateway({ devIdp: {} });
  browser = await launchBrowser();
  mkdirSync('test-results', { recursive: true });
  receipt = path.join(mkdtempSync('test-results/portal-files-'), 'receipt.pdf');
  writeFileSync(receipt, samplePdf('Receipt: sewing course'));
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

type Stored = {
  case: {
    status: string;
    plan: { status: string; components: { cost: { amount: number; currency: string } }[] } | null;
    budget: { actual: { amount: number } } | null;
    monitoring: { surveys: { scores: { composite: number } }[] };
    finalReport: { feedback: string } | null;
  };
};
const STORED = `query ($id: ID!) { case(id: $id) { status plan { status components { cost { amount currency } } }
  budget { actual { amount } } monitoring { surveys { scores { composite } } } finalReport { feedback } } }`;

async function newPage(): Promise<{ context: BrowserContext; page: Page; missing: string[] }> {
  const context = await newBrowserContext(browser);
  const page = await context.newPage();
  page.on('dialog', (d) => void d.dismiss());
  return { context, page, missing: watchMissingKeys(page) };
}

describe.each(['en', 'fr', 'ar'] as Language[])('the portal in %s', (language) => {
  it('a partner officer walks a case from referral to final report; a coordinator approves the plan', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create({ needsAssessment: '<img src=x onerror="window.hacked=1"> tailor' }));
    const stored = async () => (await flow.state.ok<Stored>(STORED, { id: referred.id })).case;
    const statusIs = (status: string) => expect.poll(async () => (await stored()).status, { timeout: 15_000 }).toBe(status);

    const officer = await newPage();
    const page = officer.page;
    await page.goto(`${gw.url}/portal/`);
    await page.locator('#language').selectOption(language);
    // The English page is on screen until the chosen language is applied: wait for it.
    await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe(language);
    await page.locator('.providers button').waitFor();
    await checkView(page, language, 'sign-in');
    await signIn(page, gw.url, 'p-af-hope-officer', language);
    await page.locator(`#view a[href="#/case/${referred.id}"]`).first().waitFor();
    await checkView(page, language, 'home');

    // The referral: answered from the case's overview.
    await page.locator(`#view a[href="#/case/${referred.id}"]`).first().click();
    await page.locator('#respond').waitFor();
    expect(await page.locator('.sensitive .needs').textContent()).toContain('<img src=x');
    expect(await page.evaluate(() => (globalThis as { hacked?: number }).hacked)).toBeUndefined();
    await checkView(page, language, 'case overview');
    await page.locator('#respond button[value=ACCEPT]').click();
    await statusIs('ACCEPTED');
    await page.locator('#arrival').waitFor();
    await page.fill('#arrival [name=arrivedOn]', daysAgo(5));
    await page.locator('#arrival button[type=submit]').click();
    await statusIs('ARRIVED');

    // The plan, costed in afghani: the server converts it and checks it against the entitlement.
    await open(page, `#/case/${referred.id}/plan`);
    const component = page.locator('#plan-editor .component').first();
    await component.locator('[name=title]').fill('Tailoring course');
    await component.locator('[name=amount]').fill('7920');
    await component.locator('[name=amountCurrency]').selectOption('AFN');
    await component.locator('[name=provider]').fill('Kabul Vocational Institute');
    await component.locator('[name=course]').fill('Industrial sewing');
    await component.locator('[name=startDate]').fill('2027-01-10');
    await component.locator('[name=endDate]').fill('2027-03-10');
    await expect.poll(() => component.locator('output').textContent(), { timeout: 10_000 }).toMatch(/100|١٠٠/);
    await checkView(page, language, 'plan editor');
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(async () => (await stored()).plan?.status, { timeout: 15_000 }).toBe('DRAFT');
    expect((await stored()).plan!.components[0]!.cost).toEqual({ amount: 7920, currency: 'AFN' });
    await page.locator('#submit-plan').click();
    await statusIs('PLAN_SUBMITTED');

    // The member state's coordinator approves it in the portal.
    const coordinator = await newPage();
    await signIn(coordinator.page, gw.url, 'nl-coordinator', language);
    await coordinator.page.locator(`#view a[href="#/case/${referred.id}"]`).first().waitFor();
    await open(coordinator.page, `#/case/${referred.id}/plan`);
    await coordinator.page.locator('#decide').waitFor();
    await checkView(coordinator.page, language, 'plan decision');
    await coordinator.page.locator('#decide button[value=APPROVE]').click();
    await statusIs('PLAN_APPROVED');
    expect(coordinator.missing).toEqual([]);
    await coordinator.context.close();

    // Carrying it out: a purchase with its receipt.
    await open(page, `#/case/${referred.id}/work`);
    await page.locator('#progress-form').waitFor();
    await checkView(page, language, 'implementation');
    await page.selectOption('#progress-form [name=kind]', 'PURCHASE');
    await page.selectOption('#progress-form [name=component]', { index: 1 });
    await page.fill('#progress-form [name=narrative]', 'Paid the course fee');
    await page.fill('#progress-form [name=occurredOn]', daysAgo(1));
    await page.fill('#progress-form [name=spend]', '3960');
    await page.selectOption('#progress-form [name=spendCurrency]', 'AFN');
    await page.setInputFiles('#progress-form [name=receipt]', receipt);
    await page.locator('#progress-form button[type=submit]').click();
    await statusIs('IN_IMPLEMENTATION');
    expect((await stored()).budget!.actual.amount).toBe(5000);

    // A monitoring visit with the survey from the configuration.
    await open(page, `#/case/${referred.id}/monitoring`);
    await page.locator('#visit-form').waitFor();
    await checkView(page, language, 'monitoring');
    await page.fill('#visit-form [name=narrative]', 'The workshop is open; sells school uniforms.');
    for (const indicator of await page.locator('#visit-form fieldset.indicator').all()) {
      await indicator.locator('input[type=radio]').first().check();
    }
    await page.locator('#visit-form button[type=submit]').click();
    await expect.poll(async () => (await stored()).monitoring.surveys.length, { timeout: 15_000 }).toBe(1);

    // The final report.
    await open(page, `#/case/${referred.id}/report`);
    await page.locator('#report-form').waitFor();
    await checkView(page, language, 'final report');
    await page.fill('#report-form [name=feedback]', 'Course finished; the workshop runs.');
    await page.locator('#report-form button[type=submit]').click();
    await statusIs('FINAL_REPORTED');
    await page.locator('#final-report table').waitFor();
    await checkView(page, language, 'final report (submitted)');

    await open(page, `#/case/${referred.id}/history`);
    await page.locator('#history tbody tr').first().waitFor();
    await checkView(page, language, 'history');
    await open(page, '#/cases');
    await checkView(page, language, 'cases');
    if (language === 'en') await page.screenshot({ path: 'test-results/portal-cases.png', fullPage: true });

    expect(officer.missing).toEqual([]);
    await officer.context.close();
  }, 240_000);
});
