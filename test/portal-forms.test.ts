// What a person types in the portal, in a real browser against a real gateway: a unit cost is sent
// as the unit cost; a refused or conflicting write keeps what was typed (files included) beside the
// reason, and a receipt is uploaded once; a write goes out once however often its button is pressed
// and however slow the link; and the router shows no stale message and no page a case does not have.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf } from '../src/seed/sample-files.ts';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { businessComponent, materialsComponent, trainingComponent, workflow } from './helpers/factories.ts';
import { codes, startGateway, type TestGateway } from './helpers/gateway.ts';
import { checkAccessibility, open, signIn } from './helpers/portal.ts';
import { uploadFile } from './helpers/implementation.ts';

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

/** The titles of the plan editor's components, as shown. */
const componentTitles = (editor: Locator) =>
  editor.locator('.component [name=title]').evaluateAll((els) => els.map((e) => (e as unknown as { value: string }).value));

/** Saves the plan editor and waits for its answer: someone changed the case meanwhile. */
async function saveIntoConflict(editor: Locator): Promise<void> {
  await editor.locator('button[type=submit]').click();
  await expect
    .poll(() => editor.locator('.form-error').textContent(), { timeout: 15_000 })
    .toContain('Someone changed this case meanwhile');
}
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

type Progress = {
  case: {
    version: number;
    evidence: { id: string }[];
    planInForce: { components: { id: string; kind: string }[] };
    budget: { actual: { amount: number } };
    progress: {
      edges: {
        node: {
          id: string;
          narrative: string;
          corrects: { id: string } | null;
          spend: { amount: { amount: number; currency: string }; proof: { id: string } } | null;
        };
      }[];
    };
  };
};
const PROGRESS = `query ($id: ID!) { case(id: $id) { version evidence { id } planInForce { components { id kind } } budget { actual { amount } }
  progress(first: 50) { edges { node { id narrative corrects { id } spend { amount { amount currency } proof { id } } } } } } }`;
const POST_PROGRESS = `mutation ($id: ID!, $v: Int!, $input: ProgressUpdateInput!) {
  postProgressUpdate(caseId: $id, expectedVersion: $v, input: $input) { case { version } } }`;

/**
 * A case carried out by the officer, who posted the purchase of its sewing machine (`spent`)
 * with the receipt: the case, its progress as the state reads it, the purchase, and the case's
 * version after it.
 */
async function caseWithPurchase(spent: { amount: number; currency: string }) {
  const flow = workflow(gw, 'NL', 'P-AF-HOPE');
  const approved = await flow.approved({ components: [trainingComponent(), materialsComponent()] });
  const stored = async () => (await flow.state.ok<Progress>(PROGRESS, { id: approved.id })).case;
  const machines = (await stored()).planInForce.components.find((k) => k.kind === 'MATERIALS')!;
  const upload = await uploadFile(
    gw,
    flow.officer.token,
    { caseId: approved.id, kind: 'RECEIPT', filename: 'receipt.pdf' },
    samplePdf('tools'),
  );
  const posted = await flow.officer.ok<{ postProgressUpdate: { case: { version: number } } }>(POST_PROGRESS, {
    id: approved.id,
    v: approved.version,
    input: {
      kind: 'PURCHASE',
      componentId: machines.id,
      narrative: 'Bought the sewing machine',
      language: 'en',
      occurredOn: daysAgo(2),
      spend: { amount: spent, proof: upload.body.evidence!.id },
    },
  });
  const purchase = (await stored()).progress.edges.find((e) => e.node.narrative === 'Bought the sewing machine')!.node;
  return { flow, approved, stored, purchase, version: posted.postProgressUpdate.case.version };
}

describe('the portal’s forms', () => {
  it('every materials item is edited, added and removed, each costed per unit in one currency', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    // Two machines at 150 EUR each and the thread at 100 EUR: 400 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [materialsComponent(15000)] });
    const stored = async () => (await flow.state.ok<Stored>(STORED, { id: drafted.id })).case;

    await open(page, `#/case/${drafted.id}/plan`);
    const machines = page.locator('#plan-editor .component').first();
    const items = machines.locator('.item');
    await items.first().waitFor();
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).locator('[name=unitCost]').inputValue()).toBe('150');
    expect(await items.nth(1).locator('[name=item]').inputValue()).toBe('Thread and fabric stock');
    expect(await machines.locator('[name=currency]').inputValue()).toBe('EUR');
    await machines.locator('[name=supplier]').fill('Kabul Tools Ltd (new branch)');
    // The second item is edited: 3 × 120 EUR of thread.
    await items.nth(1).locator('[name=quantity]').fill('3');
    await items.nth(1).locator('[name=unitCost]').fill('120');
    // A third is added (a table at 80 EUR), and the live check costs what would be sent: 300 + 360 + 80.
    await machines.locator('button.add-item').click();
    await items.nth(2).locator('[name=item]').fill('Cutting table');
    await items.nth(2).locator('[name=unitCost]').fill('80');
    await expect.poll(() => machines.locator('output').textContent(), { timeout: 10_000 }).toContain('740.00');
    await checkAccessibility(page, 'the plan editor with materials items');

    // A second component of one item: 3 hammers at 50 EUR each; its only item cannot be removed.
    await page.locator('#plan-editor .actions button.secondary').click();
    const hammers = page.locator('#plan-editor .component').nth(1);
    await hammers.locator('[name=kind]').selectOption('MATERIALS');
    await hammers.locator('[name=title]').fill('Hammers');
    await hammers.locator('[name=item]').fill('Claw hammer');
    await hammers.locator('[name=quantity]').fill('3');
    await hammers.locator('[name=unitCost]').fill('50');
    await hammers.locator('[name=supplier]').fill('Bazaar hardware');
    expect(await hammers.locator('button.remove-item').isDisabled()).toBe(true);
    await expect.poll(() => hammers.locator('output').textContent(), { timeout: 10_000 }).toContain('150.00');

    const version = (await stored()).version;
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(async () => (await stored()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    const [edited, added] = (await stored()).plan!.components;
    expect(edited!.materials).toEqual({
      supplier: 'Kabul Tools Ltd (new branch)',
      items: [
        { description: 'Industrial sewing machine', quantity: 2, unitCost: { amount: 15000 } },
        { description: 'Thread and fabric stock', quantity: 3, unitCost: { amount: 12000 } },
        { description: 'Cutting table', quantity: 1, unitCost: { amount: 8000 } },
      ],
    });
    expect(edited!.cost).toEqual({ amount: 74000, currency: 'EUR' });
    expect(added!.materials!.items).toEqual([{ description: 'Claw hammer', quantity: 3, unitCost: { amount: 5000 } }]);
    expect(added!.cost).toEqual({ amount: 15000, currency: 'EUR' });

    // The machines are removed from the first component and its items priced in another currency.
    const again = page.locator('#plan-editor .component').first();
    await again.locator('.item').first().waitFor();
    expect(await again.locator('.item').count()).toBe(3);
    await again.locator('.item').first().locator('button.remove-item').click();
    expect(await again.locator('.item').count()).toBe(2);
    await again.locator('[name=currency]').selectOption('AFN');
    await again.locator('.item').nth(0).locator('[name=unitCost]').fill('9000');
    await again.locator('.item').nth(1).locator('[name=unitCost]').fill('5000');
    const before = (await stored()).version;
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(async () => (await stored()).version, { timeout: 15_000 }).toBeGreaterThan(before);
    const [priced] = (await stored()).plan!.components;
    expect(priced!.materials!.items).toEqual([
      { description: 'Thread and fabric stock', quantity: 3, unitCost: { amount: 9000 } },
      { description: 'Cutting table', quantity: 1, unitCost: { amount: 5000 } },
    ]);
    expect(priced!.cost).toEqual({ amount: 32000, currency: 'AFN' });
  }, 90_000);

  it('the live costing of materials items costs the quantities typed: 0 as nothing, none as not known yet', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    // Two machines at 150 EUR each and the thread at 100 EUR: 400 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [materialsComponent(15000)] });
    await open(page, `#/case/${drafted.id}/plan`);
    const machines = page.locator('#plan-editor .component').first();
    const items = machines.locator('.item');
    const output = () => machines.locator('output').textContent();
    const costing = () => page.locator('#costing').textContent();
    await expect.poll(output, { timeout: 10_000 }).toContain('400.00');

    // No machine after all: only the thread is costed (read as one machine, it was 250).
    await items.nth(0).locator('[name=quantity]').fill('0');
    await expect.poll(output, { timeout: 10_000 }).toContain('100.00');
    await expect.poll(costing, { timeout: 10_000 }).toContain('Total €100.00');
    // Nor thread: nothing.
    await items.nth(1).locator('[name=quantity]').fill('0');
    await expect.poll(output, { timeout: 10_000 }).toMatch(/^= €0\.00 /);
    // A quantity not typed yet is not one: the cost is not known, nor the total.
    await items.nth(1).locator('[name=quantity]').fill('');
    await expect.poll(output, { timeout: 10_000 }).toBe('Cost not known yet: every item needs a quantity and a unit cost.');
    await expect.poll(costing, { timeout: 10_000 }).toBe('The total is given once every item has a quantity and a unit cost.');
    await checkAccessibility(page, 'the plan editor with an item without a quantity');

    // Nor is it saved as one: the browser asks for it before anything is sent.
    const saves = sentCount('SaveDraftPlan');
    await page.locator('#plan-editor button[type=submit]').click();
    await expect
      .poll(() =>
        items
          .nth(1)
          .locator('[name=quantity]')
          .evaluate((e: { validationMessage: string }) => e.validationMessage),
      )
      .not.toBe('');
    expect(sentCount('SaveDraftPlan')).toBe(saves);
  }, 60_000);

  it('a unit cost not typed is not 0: the cost is not known yet, and the browser asks for it before a save', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    // Two machines at 150 EUR each and the thread at 100 EUR: 400 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [materialsComponent(15000)] });
    const version = async () => (await flow.state.ok<Stored>(STORED, { id: drafted.id })).case.version;
    const stored = await version();
    await open(page, `#/case/${drafted.id}/plan`);
    const machines = page.locator('#plan-editor .component').first();
    const thread = machines.locator('.item').nth(1).locator('[name=unitCost]');
    const output = () => machines.locator('output').textContent();
    const costing = () => page.locator('#costing').textContent();
    await expect.poll(output, { timeout: 10_000 }).toContain('400.00');

    // The price of the thread is not known yet: nor is the component's cost (read as 0, it was 300), nor the total.
    await thread.fill('');
    await expect.poll(output, { timeout: 10_000 }).toBe('Cost not known yet: every item needs a quantity and a unit cost.');
    await expect.poll(costing, { timeout: 10_000 }).toBe('The total is given once every item has a quantity and a unit cost.');
    await checkAccessibility(page, 'the plan editor with an item without a unit cost');

    // Nor is it saved as 0: the browser asks for it before anything is sent.
    const saves = sentCount('SaveDraftPlan');
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(() => thread.evaluate((e: { validationMessage: string }) => e.validationMessage)).not.toBe('');
    expect(sentCount('SaveDraftPlan')).toBe(saves);
    expect(await version()).toBe(stored);
  }, 60_000);

  it('a component not complete yet, or not taken as typed, is named as such while the others are costed; a failure is one', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    // Two machines at 150 EUR each and the thread at 100 EUR: 400 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [materialsComponent(15000)] });
    await open(page, `#/case/${drafted.id}/plan`);
    const editor = page.locator('#plan-editor');
    const machines = editor.locator('.component').first();
    const outputOf = (box: typeof machines) => () => box.locator('output').textContent();
    const costing = () => page.locator('#costing').textContent();
    await expect.poll(outputOf(machines), { timeout: 10_000 }).toContain('400.00');

    // Hammers are added, two at 50 EUR, with neither a title nor a supplier yet: the gateway would
    // refuse the whole plan, which read as "could not be checked just now".
    await editor.locator('.actions button.secondary').click();
    const hammers = editor.locator('.component').nth(1);
    await hammers.locator('[name=kind]').selectOption('MATERIALS');
    await hammers.locator('[name=quantity]').fill('2');
    await hammers.locator('[name=unitCost]').fill('50');
    await expect
      .poll(outputOf(hammers), { timeout: 10_000 })
      .toBe('Cost not checked yet: still to be filled in: Title and Supplier.');
    await expect.poll(costing, { timeout: 10_000 }).toBe('The total is given once these components are complete: component 2.');
    expect(await outputOf(machines)()).toContain('400.00');
    await checkAccessibility(page, 'the plan editor with a component not complete yet');
    // In the person's language, and still once the page is read again.
    await page.locator('#language').selectOption('fr');
    await expect
      .poll(costing, { timeout: 15_000 })
      .toBe('Le total est donné quand ces composantes sont complètes : composante 2.');
    await page.locator('#language').selectOption('en');
    await expect.poll(costing, { timeout: 15_000 }).toBe('The total is given once these components are complete: component 2.');

    // Titled, it is named by its title; complete, it is costed, and the total given.
    await hammers.locator('[name=title]').fill('Hammers');
    await expect.poll(costing, { timeout: 10_000 }).toBe('The total is given once these components are complete: Hammers.');
    await expect.poll(outputOf(hammers), { timeout: 10_000 }).toBe('Cost not checked yet: still to be filled in: Supplier.');
    await hammers.locator('[name=supplier]').fill('Bazaar hardware');
    await expect.poll(outputOf(hammers), { timeout: 10_000 }).toContain('100.00');
    await expect.poll(costing, { timeout: 10_000 }).toContain('Total €500.00');

    // What the gateway does not take as typed (a course that ends before it starts) is said where it is.
    await editor.locator('.actions button.secondary').click();
    const course = editor.locator('.component').nth(2);
    await course.locator('[name=title]').fill('Evening course');
    await course.locator('[name=amount]').fill('200');
    await course.locator('[name=provider]').fill('Kabul Vocational Institute');
    await course.locator('[name=course]').fill('Pattern cutting');
    await course.locator('[name=startDate]').fill('2027-03-10');
    await course.locator('[name=endDate]').fill('2027-01-10');
    await expect
      .poll(outputOf(course), { timeout: 10_000 })
      .toBe('Cost not checked: what is typed in these fields is not accepted: End.');
    await expect
      .poll(costing, { timeout: 10_000 })
      .toBe('The total is given once these components are corrected: Evening course.');
    expect(await outputOf(hammers)()).toContain('100.00');
    await checkAccessibility(page, 'the plan editor with a component not taken as typed');

    // A failure of the gateway still reads as one.
    await page.route('**/graphql', (route) =>
      route.request().postData()?.includes('PlanCosting')
        ? route.fulfill({ status: 502, body: 'Bad gateway' })
        : route.fallback(),
    );
    try {
      await course.locator('[name=endDate]').fill('2027-04-10');
      await expect.poll(costing, { timeout: 10_000 }).toBe('The costs could not be checked just now.');
    } finally {
      await page.unroute('**/graphql');
    }
  }, 90_000);

  it('a cost or an expected income left blank is not 0: the component waits, and the browser asks for it; a 0 typed stays 0', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    // The course at 800 EUR and the shop's start-up costs at 500 EUR: 1,300 EUR.
    const drafted = await flow.draft(await flow.arrived(), { components: [trainingComponent(), businessComponent()] });
    type Costs = {
      case: {
        version: number;
        plan: { components: { cost: { amount: number }; businessPlan: { expectedMonthlyIncome: { amount: number } } | null }[] };
      };
    };
    const stored = async () =>
      (
        await flow.state.ok<Costs>(
          `query ($id: ID!) { case(id: $id) { version plan { components { cost { amount } businessPlan { expectedMonthlyIncome { amount } } } } } }`,
          { id: drafted.id },
        )
      ).case;
    const version = (await stored()).version;
    await open(page, `#/case/${drafted.id}/plan`);
    const editor = page.locator('#plan-editor');
    const course = editor.locator('.component').nth(0);
    const shop = editor.locator('.component').nth(1);
    const outputOf = (box: typeof course) => () => box.locator('output').textContent();
    const costing = () => page.locator('#costing').textContent();
    await expect.poll(costing, { timeout: 10_000 }).toContain('Total €1,300.00');

    // The course's price cleared is not known yet (read as 0, it was €0.00): nor is the total.
    await course.locator('[name=amount]').fill('');
    await expect.poll(outputOf(course), { timeout: 10_000 }).toBe('Cost not checked yet: still to be filled in: Cost.');
    await expect
      .poll(costing, { timeout: 10_000 })
      .toBe('The total is given once these components are complete: Tailoring course.');
    expect(await outputOf(shop)()).toContain('500.00');
    // Nor are the shop's start-up costs, nor its expected income (which the gateway needs) made up.
    await shop.locator('[name=amount]').fill('');
    await shop.locator('[name=income]').fill('');
    await expect
      .poll(outputOf(shop), { timeout: 10_000 })
      .toBe('Cost not checked yet: still to be filled in: Cost and Expected monthly income.');
    await expect
      .poll(costing, { timeout: 10_000 })
      .toBe('The total is given once these components are complete: Tailoring course and Tailoring shop.');
    await checkAccessibility(page, 'the plan editor with a cost and an expected income not typed');

    // Nor is any of them saved as 0: the browser asks for them before anything is sent.
    const saves = sentCount('SaveDraftPlan');
    await editor.locator('button[type=submit]').click();
    await expect
      .poll(() => course.locator('[name=amount]').evaluate((e: { validationMessage: string }) => e.validationMessage))
      .not.toBe('');
    for (const field of [shop.locator('[name=amount]'), shop.locator('[name=income]')])
      expect(await field.evaluate((e: { validationMessage: string }) => e.validationMessage)).not.toBe('');
    expect(sentCount('SaveDraftPlan')).toBe(saves);
    expect((await stored()).version).toBe(version);

    // A new component's cost is blank until typed, and asked for too.
    await editor.locator('.actions button.secondary').click();
    const added = editor.locator('.component').nth(2);
    expect(await added.locator('[name=amount]').inputValue()).toBe('');
    expect(await added.locator('[name=amount]').evaluate((e: { required: boolean }) => e.required)).toBe(true);
    await added.locator('button.secondary').last().click();

    // Nor is an amount below 0 costed as any figure.
    await course.locator('[name=amount]').fill('-5');
    await expect
      .poll(outputOf(course), { timeout: 10_000 })
      .toBe('Cost not checked: what is typed in these fields is not accepted: Cost.');

    // A 0 typed is a 0: costed, and saved, as such.
    await course.locator('[name=amount]').fill('0');
    await shop.locator('[name=amount]').fill('500');
    await shop.locator('[name=income]').fill('0');
    await expect.poll(outputOf(course), { timeout: 10_000 }).toMatch(/^= €0\.00 /);
    await expect.poll(outputOf(shop), { timeout: 10_000 }).toContain('500.00');
    await expect.poll(costing, { timeout: 10_000 }).toContain('Total €500.00');
    await editor.locator('button[type=submit]').click();
    await expect.poll(async () => (await stored()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    const [savedCourse, savedShop] = (await stored()).plan.components;
    expect(savedCourse!.cost.amount).toBe(0);
    expect(savedShop!.cost.amount).toBe(50000);
    expect(savedShop!.businessPlan!.expectedMonthlyIncome.amount).toBe(0);
  }, 90_000);

  it('a training that expects no certificate keeps saying so when it is edited', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const course = trainingComponent();
    const drafted = await flow.draft(await flow.arrived(), {
      components: [{ ...course, training: { ...course.training, certificateExpected: false } }],
    });
    const certificate = async () =>
      (
        await flow.state.ok<{
          case: { version: number; plan: { components: { training: { course: string; certificateExpected: boolean } }[] } };
        }>(`query ($id: ID!) { case(id: $id) { version plan { components { training { course certificateExpected } } } } }`, {
          id: drafted.id,
        })
      ).case;
    await open(page, `#/case/${drafted.id}/plan`);
    const box = page.locator('#plan-editor .component').first();
    expect(await box.locator('[name=certificateExpected]').isChecked()).toBe(false);
    await box.locator('[name=course]').fill('Industrial sewing, evening class');
    const version = (await certificate()).version;
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(async () => (await certificate()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    expect((await certificate()).plan.components[0]!.training).toEqual({
      course: 'Industrial sewing, evening class',
      certificateExpected: false,
    });
  }, 60_000);

  it('after a conflict the plan editor keeps the components one changed and shows the others as now stored', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const drafted = await flow.draft(await flow.arrived(), {
      summary: 'First draft',
      components: [trainingComponent(), materialsComponent()],
    });
    type Plan = {
      case: { version: number; plan: { summary: string; components: { id: string; title: string; training: unknown }[] } };
    };
    const plan = async () =>
      (
        await flow.state.ok<Plan>(
          `query ($id: ID!) { case(id: $id) { version plan { summary components { id title training { provider } } } } }`,
          {
            id: drafted.id,
          },
        )
      ).case;
    const shown = await plan();
    await open(page, `#/case/${drafted.id}/plan`);
    const editor = page.locator('#plan-editor');
    // The officer renames the course and adds a component of their own…
    await editor.locator('.component').first().locator('[name=title]').fill('Tailoring course (evenings)');
    await editor.locator('.actions button.secondary').click();
    const own = editor.locator('.component').nth(2);
    await own.locator('[name=kind]').selectOption('MATERIALS');
    await own.locator('[name=title]').fill('Scissors');
    await own.locator('button.add-item').click();
    await own.locator('.item').nth(1).locator('[name=item]').fill('Pinking shears');
    await own.locator('.item').nth(0).locator('[name=unitCost]').fill('10');
    await own.locator('.item').nth(1).locator('[name=unitCost]').fill('15');
    await own.locator('[name=supplier]').fill('Bazaar');

    // …while a colleague renames the machines, changes the course's provider, puts a service
    // first and rewrites the summary.
    const [course, machines] = shown.plan.components;
    const training = trainingComponent();
    const components = [
      { ...training, training: { ...training.training, provider: 'Herat Vocational Centre' } },
      { ...materialsComponent(), title: 'Sewing machines (second hand)' },
    ];
    await flow.officer.ok(
      `mutation ($id: ID!, $v: Int!, $plan: PlanInput!) { saveDraftPlan(caseId: $id, expectedVersion: $v, plan: $plan) { version } }`,
      {
        id: drafted.id,
        v: shown.version,
        plan: {
          summary: 'Second draft',
          components: [
            {
              kind: 'SERVICE',
              title: 'Counselling',
              cost: { amount: 5000, currency: 'EUR' },
              service: { category: 'PSYCHOSOCIAL', provider: 'Hope', description: 'Sessions' },
            },
            { ...components[0], id: course!.id },
            { ...components[1], id: machines!.id },
          ],
        },
      },
    );
    await saveIntoConflict(editor);

    // The editor now holds the renamed course and the scissors as typed, the colleague's machines
    // and service, and the colleague's summary (the officer did not touch it).
    expect(await componentTitles(editor)).toEqual([
      'Tailoring course (evenings)',
      'Sewing machines (second hand)',
      'Scissors',
      'Counselling',
    ]);
    expect(await editor.locator('[name=summary]').inputValue()).toBe('Second draft');
    // In the course both changes stand: the officer's title and the colleague's provider.
    expect(await editor.locator('.component').first().locator('[name=provider]').inputValue()).toBe('Herat Vocational Centre');
    const scissors = editor.locator('.component').nth(2);
    expect(await scissors.locator('.item').count()).toBe(2);
    expect(await scissors.locator('.item').nth(1).locator('[name=item]').inputValue()).toBe('Pinking shears');

    await scissors.locator('.item').first().locator('[name=item]').fill('Tailor scissors');
    await scissors.locator('.item').first().locator('[name=unitCost]').fill('12');
    await scissors.locator('.item').nth(1).locator('[name=unitCost]').fill('15');
    const version = (await plan()).version;
    await editor.locator('button[type=submit]').click();
    await expect.poll(async () => (await plan()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    const saved = await plan();
    expect(saved.plan.summary).toBe('Second draft');
    expect(saved.plan.components.map((k) => k.title)).toEqual([
      'Tailoring course (evenings)',
      'Sewing machines (second hand)',
      'Scissors',
      'Counselling',
    ]);
    expect(saved.plan.components[0]!.id).toBe(course!.id);
    expect(saved.plan.components[0]!.training).toMatchObject({ provider: 'Herat Vocational Centre' });
    expect(saved.plan.components[1]!.id).toBe(machines!.id);
  }, 90_000);

  it('after a conflict a materials item one removed stays removed, and what one typed in the rows left stays in them', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const drafted = await flow.draft(await flow.arrived(), { summary: 'First draft', components: [materialsComponent()] });
    type Plan = {
      case: {
        version: number;
        plan: { components: { id: string; materials: { items: { description: string; quantity: number }[] } }[] };
      };
    };
    const plan = async () =>
      (
        await flow.state.ok<Plan>(
          `query ($id: ID!) { case(id: $id) { version plan { components { id materials { items { description quantity } } } } } }`,
          { id: drafted.id },
        )
      ).case;
    const shown = await plan();
    await open(page, `#/case/${drafted.id}/plan`);
    const items = page.locator('#plan-editor .component').first().locator('.item');
    await items.first().waitFor();
    // The officer removes the machines and buys 7 lots of thread…
    await items.first().locator('button.remove-item').click();
    await items.first().locator('[name=quantity]').fill('7');
    // …while a colleague rewrites the summary.
    await flow.officer.ok(
      `mutation ($id: ID!, $v: Int!, $plan: PlanInput!) { saveDraftPlan(caseId: $id, expectedVersion: $v, plan: $plan) { version } }`,
      {
        id: drafted.id,
        v: shown.version,
        plan: { summary: 'Second draft', components: [{ ...materialsComponent(), id: shown.plan.components[0]!.id }] },
      },
    );
    await saveIntoConflict(page.locator('#plan-editor'));
    const rows = () =>
      items.evaluateAll((els) =>
        els.map((e) => ['item', 'quantity'].map((n) => (e.querySelector(`[name=${n}]`) as unknown as { value: string }).value)),
      );
    expect(await rows()).toEqual([['Thread and fabric stock', '7']]);

    const version = (await plan()).version;
    await page.locator('#plan-editor button[type=submit]').click();
    await expect.poll(async () => (await plan()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    expect((await plan()).plan.components[0]!.materials.items).toEqual([{ description: 'Thread and fabric stock', quantity: 7 }]);
  }, 90_000);

  it('after a conflict a component one changed but a colleague removed stays removed, and is offered back as typed, as a new component', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const drafted = await flow.draft(await flow.arrived(), { components: [trainingComponent(), materialsComponent()] });
    type Plan = {
      case: { version: number; plan: { components: { id: string; title: string; materials: { supplier: string } | null }[] } };
    };
    const plan = async () =>
      (
        await flow.state.ok<Plan>(
          `query ($id: ID!) { case(id: $id) { version plan { components { id title materials { supplier } } } } }`,
          { id: drafted.id },
        )
      ).case;
    const shown = await plan();
    const [course, machines] = shown.plan.components;
    await open(page, `#/case/${drafted.id}/plan`);
    const editor = page.locator('#plan-editor');
    // The officer renames the machines and changes their supplier…
    const box = editor.locator('.component').nth(1);
    await box.locator('[name=title]').fill('Sewing machines (two)');
    await box.locator('[name=supplier]').fill('Herat Tools');
    // …while a colleague removes them.
    await flow.officer.ok(
      `mutation ($id: ID!, $v: Int!, $plan: PlanInput!) { saveDraftPlan(caseId: $id, expectedVersion: $v, plan: $plan) { version } }`,
      { id: drafted.id, v: shown.version, plan: { components: [{ ...trainingComponent(), id: course!.id }] } },
    );
    await saveIntoConflict(editor);

    // The removal stands (saving would not bring the machines back), and the officer is told.
    expect(await componentTitles(editor)).toEqual(['Tailoring course']);
    const notice = editor.locator('.removed-meanwhile');
    expect(await notice.textContent()).toContain(
      '“Sewing machines (two)”, which you changed, was removed from the plan by someone else meanwhile',
    );
    await checkAccessibility(page, 'a component one changed, removed meanwhile');
    // Read again (in another language) the offer stands.
    await page.locator('#language').selectOption('fr');
    await expect.poll(() => notice.textContent(), { timeout: 15_000 }).toContain('retirée du plan par quelqu');
    await page.locator('#language').selectOption('en');
    await expect.poll(() => notice.textContent(), { timeout: 15_000 }).toContain('which you changed');

    // Added back, it is what the officer typed, saved as a new component: not under its old id.
    await notice.locator('button.add-back').click();
    expect(await componentTitles(editor)).toEqual(['Tailoring course', 'Sewing machines (two)']);
    expect(await editor.locator('.component').nth(1).getAttribute('data-id')).toBe('');
    expect(await editor.locator('.component').nth(1).locator('[name=supplier]').inputValue()).toBe('Herat Tools');
    const version = (await plan()).version;
    await editor.locator('button[type=submit]').click();
    await expect.poll(async () => (await plan()).version, { timeout: 15_000 }).toBeGreaterThan(version);
    const [kept, added] = (await plan()).plan.components;
    expect(kept!.id).toBe(course!.id);
    expect(added).toMatchObject({ title: 'Sewing machines (two)', materials: { supplier: 'Herat Tools' } });
    expect(added!.id).not.toBe(machines!.id);
  }, 90_000);

  it('a plan saved offline is shown as stored once it went out, with nothing of it left behind in the editor', async () => {
    await asOfficer();
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const drafted = await flow.draft(await flow.arrived(), { components: [trainingComponent()] });
    type Plan = { case: { version: number; plan: { components: { title: string }[] } } };
    const plan = async () =>
      (
        await flow.state.ok<Plan>(`query ($id: ID!) { case(id: $id) { version plan { components { title } } } }`, {
          id: drafted.id,
        })
      ).case;
    await open(page, `#/case/${drafted.id}/plan`);
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    const editor = page.locator('#plan-editor');
    await context.setOffline(true);
    try {
      // Offline, the officer renames the course and adds a service: the save waits in the outbox.
      await editor.locator('.component').first().locator('[name=title]').fill('Tailoring course (evenings)');
      await editor.locator('.actions button.secondary').click();
      const added = editor.locator('.component').nth(1);
      await added.locator('[name=kind]').selectOption('SERVICE');
      await added.locator('[name=title]').fill('Counselling');
      await added.locator('[name=amount]').fill('50');
      await added.locator('[name=provider]').fill('Hope');
      await added.locator('[name=description]').fill('Sessions');
      await editor.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('#outbox').textContent(), { timeout: 15_000 }).toContain('1 change waiting');
      // The editor shows the plan as stored until then.
      expect(await componentTitles(editor)).toEqual(['Tailoring course']);
    } finally {
      await context.setOffline(false);
    }
    await expect
      .poll(async () => (await plan()).plan.components.map((k) => k.title), { timeout: 30_000 })
      .toEqual(['Tailoring course (evenings)', 'Counselling']);
    // Once it went out, the editor shows what is stored: no stale course, no empty component.
    await expect.poll(() => componentTitles(editor), { timeout: 15_000 }).toEqual(['Tailoring course (evenings)', 'Counselling']);
    expect(await editor.locator('.component[data-dirty=true]').count()).toBe(0);
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

    // Attendance belongs to a training: said before anything is sent, beside the kept form, and
    // again when the component chosen is the machines.
    const posts = sentCount('PostProgressUpdate');
    await form.locator('[name=kind]').selectOption('TRAINING_ATTENDANCE');
    await form.locator('[name=narrative]').fill('Attended the first week');
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => form.locator('.form-error').textContent(), { timeout: 15_000 })
      .toContain('of the kind Vocational training');
    await form.locator('[name=component]').selectOption({ label: 'Sewing machines' });
    await form.locator('button[type=submit]').click();
    await expect
      .poll(() => form.locator('.form-error').textContent(), { timeout: 15_000 })
      .toContain('of the kind Vocational training');
    expect(sentCount('PostProgressUpdate')).toBe(posts);
    expect(await form.locator('[name=narrative]').inputValue()).toBe('Attended the first week');
    expect(await form.locator('[name=kind]').inputValue()).toBe('TRAINING_ATTENDANCE');
    expect(await form.locator('button[type=submit]').isEnabled()).toBe(true);
    // With the course chosen it is posted.
    await form.locator('[name=component]').selectOption({ label: 'Tailoring course' });
    await form.locator('button[type=submit]').click();
    await expect.poll(async () => (await stored()).progress.totalCount, { timeout: 15_000 }).toBe(3);

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

  it('an update one posted is corrected from its entry: the form holds it, the receipt is kept, the budget follows', async () => {
    await asOfficer();
    // The officer posted a purchase of 120 EUR with its receipt; it was 95.50. The state posted a visit.
    const { flow, approved, stored, purchase, version } = await caseWithPurchase({ amount: 12000, currency: 'EUR' });
    await flow.state.ok(POST_PROGRESS, {
      id: approved.id,
      v: version,
      input: { kind: 'COUNSELLING', narrative: 'Called the family', language: 'en', occurredOn: daysAgo(1) },
    });

    await open(page, `#/case/${approved.id}/work`);
    const entries = page.locator('#progress li');
    await entries.first().waitFor();
    // Only its own organisation's update can be corrected by the officer.
    expect(await entries.filter({ hasText: 'Called the family' }).locator('button.correct').count()).toBe(0);
    await entries.filter({ hasText: 'Bought the sewing machine' }).locator('button.correct').click();
    const form = page.locator('#progress-form');
    expect(await form.locator('.correcting').isVisible()).toBe(true);
    await checkAccessibility(page, 'an update being corrected');
    expect(await form.locator('[name=kind]').inputValue()).toBe('PURCHASE');
    expect(await form.locator('[name=spend]').inputValue()).toBe('120');
    expect(await form.locator('[name=narrative]').inputValue()).toBe('Bought the sewing machine');
    await form.locator('[name=spend]').fill('95.50');
    await form.locator('[name=narrative]').fill('Bought the sewing machine (95.50, not 120)');
    await form.locator('button[type=submit]').click();

    // Until the write's projection ends, a read may find the new update but the case (its budget)
    // still at the version before: the projection writes the case last.
    await expect
      .poll(
        async () => {
          const now = await stored();
          return [now.progress.edges.length, now.budget.actual.amount];
        },
        { timeout: 15_000 },
      )
      .toEqual([3, 9550]);
    const after = await stored();
    const correction = after.progress.edges.find((e) => e.node.corrects)!.node;
    expect(correction).toMatchObject({
      narrative: 'Bought the sewing machine (95.50, not 120)',
      corrects: { id: purchase.id },
      spend: { amount: { amount: 9550 }, proof: { id: purchase.spend!.proof.id } },
    });
    expect(after.evidence).toHaveLength(1);
    // The corrected entry says so and offers no correction any more; the form is a new update again.
    await expect.poll(() => form.locator('[name=narrative]').inputValue(), { timeout: 15_000 }).toBe('');
    const old = entries.filter({ hasText: 'Bought the sewing machine' }).filter({ hasNotText: '95.50' });
    expect(await old.textContent()).toContain('(corrected)');
    expect(await old.locator('button.correct').count()).toBe(0);
    expect(await form.locator('.correcting').isVisible()).toBe(false);
  }, 90_000);

  it('a correction stays one when the page is read again (a conflict, another language) and is one no more once cancelled or queued', async () => {
    await asOfficer();
    // The officer posted a purchase of 7,650 AFN (afghanis have no minor unit) with its receipt.
    const { flow, approved, stored, purchase } = await caseWithPurchase({ amount: 7650, currency: 'AFN' });

    await open(page, `#/case/${approved.id}/work`);
    const form = page.locator('#progress-form');
    const entry = (text: string) => page.locator('#progress li').filter({ hasText: text });
    const correcting = () => form.locator('.correcting').isVisible();
    const corrects = () => form.locator('[name=corrects]').inputValue();

    // Cancelled, the form posts a new update, not a correction, and takes cents again.
    await entry('Bought the sewing machine').locator('button.correct').click();
    expect(await form.locator('[name=spend]').getAttribute('step')).toBe('1');
    await form.locator('.correcting button').click();
    expect(await correcting()).toBe(false);
    expect(await corrects()).toBe('');
    await expect.poll(() => form.locator('[name=spend]').getAttribute('step')).toBe('0.01');
    await form.locator('[name=kind]').selectOption('OTHER');
    await form.locator('[name=narrative]').fill('Visited the workshop');
    await form.locator('button[type=submit]').click();
    await expect.poll(async () => (await stored()).progress.edges.length, { timeout: 15_000 }).toBe(2);
    expect((await stored()).progress.edges.map((e) => e.node.corrects)).toEqual([null, null]);
    await expect.poll(() => form.locator('[name=narrative]').inputValue(), { timeout: 15_000 }).toBe('');

    // In another language the form is still the correction.
    await entry('Bought the sewing machine').locator('button.correct').click();
    await form.locator('[name=spend]').fill('7000');
    await page.locator('#language').selectOption('fr');
    await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe('fr');
    await expect.poll(correcting, { timeout: 15_000 }).toBe(true);
    expect(await corrects()).toBe(purchase.id);
    await page.locator('#language').selectOption('en');
    await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe('en');
    await expect.poll(correcting, { timeout: 15_000 }).toBe(true);

    // A colleague posts meanwhile: after the conflict the form is still the correction, with its
    // receipt, and sent again it replaces the purchase.
    await flow.state.ok(POST_PROGRESS, {
      id: approved.id,
      v: (await stored()).version,
      input: { kind: 'COUNSELLING', narrative: 'Called the family', language: 'en', occurredOn: daysAgo(1) },
    });
    await form.locator('button[type=submit]').click();
    await page.locator('#progress').getByText('Called the family').waitFor({ timeout: 15_000 });
    await expect.poll(() => form.locator('.form-error').textContent()).toContain('Someone changed this case meanwhile');
    expect(await correcting()).toBe(true);
    expect(await corrects()).toBe(purchase.id);
    expect(await form.locator('[name=spend]').inputValue()).toBe('7000');
    expect(await form.locator('[name=spendCurrency]').inputValue()).toBe('AFN');
    await form.locator('button[type=submit]').click();
    await expect.poll(async () => (await stored()).progress.edges.length, { timeout: 15_000 }).toBe(4);
    const correction = (await stored()).progress.edges[0]!.node;
    expect(correction).toMatchObject({
      narrative: 'Bought the sewing machine',
      corrects: { id: purchase.id },
      spend: { amount: { amount: 7000, currency: 'AFN' }, proof: { id: purchase.spend!.proof.id } },
    });
    await expect.poll(() => form.locator('[name=narrative]').inputValue(), { timeout: 15_000 }).toBe('');

    // Offline, the correction of the correction waits in the outbox; the form emptied is no
    // correction any more, and the correction goes out once the link is back.
    await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
    await context.setOffline(true);
    try {
      await entry('Bought the sewing machine').filter({ hasNotText: '(corrected)' }).locator('button.correct').click();
      await form.locator('[name=spend]').fill('6900');
      await form.locator('button[type=submit]').click();
      await expect.poll(() => page.locator('#outbox').textContent(), { timeout: 15_000 }).toContain('1 change waiting');
      expect(await correcting()).toBe(false);
      expect(await corrects()).toBe('');
    } finally {
      await context.setOffline(false);
    }
    await expect.poll(async () => (await stored()).progress.edges.length, { timeout: 30_000 }).toBe(5);
    expect((await stored()).progress.edges[0]!.node).toMatchObject({
      corrects: { id: correction.id },
      spend: { amount: { amount: 6900, currency: 'AFN' }, proof: { id: purchase.spend!.proof.id } },
    });
  }, 120_000);

  it('correcting an update about a component the plan in force no longer has says why it cannot refer to it', async () => {
    await asOfficer();
    // The officer bought the sewing machines; an amendment approved since has dropped them.
    const { flow, approved, stored, version } = await caseWithPurchase({ amount: 12000, currency: 'EUR' });
    const course = (await stored()).planInForce.components.find((k) => k.kind === 'TRAINING')!;
    const amended = await flow.draft({ ...approved, version }, { components: [{ ...trainingComponent(), id: course.id }] });
    await flow.approve(await flow.submit(amended));
    expect((await stored()).planInForce.components.map((k) => k.id)).toEqual([course.id]);

    await open(page, `#/case/${approved.id}/work`);
    const form = page.locator('#progress-form');
    const gone = form.locator('.component-gone');
    await page.locator('#progress li').filter({ hasText: 'Bought the sewing machine' }).locator('button.correct').click();
    expect(await form.locator('[name=component]').inputValue()).toBe('');
    expect(await gone.isVisible()).toBe(true);
    expect(await gone.textContent()).toBe(
      'This update was about “Sewing machines”, which is no longer in the plan in force, so the correction cannot refer to it. ' +
        'Choose a component of the plan in force if the update needs one.',
    );
    expect(await form.locator('[name=component]').getAttribute('aria-describedby')).toBe('component-gone');
    await checkAccessibility(page, 'a correction of an update whose component left the plan');
    // In every language, and still once the page is read again.
    await page.locator('#language').selectOption('fr');
    await expect.poll(() => gone.textContent(), { timeout: 15_000 }).toContain('ne fait plus partie du plan en vigueur');
    await page.locator('#language').selectOption('ar');
    await expect.poll(() => gone.textContent(), { timeout: 15_000 }).toContain('لم يعد ضمن الخطة السارية');
    await page.locator('#language').selectOption('en');
    await expect.poll(() => gone.textContent(), { timeout: 15_000 }).toContain('no longer in the plan in force');
    // Cancelled, the form is a new update again and says nothing of it.
    await form.locator('.correcting button').click();
    expect(await gone.isVisible()).toBe(false);
    expect(await form.locator('[name=component]').getAttribute('aria-describedby')).toBeNull();
  }, 90_000);

  it('after the final report an update with spend is not offered for correction (spend is final), one without still is', async () => {
    await asOfficer();
    const { flow, approved, stored, purchase, version } = await caseWithPurchase({ amount: 12000, currency: 'EUR' });
    const machines = (await stored()).planInForce.components.find((k) => k.kind === 'MATERIALS')!;
    // A note that carries spend (the transport of the machines, on the same receipt), and one without.
    const posted = await flow.officer.ok<{ postProgressUpdate: { case: { version: number } } }>(POST_PROGRESS, {
      id: approved.id,
      v: version,
      input: {
        kind: 'OTHER',
        componentId: machines.id,
        narrative: 'Paid the transport of the machines',
        language: 'en',
        occurredOn: daysAgo(2),
        spend: { amount: { amount: 1500, currency: 'EUR' }, proof: purchase.spend!.proof.id },
      },
    });
    const noted = await flow.officer.ok<{ postProgressUpdate: { case: { version: number } } }>(POST_PROGRESS, {
      id: approved.id,
      v: posted.postProgressUpdate.case.version,
      input: { kind: 'OTHER', narrative: 'Registered the workshop', language: 'en', occurredOn: daysAgo(1) },
    });
    const reported = await flow.officer.ok<{ submitFinalReport: { status: string; version: number } }>(
      `mutation ($id: ID!, $v: Int!, $input: FinalReportInput!) {
        submitFinalReport(caseId: $id, expectedVersion: $v, input: $input) { status version } }`,
      {
        id: approved.id,
        v: noted.postProgressUpdate.case.version,
        input: { finalMeetingOn: daysAgo(1), feedback: 'The workshop runs.', language: 'en' },
      },
    );
    expect(reported.submitFinalReport.status).toBe('FINAL_REPORTED');

    await open(page, `#/case/${approved.id}/work`);
    const entry = (text: string) => page.locator('#progress li').filter({ hasText: text });
    await entry('Registered the workshop').waitFor();
    // Notes may still be posted and corrected…
    expect(
      await page.locator('#progress-form [name=kind] option').evaluateAll((os) => os.map((o) => o.getAttribute('value'))),
    ).toEqual(expect.arrayContaining(['OTHER']));
    expect(await entry('Registered the workshop').locator('button.correct').count()).toBe(1);
    // …but not the one with spend, which the gateway would refuse: the report accounts for it.
    expect(await entry('Paid the transport of the machines').locator('button.correct').count()).toBe(0);
    expect(await entry('Bought the sewing machine').locator('button.correct').count()).toBe(0);
    const transport = (await stored()).progress.edges.find(
      (e) => e.node.narrative === 'Paid the transport of the machines',
    )!.node;
    const refused = await flow.officer.gql(POST_PROGRESS, {
      id: approved.id,
      v: reported.submitFinalReport.version,
      input: { kind: 'OTHER', narrative: 'No transport paid', language: 'en', occurredOn: daysAgo(1), corrects: transport.id },
    });
    expect(codes(refused)).toEqual(['INVALID_TRANSITION']);
  }, 90_000);

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

  it('on a slow link a form cannot be sent again while its answer and the page are on their way, nor by the outbox', async () => {
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
      // The link is said to be back while the write is on its way (the outbox's retry timer does
      // the same): the outbox sends what waits, but not that write a second time.
      await page.evaluate("dispatchEvent(new Event('online'))");
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
