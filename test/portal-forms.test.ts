// What a person types in the portal, in a real browser against a real gateway: a unit cost is sent
// as the unit cost; a refused or conflicting write keeps what was typed (files included) beside the
// reason, and a receipt is uploaded once; a write goes out once however often its button is pressed
// and however slow the link; and the router shows no stale message and no page a case does not have.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf } from '../src/seed/sample-files.ts';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { open, signIn } from './helpers/portal.ts';

let gw: TestGateway;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let receipt: string;
/** The GraphQL mutations the page sent, by operation name. */
const sent: string[] = [];

beforeAll(async () => {
  gw = await startGateway({ devIdp: {} });
  browser = await launchBrowser();
  context = await newBrowserContext(browser);
  page = await context.newPage();
  page.on('dialog', (d) => void d.dismiss());
  page.on('request', (r) => {
    if (!r.url().endsWith('/graphql')) return;
    const name = /^\s*mutation (\w+)/.exec((JSON.parse(r.postData() ?? '{}') as { query?: string }).query ?? '')?.[1];
    if (name) sent.push(name);
  });
  mkdirSync('test-results', { recursive: true });
  receipt = `${mkdtempSync('test-results/portal-files-')}/receipt.pdf`;
  writeFileSync(receipt, samplePdf('Receipt: tools'));
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

/** Signed in once, by the first test that needs it (signIn polls, which only a test may do). */
let signedIn = false;
async function asOfficer(): Promise<void> {
  if (!signedIn) await signIn(page, gw.url, 'p-af-hope-officer', 'en');
  signedIn = true;
}

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const sentCount = (name: string) => sent.filter((s) => s === name).length;

type Stored = {
  case: {
    version: number;
    status: string;
    evidence: { id: string }[];
    progress: { totalCount: number; edges: { node: { narrative: string } }[] };
    plan: {
      components: {
        title: string;
        cost: { amount: number; currency: string };
        materials: { supplier: string; items: { description: string; quantity: number; unitCost: { amount: number } }[] } | null;
      }[];
    } | null;
  };
};
const STORED = `query ($id: ID!) { case(id: $id) { version status evidence { id } progress(first: 100) { totalCount edges { node { narrative } } }
  plan { components { title cost { amount currency } materials { supplier items { description quantity unitCost { amount } } } } } } }`;

describe('the portal’s forms', () => {
  it('a materials item is costed per unit: an edit keeps its unit cost and other items, a new one costs quantity × unit cost', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    // Two machines at 150 EUR each and the thread at 100 EUR: 400 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [materialsComponent(15000)] });
    const stored = async () => (await flow.state.ok<Stored>(STORED, { id: drafted.id })).case;

    await open(page, `#/case/${drafted.id}/plan`);
    const machines = page.locator('#plan-editor .component').first();
    expect(await machines.locator('[name=amount]').inputValue()).toBe('150');
    await machines.locator('[name=supplier]').fill('Kabul Tools Ltd (new branch)');
    // The live check costs what would be sent: 2 × 150 + 100 EUR.
    await expect.poll(() => machines.locator('output').textContent(), { timeout: 10_000 }).toContain('400.00');

    // A new item: 3 hammers at 50 EUR each.
    await page.locator('#plan-editor .actions button.secondary').click();
    const hammers = page.locator('#plan-editor .component').nth(1);
    await hammers.locator('[name=kind]').selectOption('MATERIALS');
    await hammers.locator('[name=title]').fill('Hammers');
    await hammers.locator('[name=amount]').fill('50');
    await hammers.locator('[name=item]').fill('Claw hammer');
    await hammers.locator('[name=quantity]').fill('3');
    await hammers.locator('[name=supplier]').fill('Bazaar hardware');
    await expect.poll(() => hammers.locator('output').textContent(), { timeout: 10_000 }).toContain('150.00');

    const version = (await stored()).version;
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(async () => (await stored()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    const [edited, added] = (await stored()).plan!.components;
    expect(edited!.materials).toEqual({
      supplier: 'Kabul Tools Ltd (new branch)',
      items: [
        { description: 'Industrial sewing machine', quantity: 2, unitCost: { amount: 15000 } },
        { description: 'Thread and fabric stock', quantity: 1, unitCost: { amount: 10000 } },
      ],
    });
    expect(edited!.cost).toEqual({ amount: 40000, currency: 'EUR' });
    expect(added!.materials!.items).toEqual([{ description: 'Claw hammer', quantity: 3, unitCost: { amount: 5000 } }]);
    expect(added!.cost).toEqual({ amount: 15000, currency: 'EUR' });
  }, 90_000);

  it('a conflict or a refusal keeps what was typed, the receipt included, and the receipt is uploaded once', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const approved = await flow.approved({ components: [trainingComponent(), materialsComponent()] });
    const stored = async () => (await flow.state.ok<Stored>(STORED, { id: approved.id })).case;
    await open(page, `#/case/${approved.id}/work`);
    const form = page.locator('#progress-form');
    await form.waitFor();

    // The narrative cannot be longer than the gateway takes.
    expect(await form.locator('[name=narrative]').getAttribute('maxlength')).toBe('5000');

    // Spending without a component: said at once, before any upload.
    await form.locator('[name=kind]').selectOption('PURCHASE');
    await form.locator('[name=narrative]').fill('Bought tools at the market');
    await form.locator('[name=occurredOn]').fill(daysAgo(1));
    await form.locator('[name=spend]').fill('10');
    await form.locator('[name=receipt]').setInputFiles(receipt);
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.form-error').textContent()).toContain('plan component');
    expect((await stored()).evidence).toHaveLength(0);
    expect(await form.locator('[name=narrative]').inputValue()).toBe('Bought tools at the market');

    // A colleague posts meanwhile: the conflict is shown, the case read again, and the form kept.
    await form.locator('[name=component]').selectOption({ index: 2 });
    const colleague = await stored();
    await flow.officer.ok(
      `mutation ($id: ID!, $v: Int!) { postProgressUpdate(caseId: $id, expectedVersion: $v, input: { kind: COUNSELLING,
        narrative: "a colleague's visit", language: "en", occurredOn: "${daysAgo(1)}" }) { case { version } } }`,
      { id: approved.id, v: colleague.version },
    );
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => page.locator('#status').textContent(), { timeout: 15_000 })
      .toContain('Someone changed this case meanwhile');
    await page.locator('#progress').getByText("a colleague's visit").waitFor();
    await expect.poll(() => form.locator('.form-error').textContent()).toContain('Someone changed this case meanwhile');
    expect(await form.locator('[name=narrative]').inputValue()).toBe('Bought tools at the market');
    expect(await form.locator('[name=kind]').inputValue()).toBe('PURCHASE');
    expect(await form.locator('[name=spend]').inputValue()).toBe('10');
    expect(await form.locator('[name=receipt]').evaluate((e: { files: { length: number } }) => e.files.length)).toBe(1);
    expect((await stored()).evidence).toHaveLength(1);

    // Sent again as it stands: applied, with the receipt uploaded the first time; the form is emptied.
    await form.locator('button[type=submit]').click();
    await expect.poll(async () => (await stored()).progress.totalCount, { timeout: 15_000 }).toBe(2);
    expect((await stored()).evidence).toHaveLength(1);
    await expect.poll(() => form.locator('[name=narrative]').inputValue(), { timeout: 15_000 }).toBe('');

    // Refused by the gateway (attendance belongs to a training): the reason beside the kept form.
    await form.locator('[name=kind]').selectOption('TRAINING_ATTENDANCE');
    await form.locator('[name=narrative]').fill('Attended the first week');
    await form.locator('button[type=submit]').click();
    await expect.poll(() => form.locator('.form-error').textContent(), { timeout: 15_000 }).toContain('componentId');
    expect(await form.locator('[name=narrative]').inputValue()).toBe('Attended the first week');
    expect(await form.locator('[name=kind]').inputValue()).toBe('TRAINING_ATTENDANCE');
    expect(await form.locator('button[type=submit]').isEnabled()).toBe(true);

    // A visit whose narrative is only spaces is not sent, and the survey's answers stay.
    await open(page, `#/case/${approved.id}/monitoring`);
    const visit = page.locator('#visit-form');
    await visit.waitFor();
    expect(await visit.locator('[name=narrative]').getAttribute('maxlength')).toBe('5000');
    await visit.locator('[name=narrative]').fill('   ');
    const indicators = await visit.locator('fieldset.indicator').all();
    for (const indicator of indicators) await indicator.locator('input[type=radio]').first().check();
    const visits = sentCount('RecordMonitoringVisit');
    await visit.locator('button[type=submit]').click();
    await expect
      .poll(() => visit.locator('[name=narrative]').evaluate((e: { validationMessage: string }) => e.validationMessage))
      .not.toBe('');
    expect(sentCount('RecordMonitoringVisit')).toBe(visits);
    expect(await visit.locator('input[type=radio]:checked').count()).toBe(indicators.length);
  }, 120_000);

  it('a double click sends a plan once, and the success is reported as one', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const drafted = await flow.draft(await flow.arrived(), { components: [trainingComponent()] });
    await open(page, `#/case/${drafted.id}/plan`);
    const submits = sentCount('SubmitPlan');
    await page.locator('#submit-plan').dblclick();
    await expect.poll(() => page.locator('#status').textContent(), { timeout: 15_000 }).toContain('Done');
    await expect.poll(() => page.locator('#submit-plan').count(), { timeout: 15_000 }).toBe(0);
    expect(sentCount('SubmitPlan') - submits).toBe(1);
    expect(await page.locator('#status').textContent()).not.toContain('changed this case');
  }, 60_000);

  it('on a slow link a form cannot be sent again while its answer and the page are on their way', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const approved = await flow.approved({ components: [trainingComponent()] });
    await open(page, `#/case/${approved.id}/work`);
    const form = page.locator('#progress-form');
    await form.waitFor();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 800,
      downloadThroughput: 32_000,
      uploadThroughput: 32_000,
    });
    try {
      await form.locator('[name=kind]').selectOption('COUNSELLING');
      await form.locator('[name=narrative]').fill('Counselling session held at home.');
      const posts = sentCount('PostProgressUpdate');
      await form.locator('button[type=submit]').click();
      // Pressing again and again until the page is read again: nothing more goes out.
      const deadline = Date.now() + 30_000;
      while ((await form.locator('[name=narrative]').inputValue()) !== '' && Date.now() < deadline) {
        await form
          .locator('button[type=submit]')
          .click({ timeout: 100 })
          .catch(() => undefined);
      }
      expect(await form.locator('[name=narrative]').inputValue()).toBe('');
      expect(sentCount('PostProgressUpdate') - posts).toBe(1);
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await cdp.detach();
    }
  }, 90_000);
});

describe('the portal’s router', () => {
  it('a page a case does not have shows its overview; a message does not outlive its page', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const referred = await flow.refer(await flow.create());
    await open(page, `#/case/${referred.id}/constructor`);
    await page.locator('#respond').waitFor();
    expect(await page.locator('#view').textContent()).not.toContain('[object');
    expect(await page.locator('nav.tabs [aria-current=page]').textContent()).toBe('Overview');

    await open(page, '#/case/no-such-case');
    await expect.poll(() => page.locator('#status').textContent()).not.toBe('');
    await open(page, '#/cases');
    await page.locator('#view table, #view p').first().waitFor();
    expect(await page.locator('#status').textContent()).toBe('');
  }, 60_000);
});
