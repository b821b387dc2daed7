// `npm run portal:screenshots`: a PNG of every view of the portal in each language, signed in
// through the development identity provider's login page as a partner officer (and as a
// member-state coordinator for the plan decision), on the demo data. Written to
// screenshots/portal/ (git-ignored).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { signInAs, startDemoPortal } from './lib/demo-portal.ts';

const OUT = path.resolve('screenshots/portal');
const LANGUAGES = ['en', 'fr', 'ar'];
const CASE_PAGES = ['', '/plan', '/work', '/monitoring', '/report', '/history'];

async function shoot(page: Page, name: string): Promise<void> {
  await page.locator('#view h1').first().waitFor();
  await page.waitForLoadState('networkidle');
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(file);
}

async function show(page: Page, hash: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  await page.waitForFunction(`location.hash === ${JSON.stringify(hash)}`);
  await page.waitForLoadState('networkidle');
}

/** A case of the demo data the user can see in a status (the API's own filter). */
async function caseIn(page: Page, status: string): Promise<string | null> {
  return page.evaluate(`(async () => {
    const session = JSON.parse(sessionStorage.getItem('erin.session'));
    const r = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + session.accessToken },
      body: JSON.stringify({ query: 'query ($s: [CaseStatus!]) { cases(first: 1, filter: { status: $s }) { edges { node { id } } } }', variables: { s: [${JSON.stringify(status)}] } }) });
    return (await r.json()).data.cases.edges[0]?.node.id ?? null;
  })()`);
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const demo = await startDemoPortal();
  await demo.addCases();
  try {
    for (const language of LANGUAGES) {
      const context = await demo.browser.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${demo.url}/portal/`);
      await page.locator('#language').selectOption(language);
      await shoot(page, `${language}-sign-in`);
      await page.locator('.providers button').first().click();
      await page.waitForURL(/\/idp\/interaction\//);
      await page.screenshot({ path: path.join(OUT, `${language}-provider-login.png`), fullPage: true });

      await signInAs(page, demo.url, 'p-af-hope-officer', language);
      await shoot(page, `${language}-home`);
      await show(page, '#/cases');
      await shoot(page, `${language}-cases`);
      for (const [status, label] of [
        ['REFERRED', 'referral'],
        ['ARRIVED', 'arrived'],
        ['IN_IMPLEMENTATION', 'implementation'],
        ['FINAL_REPORTED', 'final-reported'],
      ] as const) {
        const id = await caseIn(page, status);
        if (!id) continue;
        for (const sub of status === 'IN_IMPLEMENTATION' ? CASE_PAGES : ['', '/plan']) {
          await show(page, `#/case/${id}${sub}`);
          await shoot(page, `${language}-case-${label}${sub.replace('/', '-') || '-overview'}`);
        }
      }
      await context.close();

      const coordinatorContext = await demo.browser.newContext({ viewport: { width: 1200, height: 900 } });
      const coordinator = await coordinatorContext.newPage();
      await signInAs(coordinator, demo.url, 'nl-coordinator', language);
      await shoot(coordinator, `${language}-coordinator-home`);
      const submitted = await caseIn(coordinator, 'PLAN_SUBMITTED');
      if (submitted) {
        await show(coordinator, `#/case/${submitted}/plan`);
        await shoot(coordinator, `${language}-coordinator-plan-decision`);
      }
      await coordinatorContext.close();
    }
  } finally {
    await demo.close();
  }
}

await main();
