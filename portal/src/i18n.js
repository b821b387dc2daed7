// Languages: i18next with one JSON catalogue per language (locales/*.json), loaded on demand,
// switchable at any time. Dates, numbers and money are formatted by Intl for the language.
import i18next from 'i18next';

export const LANGUAGES = [
  { code: 'en', name: 'English', dir: 'ltr' },
  { code: 'fr', name: 'Français', dir: 'ltr' },
  { code: 'ar', name: 'العربية', dir: 'rtl' },
];
const STORAGE = 'erin.language';
const listeners = new Set();
/** Keys asked for that no catalogue has (the tests read it). */
export const missingKeys = new Set();

export const t = (key, options) => i18next.t(key, options);

/**
 * A message as nodes: values that are nodes (data marked translate="no", or another message)
 * are put in place as they are, so data inside a sentence stays data.
 */
export function tx(key, values = {}) {
  const nodes = [];
  const plain = {};
  for (const [name, value] of Object.entries(values)) {
    if (value instanceof Node) {
      plain[name] = `\u2063${nodes.length}\u2063`;
      nodes.push(value);
    } else plain[name] = value;
  }
  return i18next
    .t(key, plain)
    .split('\u2063')
    .map((part, i) => (i % 2 === 1 ? nodes[Number(part)] : document.createTextNode(part)));
}
export const language = () => i18next.language;

function preferred() {
  const saved = localStorage.getItem(STORAGE);
  if (LANGUAGES.some((l) => l.code === saved)) return saved;
  const fromBrowser = (navigator.languages ?? []).map((l) => l.slice(0, 2)).find((l) => LANGUAGES.some((x) => x.code === l));
  return fromBrowser ?? 'en';
}

async function catalogue(code, signal) {
  const response = await fetch(`locales/${code}.json`, signal ? { signal } : {});
  if (!response.ok) throw new Error(`catalogue ${code}: ${response.status}`);
  return response.json();
}

/** Loads the preferred language's words; `signal` gives up on them (a stalled link). */
export async function initI18n(signal) {
  const lng = preferred();
  await i18next.init({
    lng,
    fallbackLng: false,
    resources: { [lng]: { translation: await catalogue(lng, signal) } },
    interpolation: { escapeValue: false }, // the DOM is built from text nodes, never HTML
    returnNull: false,
    saveMissing: true,
    missingKeyHandler: (_lngs, _ns, key) => {
      missingKeys.add(key);
      console.warn(`i18n: missing key ${key}`);
    },
  });
  applyDirection();
}

function applyDirection() {
  const lang = LANGUAGES.find((l) => l.code === i18next.language) ?? LANGUAGES[0];
  document.documentElement.lang = lang.code;
  document.documentElement.dir = lang.dir;
  document.title = t('app.title');
}

export async function setLanguage(code) {
  if (!i18next.hasResourceBundle(code, 'translation')) i18next.addResourceBundle(code, 'translation', await catalogue(code));
  await i18next.changeLanguage(code);
  localStorage.setItem(STORAGE, code); // a preference, nothing personal
  applyDirection();
  for (const listener of listeners) listener();
}

export const onLanguageChange = (listener) => listeners.add(listener);

// ---- formatting ---------------------------------------------------------------------------

const cache = new Map();
function formatter(kind, options) {
  const key = `${i18next.language}|${kind}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (!f) {
    f = kind === 'date' ? new Intl.DateTimeFormat(i18next.language, options) : new Intl.NumberFormat(i18next.language, options);
    cache.set(key, f);
  }
  return f;
}

const isoDay = (value) => (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : null);

/** A day, written out with the month's name; ISO (2026-11-29) where the language's form has no letters. */
export function formatDate(value) {
  if (!value) return '—';
  const day = isoDay(value);
  const date = day ? new Date(`${day}T12:00:00Z`) : new Date(value);
  const text = formatter('date', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' }).format(date);
  return /\p{L}/u.test(text) ? text : date.toISOString().slice(0, 10);
}

export function formatDateTime(value) {
  if (!value) return '—';
  const date = new Date(value);
  return `${formatDate(date.toISOString())} ${formatter('date', { hour: '2-digit', minute: '2-digit' }).format(date)}`;
}

export const formatNumber = (n, options = {}) => formatter('number', options).format(n);

/** The number of minor-unit digits of a currency (ISO 4217, as the gateway reads it from Intl). */
export function minorDigits(currency) {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** Money as the API gives it (integer minor units) in the language's own form. */
export function formatMoney(money) {
  if (!money) return '—';
  const digits = minorDigits(money.currency);
  return formatter('number', {
    style: 'currency',
    currency: money.currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(money.amount / 10 ** digits);
}

/** From what a person typed in the currency's own units to minor units (never a float sent). */
export function toMinorUnits(value, currency) {
  const digits = minorDigits(currency);
  const n = Number(String(value).trim().replace(',', '.'));
  if (!Number.isFinite(n) || n < 0) return null;
  return Math.round(n * 10 ** digits);
}

export const fromMinorUnits = (amount, currency) => amount / 10 ** minorDigits(currency);
