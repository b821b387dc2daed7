// A whole demo gateway for the portal's benchmark and screenshots: the embedded store in a
// temporary folder, the demo network and cases, the development identity provider, and a
// headless Chromium signed in through the provider's own login page.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createGateway, type Gateway } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { DEMO_PASSWORD } from '../../src/idp/demo-users.ts';
import { createLogger } from '../../src/logger.ts';
import { seedDemo } from '../../src/seed/demo.ts';
import { EmbeddedStore } from '../../src/store/embedded.ts';
import { Store } from '../../src/store/store.ts';
import { launchBrowser } from '../../test/helpers/browser.ts';

export type DemoPortal = { url: string; gateway: Gateway; browser: Browser; close(): Promise<void> };

export async function startDemoPortal(): Promise<DemoPortal> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'erin-portal-'));
  const config = loadConfig({ NODE_ENV: 'development', ERIN_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ERIN_RATE_LIMIT: '100000' });
  const logger = createLogger('warn');
  const embedded = await EmbeddedStore.start({ dataDir, handler: 'sqlite', logger });
  const store = await Store.connect({ uri: embedded.uri, dbName: 'erin', timeoutMs: 10_000, logger, recordCommands: false });
  const gateway = await createGateway({ config, store, logger });
  await store.ensureIndexes();
  await seedDemo(gateway.services);
  const server: Server = createServer(gateway.app);
  gateway.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  gateway.startDevIdentityProvider(url);
  const browser = await launchBrowser();
  return {
    url,
    gateway,
    browser,
    async close() {
      await browser.close();
      await gateway.closeSubscriptions();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await gateway.close();
      await store.close();
      await embedded.stop();
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
