// The partner portal in a real browser (Chromium from the npm registry, driven by playwright-core):
// a partner officer signs in, answers a referral, confirms the arrival and drafts and
// submits a plan; text from the case is shown as text, never run as HTML.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser } from './helpers/browser.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { workflow } from './helpers/factories.ts';

let gw: TestGateway;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  gw = await startGateway();
  browser = await launchBrowser();
  page = await browser.newPage();
});
afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

const sewingCourse = {
  kind: 'TRAINING',
  title: 'Sewing course',
  cost: { amount: 50000, currency: 'EUR' },
  training: {
    provider: 'Institute',
    course: 'Sewing',
    startDate: '2027-01-10',
    endDate: '2027-03-10',
    certificateExpected: true,
  },
};

/** Opens a case in the portal, signed in with a token (as if pasted earlier in this tab). */
async function openCase(caseId: string, token: string): Promise<void> {
  await page.goto(`${gw.url}/portal/#/case/${caseId}`);
  await page.evaluate(
    (t) =>
      (globalThis as unknown as { sessionStorage: { setItem(k: string, v: string): void } }).sessionStorage.setItem(
        'erin.token',
        t,
      ),
    token,
  );
  await page.reload();
}

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

describe('partner portal: carrying out the plan', () => {
  it('a partner posts a purchase with its receipt, orders a shipment and hands it over with the certificate', async () => {
    const { samplePdf, samplePng } = await import('../src/seed/sample-files.ts');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const path = await import('node:path');
    const dir = mkdtempSync('test-results/portal-files-');
    const receipt = path.join(dir, 'receipt.pdf');
    const certificate = path.join(dir, 'handover.png');
    writeFileSync(receipt, samplePdf('Receipt: sewing course'));
    writeFileSync(certificate, samplePng());

    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const approved = await flow.approved({
      components: [
        sewingCourse,
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
    await openCase(approved.id, flow.officer.token);
    await expect.poll(() => page.locator('#implementation h3').first().textContent()).toContain('0.00 EUR spent of 900.00 EUR');

    // A purchase for the course, with its receipt.
    await page.selectOption('#progress-form [name=kind]', 'PURCHASE');
    await page.selectOption('#progress-form [name=component]', { label: 'Sewing course' });
    await page.fill('#progress-form [name=narrative]', 'Paid the course fee');
    await page.fill('#progress-form [name=amount]', '45000');
    await page.setInputFiles('#progress-form [name=receipt]', receipt);
    await page.getByRole('button', { name: 'Post update' }).click();
    await expect.poll(() => page.locator('#implementation h3').first().textContent()).toContain('450.00 EUR spent of 900.00 EUR');
    await expect.poll(() => page.locator('#progress li').first().textContent()).toContain('Paid the course fee');
    await expect.poll(() => page.locator('#evidence').textContent()).toContain('receipt.pdf');

    // The machine is ordered, dispatched… and handed over with the signed certificate.
    await page.fill('#order-shipment [name=carrier]', 'DHL');
    await page.fill('#order-shipment [name=trackingReference]', 'JD0146');
    await page.fill('#order-shipment [name=origin]', 'Rotterdam');
    await page.fill('#order-shipment [name=destination]', 'Kabul');
    await page.getByRole('button', { name: 'Order' }).click();
    for (const step of ['dispatched', 'in transit', 'at customs', 'delivered']) {
      await page.getByRole('button', { name: step, exact: true }).click();
      await expect
        .poll(() => page.locator('#shipments .badge').first().textContent())
        .toBe(step.toUpperCase().replace(/ /g, ' '));
    }
    await page.setInputFiles('#shipments input[type=file]', certificate);
    await page.getByRole('button', { name: 'handed over', exact: true }).click();
    await expect.poll(() => page.locator('#shipments .badge').first().textContent()).toBe('HANDED OVER');
    await page.screenshot({ path: 'test-results/portal-implementation.png', fullPage: true });

    const { case: stored } = await flow.state.ok<{
      case: {
        status: string;
        budget: { actual: { amount: number } };
        shipments: { status: string; deliveryClosed: boolean; handoverCertificate: { kind: string } }[];
      };
    }>(
      'query ($id: ID!) { case(id: $id) { status budget { actual { amount } } shipments { status deliveryClosed handoverCertificate { kind } } } }',
      { id: approved.id },
    );
    expect(stored).toEqual({
      status: 'IN_IMPLEMENTATION',
      budget: { actual: { amount: 45000 } },
      shipments: [{ status: 'HANDED_OVER', deliveryClosed: true, handoverCertificate: { kind: 'HANDOVER_CERTIFICATE' } }],
    });
  });
});

describe('partner portal: amendments', () => {
  it('an amendment keeps the components nobody touched exactly as they were, shipped materials included', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const approved = await flow.approved({
      components: [
        sewingCourse,
        {
          kind: 'MATERIALS',
          title: 'Machines',
          materials: {
            supplier: 'Tools BV',
            procurement: 'SHIPPED',
            items: [
              { description: 'Machine', quantity: 2, unitCost: { amount: 30000, currency: 'EUR' } },
              { description: 'Thread', quantity: 10, unitCost: { amount: 500, currency: 'EUR' } },
            ],
          },
        },
      ],
    });
    await openCase(approved.id, flow.officer.token);
    await page.locator('#plan summary').click();
    // Only the course's cost changes.
    await page.locator('#plan .component').first().locator('[name=amount]').fill('60000');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect.poll(() => page.locator('#plan h2').textContent()).toContain('version 2 — draft');
    const { case: stored } = await flow.state.ok<{
      case: { plan: { components: { kind: string; cost: { amount: number }; training: unknown; materials: unknown }[] } };
    }>(
      'query ($id: ID!) { case(id: $id) { plan { components { kind cost { amount } training { provider startDate } materials { procurement supplier items { description quantity } } } } } }',
      { id: approved.id },
    );
    expect(stored.plan.components).toEqual([
      {
        kind: 'TRAINING',
        cost: { amount: 60000 },
        training: { provider: 'Institute', startDate: '2027-01-10' },
        materials: null,
      },
      {
        kind: 'MATERIALS',
        cost: { amount: 65000 },
        training: null,
        materials: {
          procurement: 'SHIPPED',
          supplier: 'Tools BV',
          items: [
            { description: 'Machine', quantity: 2 },
            { description: 'Thread', quantity: 10 },
          ],
        },
      },
    ]);
  });
});
