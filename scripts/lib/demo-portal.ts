// A whole demo gateway for the portal's benchmark and screenshots: the embedded store in a
// temporary folder, the demo network and cases, the development identity provider, and a
// headless Chromium signed in through the provider's own login page.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { mintDevToken } from '../../src/auth/dev-issuer.ts';
import { DEMO_PASSWORD } from '../../src/idp/demo-users.ts';
import { createLogger } from '../../src/logger.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { launchBrowser } from '../../test/helpers/browser.ts';
import { startLocalGateway } from '../../bench/setup.ts';

const CREATE = 'mutation ($input: CreateCaseInput!) { createCase(input: $input) { id version } }';
const REFER = 'mutation ($id: ID!, $v: Int!) { referCase(id: $id, expectedVersion: $v) { id version } }';
const ACCEPT =
  'mutation ($id: ID!, $v: Int!) { respondToReferral(id: $id, decision: ACCEPT, expectedVersion: $v) { id version } }';
const ARRIVE =
  'mutation ($id: ID!, $v: Int!, $d: Date!) { confirmArrival(id: $id, arrivedOn: $d, expectedVersion: $v) { id version } }';
const DRAFT =
  'mutation ($id: ID!, $v: Int!, $p: PlanInput!) { saveDraftPlan(caseId: $id, plan: $p, expectedVersion: $v) { id version } }';
const SUBMIT = 'mutation ($id: ID!, $v: Int!) { submitPlan(caseId: $id, expectedVersion: $v) { id version } }';

export type DemoPortal = { url: string; gateway: Gateway; browser: Browser; addCases(): Promise<void>; close(): Promise<void> };

export async function startDemoPortal(): Promise<DemoPortal> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'erin-portal-'));
  const config = loadConfig({
    NODE_ENV: 'development',
    ERIN_DEV_MODE: 'true',
    ERIN_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    ERIN_RATE_LIMIT: '100000',
  });
  const logger = createLogger('warn');
  const local = await startLocalGateway({
    config,
    dataDir,
    dbName: 'erin',
    logger,
    handler: 'sqlite',
    recordCommands: false,
    seed: (gateway) => seedDemo(gateway.services),
  });
  const { gateway, url } = local;
  gateway.startDevIdentityProvider(url);
  const browser = await launchBrowser();
  const as = (organisation: string, role: string) => {
    const token = mintDevToken({ dataDir, audience: config.tokenAudience, organisation, roles: [role] });
    return async (query: string, variables: Record<string, unknown>) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: Record<string, { id: string; version: number }>; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return Object.values(body.data!)[0]!;
    };
  };
  return {
    url,
    gateway,
    browser,
    /** A referral waiting for Hope's answer and a plan waiting for the Dutch coordinator, so every view has something to show. */
    async addCases() {
      const state = as('NL', 'coordinator');
      const caseworker = as('NL', 'caseworker');
      const hope = as('P-AF-HOPE', 'partner-officer');
      const today = new Date().toISOString().slice(0, 10);
      const create = () =>
        caseworker(CREATE, {
          input: {
            programme: 'EURP-VOL',
            originCountry: 'AF',
            returnType: 'VOLUNTARY',
            partner: 'P-AF-HOPE',
            plannedArrivalDate: today,
            household: [
              { yearOfBirth: 1988, gender: 'FEMALE', relation: 'PRINCIPAL' },
              { yearOfBirth: 2016, gender: 'MALE', relation: 'CHILD' },
            ],
            needsAssessment: 'Seamstress; wants a small tailoring workshop at home.',
            consent: {
              purpose: 'Sharing with the contracted partner',
              givenOn: today,
              expiresOn: `${Number(today.slice(0, 4)) + 1}${today.slice(4)}`,
            },
          },
        });
      const refer = (c: { id: string; version: number }) => state(REFER, { id: c.id, v: c.version });
      await refer(await create());
      let c = await refer(await create());
      c = await hope(ACCEPT, { id: c.id, v: c.version });
      c = await hope(ARRIVE, { id: c.id, v: c.version, d: today });
      c = await hope(DRAFT, {
        id: c.id,
        v: c.version,
        p: {
          summary: 'Tailoring workshop at home',
          components: [
            {
              kind: 'TRAINING',
              title: 'Pattern cutting course',
              cost: { amount: 39600, currency: 'AFN' },
              training: {
                provider: 'Kabul Vocational Institute',
                course: 'Pattern cutting',
                startDate: today,
                endDate: today,
                certificateExpected: true,
              },
            },
            {
              kind: 'MATERIALS',
              title: 'Sewing machine',
              materials: {
                supplier: 'Kabul Tools Ltd',
                procurement: 'LOCAL',
                items: [{ description: 'Sewing machine', quantity: 1, unitCost: { amount: 30000, currency: 'EUR' } }],
              },
            },
          ],
        },
      });
      await hope(SUBMIT, { id: c.id, v: c.version });
    },
    async close() {
      await browser.close();
      await gateway.closeSubscriptions();
      await local.stop();
    },
  };
}

/** Signs in on the provider's login page as a demo user, in a language; resolves on the portal's home. */
export async function signInAs(page: Page, url: string, username: string, language: string): Promise<void> {
  await page.goto(`${url}/portal/`);
  await page.locator('#language').selectOption(language);
  await page.waitForFunction(`document.documentElement.lang === ${JSON.stringify(language)}`);
  await page.locator('.providers button').first().click();
  await page.waitForURL(/\/idp\/interaction\//);
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('#signout').waitFor();
  await page.locator('#view h1').waitFor();
}
