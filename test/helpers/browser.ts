// Headless Chromium for the browser tests and benchmarks, taken from the npm registry
// (@sparticuz/chromium ships the binary inside the package), so `npm ci && npm test` needs no
// system browser and no download. playwright-core drives it.
import Chromium from '@sparticuz/chromium';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/**
 * Flags for a sandbox-less, GPU-less machine without outside network. The package's own list
 * also turns off web security (CORS, mixed content), which would hide what the portal's
 * Content-Security-Policy and same-origin rules do, so it is not used.
 */
const ARGS = [
  '--headless=shell',
  '--no-sandbox',
  '--no-zygote',
  '--disable-setuid-sandbox',
  '--disable-gpu',
  '--use-gl=angle',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-domain-reliability',
  '--disable-sync',
  '--no-pings',
  '--font-render-hinting=none',
];

let executable: Promise<string> | undefined;

/** The browser binary: CHROMIUM_PATH when set, else the packaged one (unpacked once into the temp folder). */
export function chromiumExecutable(): Promise<string> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return Promise.resolve(fromEnv);
  executable ??= Chromium.executablePath();
  return executable;
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: await chromiumExecutable(), args: ARGS, headless: true });
}

/**
 * A browser context whose clock is the test process's. They are the same day unless the suite runs
 * with its clock moved (`npm run test:later`, which shifts Node's clock only): then the page is
 * moved too, so the portal's "today" is the gateway's.
 */
export async function newBrowserContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  if (process.env.DATE_OFFSET_DAYS) await context.clock.install({ time: Date.now() });
  return context;
}
