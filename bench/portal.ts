// The portal on slow links (DESIGN.md: partners in origin countries, often on poor connections).
// Prints, never asserts:
//   - the first load: every file of the portal's own the browser fetched to show the signed-in
//     home page (HTML, script, styles, configuration, one language's catalogue), compressed as sent;
//   - the time until the home page ("what needs me") is usable with Chromium's network emulation at
//     256 kbit/s and 800 ms round trips: first visit (nothing cached) and a later visit (the
//     service worker has the portal's files; the work list still comes over the slow link).
// Run: `npm run bench:portal` (starts its own embedded store with the demo data).
import type { CDPSession, Page } from 'playwright-core';
import { signInAs, startDemoPortal } from '../scripts/lib/demo-portal.ts';

const SLOW = { offline: false, latency: 800, downloadThroughput: 256_000 / 8, uploadThroughput: 256_000 / 8 };
const LANGUAGES = ['en', 'fr', 'ar'];

type Transfer = { url: string; bytes: number };

/** Bytes on the wire (headers and compressed body) per response, from the DevTools protocol. */
function recordTransfers(cdp: CDPSession): Transfer[] {
  const urls = new Map<string, string>();
  const transfers: Transfer[] = [];
  cdp.on('Network.responseReceived', (e: { requestId: string; response: { url: string } }) =>
    urls.set(e.requestId, e.response.url),
  );
  cdp.on('Network.loadingFinished', (e: { requestId: string; encodedDataLength: number }) => {
    const url = urls.get(e.requestId);
    if (url) transfers.push({ url, bytes: e.encodedDataLength });
  });
  return transfers;
}

/** The home page is usable when its work list (or "nothing needs you") is shown, signed in. */
async function homeUsable(page: Page): Promise<void> {
  await page.locator('#signout').waitFor();
  await page.locator('#view h1 + table, #view h1 + p, #view table, #view p').first().waitFor();
}

async function main(): Promise<void> {
  const demo = await startDemoPortal();
  try {
    console.log('Portal first load and slow link (256 kbit/s, 800 ms round trips)\n');
    for (const language of LANGUAGES) {
      const context = await demo.browser.newContext();
      const page = await context.newPage();
      await signInAs(page, demo.url, 'p-af-hope-officer', language);
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');

      // First visit: nothing cached, no service worker.
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      await cdp.send('Network.setBypassServiceWorker', { bypass: true });
      const transfers = recordTransfers(cdp);
      await cdp.send('Network.emulateNetworkConditions', SLOW);
      let started = Date.now();
      await page.reload({ waitUntil: 'commit' });
      await homeUsable(page);
      const cold = Date.now() - started;
      const own = transfers.filter((t) => new URL(t.url).pathname.startsWith('/portal/'));
      const firstLoad = own.reduce((sum, t) => sum + t.bytes, 0);
      const api = transfers.filter((t) => !new URL(t.url).pathname.startsWith('/portal/')).reduce((sum, t) => sum + t.bytes, 0);

      // A later visit: the service worker serves the portal's files; the data still comes over the link.
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
      await cdp.send('Network.setBypassServiceWorker', { bypass: false });
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
      await page.evaluate('navigator.serviceWorker.ready.then(() => true)');
      await page.reload();
      await homeUsable(page);
      await cdp.send('Network.emulateNetworkConditions', SLOW);
      started = Date.now();
      await page.reload({ waitUntil: 'commit' });
      await homeUsable(page);
      const warm = Date.now() - started;

      console.log(`[${language}] first load of the portal's files: ${(firstLoad / 1024).toFixed(1)} KB compressed (limit 60 KB)`);
      for (const t of own)
        console.log(`       ${new URL(t.url).pathname.padEnd(28)} ${(t.bytes / 1024).toFixed(1).padStart(6)} KB`);
      console.log(`       API answers for the home page: ${(api / 1024).toFixed(1)} KB`);
      console.log(
        `     home page usable at 256 kbit/s, 800 ms: first visit ${(cold / 1000).toFixed(2)} s, later visit ${(warm / 1000).toFixed(2)} s (target 5 s)\n`,
      );
      await context.close();
    }
  } finally {
    await demo.close();
  }
}

await main();
