// Driving the portal as a person would: signing in on the development identity provider's
// own login page, switching language, and checking each view (axe-core, untranslated text).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { DEMO_PASSWORD } from '../../src/idp/demo-users.ts';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export type Language = 'en' | 'fr' | 'ar';
type Catalogue = { [key: string]: string | Catalogue };

export function catalogue(language: Language): Catalogue {
  return JSON.parse(readFileSync(`portal/locales/${language}.json`, 'utf8')) as Catalogue;
}

/** Every key of a catalogue, plural forms folded into their key (`count_one`, `count_other` → `count`). */
export function keysOf(cat: Catalogue, prefix = ''): string[] {
  return [
    ...new Set(
      Object.entries(cat).flatMap(([k, v]) =>
        typeof v === 'string' ? [`${prefix}${k.replace(/_(zero|one|two|few|many|other)$/, '')}`] : keysOf(v, `${prefix}${k}.`),
      ),
    ),
  ];
}

export function valuesOf(cat: Catalogue): string[] {
  return Object.values(cat).flatMap((v) => (typeof v === 'string' ? [v] : valuesOf(v)));
}

/** Messages the portal logs when a key is missing from the catalogue (see portal/src/i18n.js). */
export function watchMissingKeys(page: Page): string[] {
  const missing: string[] = [];
  page.on('console', (m) => {
    if (m.text().startsWith('i18n: missing key')) missing.push(m.text());
  });
  return missing;
}

/** Opens the portal, picks the language, and signs in on the development provider's login page. */
export async function signIn(page: Page, baseUrl: string, username: string, language: Language): Promise<void> {
  await page.goto(`${baseUrl}/portal/`);
  await page.locator('#language').selectOption(language);
  await expect.poll(() => page.evaluate('document.documentElement.lang')).toBe(language);
  await signInOnProvider(page, username);
  await page.waitForURL(/\/portal\/(#.*)?$/);
}

/** From the portal's sign-in page: signs in on the development provider's login page, back to the portal signed in. */
export async function signInOnProvider(page: Page, username: string): Promise<void> {
  await page.locator('.providers button').first().click();
  await page.waitForURL(/\/idp\/interaction\//);
  await logInAtProvider(page, username);
}

/** On the development provider's login page: the demo user's name and password, back to the portal signed in. */
export async function logInAtProvider(page: Page, username: string): Promise<void> {
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.locator('form button[type=submit]').click();
  await page.locator('#signout').waitFor();
}

/** Waits until the view for `hash` is shown (its heading has focus once rendered). */
export async function open(page: Page, hash: string): Promise<void> {
  // The page shown before is replaced when the new one is ready: until then its forms would
  // take what a test types.
  const shown = (await page.evaluate<string>('location.hash')) === hash ? null : await page.$('#view > *');
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  if (shown) await page.waitForFunction((el) => !el.isConnected, shown);
  await page.locator('#view h1').first().waitFor();
}

/** axe-core in the page: no serious or critical violation of WCAG 2.1 A/AA. */
export async function checkAccessibility(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: { run(o: unknown): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe;
    const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id} (${v.impact}): ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 3)
            .join(', ')}`,
      );
  });
  expect(violations, `axe on ${what}`).toEqual([]);
}

/** Text the portal shows that is not data (data is marked translate="no"). */
export async function shownText(page: Page): Promise<string[]> {
  // In the page (DOM types are not the test's): every text node outside [translate=no].
  return page.evaluate(`(() => {
    const texts = [];
    const walker = document.createTreeWalker(document.getElementById('app'), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      if (!text || node.parentElement.closest('[translate=no], script, style')) continue;
      texts.push(text);
    }
    return texts;
  })()`);
}

/** File formats and the product's name stay as they are in every language. */
const LATIN_ALLOWED = /\b(PDF|JPEG|PNG|ERIN|Exchange|KiB)\b/g;

/** Fails when the view shows English (or any untranslated) text in a language that has its own. */
export async function checkTranslated(page: Page, language: Language, what: string): Promise<void> {
  if (language === 'en') return;
  const texts = await shownText(page);
  if (language === 'ar') {
    const latin = texts.filter((t) => /[A-Za-z]{2,}/.test(t.replace(LATIN_ALLOWED, '')));
    expect(latin, `untranslated text on ${what} (${language})`).toEqual([]);
  } else {
    const english = new Set(valuesOf(catalogue('en')));
    const own = new Set(valuesOf(catalogue(language)));
    const untranslated = texts.filter((t) => english.has(t) && !own.has(t));
    expect(untranslated, `untranslated text on ${what} (${language})`).toEqual([]);
  }
}

/** Both checks, for every view a flow passes through. */
export async function checkView(page: Page, language: Language, what: string): Promise<void> {
  await checkTranslated(page, language, what);
  await checkAccessibility(page, `${what} (${language})`);
}

/** How many records each of the portal's IndexedDB stores holds. */
export async function records(page: Page): Promise<Record<string, number>> {
  return page.evaluate(`(async () => {
    const counts = {};
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise((resolve, reject) => { const r = indexedDB.open(name); r.onsuccess = () => resolve(r.result); r.onerror = () => reject(r.error); });
      for (const store of db.objectStoreNames) {
        counts[store] = await new Promise((resolve) => { const r = db.transaction(store).objectStore(store).count(); r.onsuccess = () => resolve(r.result); });
      }
      db.close();
    }
    return counts;
  })()`);
}
