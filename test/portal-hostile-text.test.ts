// What one organisation writes, as another organisation's people read it in the portal, in a real
// browser: a member state's needs assessment and notes shown to the partner, the partner's plan,
// updates, receipts' file names and shipments shown to the member state's coordinator who approves
// and pays. Whatever that text holds (markup, event handlers, script addresses, bidi overrides), it
// is shown as the text it is: nothing in it runs, and nothing in it changes how the portal's own
// words and figures around it read.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf } from '../src/seed/sample-files.ts';
import { launchBrowser, newBrowserContext } from './helpers/browser.ts';
import { trainingComponent, workflow } from './helpers/factories.ts';
import { startGateway, type TestGateway } from './helpers/gateway.ts';
import { implementation } from './helpers/implementation.ts';
import { open, signIn } from './helpers/portal.ts';

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

/** Markup that would run if any of it were read as HTML (each sets a global the test reads). */
const MARKUP = [
  '<img src=x onerror="window.hacked=1">',
  '"><svg onload="window.hacked=2">',
  '\'><iframe srcdoc="<script>parent.hacked=3</script>">',
  '<a href="javascript:window.hacked=4">open</a>',
].join(' ');

/** RIGHT-TO-LEFT OVERRIDE, left open: every character after it, up to the end of its paragraph, is laid out right to left. */
const RLO = '\u202E';

/**
 * A page that records every attempt to break the portal's Content-Security-Policy (an inline
 * handler or script the policy stopped still means markup was parsed) and every dialog.
 */
async function watchedPage(): Promise<{ context: BrowserContext; page: Page; attempts: string[] }> {
  const context = await newBrowserContext(browser);
  // In the page (DOM types are not the test's).
  await context.addInitScript(`
    window.cspAttempts = [];
    document.addEventListener('securitypolicyviolation', (e) => window.cspAttempts.push(e.violatedDirective + ' ' + e.blockedURI));
  `);
  const page = await context.newPage();
  const attempts: string[] = [];
  page.on('dialog', (d) => {
    attempts.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  return { context, page, attempts };
}

/** Nothing of the text ran or was parsed as markup on the page shown. */
async function nothingRan(page: Page, attempts: string[], what: string): Promise<void> {
  const found = await page.evaluate<Record<string, unknown>>(`({
    hacked: window.hacked ?? null,
    csp: window.cspAttempts,
    elements: [...document.querySelectorAll('#app img, #app svg, #app iframe, #app object, #app embed, #app script')].map((e) => e.outerHTML),
    scriptLinks: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')).filter((href) => !href.startsWith('#')),
  })`);
  expect({ ...found, attempts }, what).toEqual({ hacked: null, csp: [], elements: [], scriptLinks: [], attempts: [] });
}

/** Whether `text`, in an element `selector` names, is drawn with each character to the right of the one before it. */
async function drawnInOrder(page: Page, selector: string, text: string): Promise<boolean> {
  // In the page (DOM types are not the test's): the left edge of each character of `text`.
  const lefts = await page.evaluate<number[] | null>(`(() => {
    const wanted = ${JSON.stringify(text)};
    for (const el of document.querySelectorAll(${JSON.stringify(selector)})) {
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent.indexOf(wanted);
        if (at < 0) continue;
        return [...wanted].map((_, i) => {
          const range = document.createRange();
          range.setStart(node, at + i);
          range.setEnd(node, at + i + 1);
          return range.getBoundingClientRect().left;
        });
      }
    }
    return null;
  })()`);
  expect(lefts, `"${text}" is shown`).not.toBeNull();
  return lefts!.every((left, i) => i === 0 || left > lefts![i - 1]!);
}

describe('text one organisation writes, read by another in the portal', () => {
  it('is shown as text: markup, handlers and script addresses in every field run nothing, both ways', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const impl = implementation(gw, flow);
    // The member state's text, read by the partner.
    const referred = await flow.refer(
      await flow.create({
        needsAssessment: `needs ${MARKUP}`,
        vulnerability: { unaccompaniedMinor: false, victimOfTrafficking: false, medicalNeeds: true, notes: `notes ${MARKUP}` },
      }),
    );
    const partner = await watchedPage();
    await signIn(partner.page, gw.url, 'p-af-hope-officer', 'en');
    await open(partner.page, `#/case/${referred.id}`);
    await partner.page.locator('#respond').waitFor();
    expect(await partner.page.locator('#view').textContent()).toContain(`needs ${MARKUP}`);
    await nothingRan(partner.page, partner.attempts, 'the overview the partner reads');

    // The partner's text, read by the member state's coordinator.
    const arrived = await flow.arrive(await flow.accept(referred));
    const training = {
      ...trainingComponent(),
      id: 'training',
      title: `course ${MARKUP}`,
      training: { ...trainingComponent().training, provider: `provider ${MARKUP}` },
    };
    const approved = await flow.approve(
      await flow.submit(await flow.draft(arrived, { summary: `summary ${MARKUP}`, components: [training] })),
      `ok ${MARKUP}`,
    );
    const c = { id: approved.id, version: approved.version };
    const receipt = await impl.upload(c, 'RECEIPT', samplePdf('Receipt'), `"><img src=x onerror=alert(1)>\r\nX: y.pdf`);
    await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'training',
      narrative: `paid ${MARKUP}`,
      language: 'en',
      occurredOn: '2026-11-25',
      spend: { amount: { amount: 30000, currency: 'EUR' }, proof: receipt.id },
    });

    const coordinator = await watchedPage();
    await signIn(coordinator.page, gw.url, 'nl-coordinator', 'en');
    for (const page of ['plan', 'work', 'history']) {
      await open(coordinator.page, `#/case/${c.id}/${page}`);
      await nothingRan(coordinator.page, coordinator.attempts, `the ${page} page the coordinator reads`);
    }
    await open(coordinator.page, `#/case/${c.id}/work`);
    expect(await coordinator.page.locator('#view').textContent()).toContain(`paid ${MARKUP}`);
    // And the partner reads the coordinator's comment on the plan.
    await open(partner.page, `#/case/${c.id}/plan`);
    expect(await partner.page.locator('#view').textContent()).toContain(`ok ${MARKUP}`);
    await nothingRan(partner.page, partner.attempts, 'the plan the partner reads');
    await partner.context.close();
    await coordinator.context.close();
  }, 180_000);

  it('cannot turn the portal’s own words and figures around it: a bidi override in a title leaves the spend beside it as it is', async () => {
    const flow = workflow(gw, 'NL', 'P-AF-HOPE');
    const impl = implementation(gw, flow);
    // The partner's component title ends in an override it never closes; the update's spend
    // follows it on the same line of the coordinator's page.
    const training = { ...trainingComponent(150000), id: 'training', title: `Tailoring course${RLO}` };
    const approved = await flow.approved({ components: [training] });
    const c = { id: approved.id, version: approved.version };
    const receipt = await impl.upload(c);
    await impl.post(c, {
      kind: 'PURCHASE',
      componentId: 'training',
      narrative: 'Course fee',
      language: 'en',
      occurredOn: '2026-11-25',
      spend: { amount: { amount: 123456, currency: 'EUR' }, proof: receipt.id },
    });

    const coordinator = await watchedPage();
    await signIn(coordinator.page, gw.url, 'nl-coordinator', 'en');
    await open(coordinator.page, `#/case/${c.id}/work`);
    const line = coordinator.page.locator('#view li', { hasText: 'Course fee' });
    await line.waitFor();
    expect(await line.textContent()).toContain('€1,234.56');
    // Left to right as written, never reversed (an override spilling out of the title would show
    // €1,234.56 as 65.432,1€).
    expect(await drawnInOrder(coordinator.page, '#view li', '1,234.56'), 'the digits of the spend').toBe(true);

    // An organisation's name (the network's administrators write it) before the roles of the person signed in.
    const { organisations } = await gw
      .as('ERIN-NET', 'network-admin')
      .ok<{ organisations: { code: string; version: number }[] }>('{ organisations { code version } }');
    const atlas = organisations.find((o) => o.code === 'P-MA-ATLAS')!;
    await gw
      .as('ERIN-NET', 'network-admin')
      .ok(
        'mutation ($v: Int!) { updateOrganisation(code: "P-MA-ATLAS", input: { name: "Atlas Reintegration\u202E" }, expectedVersion: $v) { code } }',
        {
          v: atlas.version,
        },
      );
    const partner = await watchedPage();
    await signIn(partner.page, gw.url, 'p-ma-atlas-officer', 'en');
    const who = partner.page.locator('#who');
    await expect.poll(() => who.textContent()).toContain('partner officer');
    expect(await drawnInOrder(partner.page, '#who', 'partner officer'), 'the role after the organisation’s name').toBe(true);
    await partner.context.close();
    await coordinator.context.close();
  }, 120_000);
});
