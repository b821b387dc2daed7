// Money is integer minor units plus an ISO 4217 currency, never a float or Decimal128.
// Conversions use exact integer arithmetic (BigInt) and round half away from zero once.
export type Money = { amount: number; currency: string };

const digitsCache = new Map<string, number>();

/** The number of minor-unit digits of a currency (EUR 2, JPY 0, KWD 3), per ISO 4217 via Intl. */
export function minorDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

/** Exchange rates are decimal strings (units of the currency per 1 EUR), scaled by 10^RATE_SCALE. */
export const RATE_SCALE = 8;
export const RATE_PATTERN = /^(?:0|[1-9]\d{0,9})(?:\.\d{1,8})?$/;

export function parseRate(rate: string): bigint {
  if (!RATE_PATTERN.test(rate)) throw new Error(`not a rate: ${rate}`);
  const [whole, fraction = ''] = rate.split('.');
  return BigInt(whole!) * 10n ** BigInt(RATE_SCALE) + BigInt(fraction.padEnd(RATE_SCALE, '0'));
}

function divideRounded(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return negative ? -q : q;
}

/** Converts an amount to EUR minor units at `rate` (units of `currency` per 1 EUR). */
export function toEur(amount: number, currency: string, rate: string): number {
  if (currency === 'EUR') return amount;
  const scaledRate = parseRate(rate);
  if (scaledRate === 0n) throw new Error('a rate of zero');
  const digitShift = minorDigits('EUR') - minorDigits(currency);
  let numerator = BigInt(amount) * 10n ** BigInt(RATE_SCALE);
  let denominator = scaledRate;
  if (digitShift >= 0) numerator *= 10n ** BigInt(digitShift);
  else denominator *= 10n ** BigInt(-digitShift);
  return Number(divideRounded(numerator, denominator));
}

export const eur = (amount: number): Money => ({ amount, currency: 'EUR' });

/** One formatter per number of decimals: building one costs far more than formatting with it. */
const formatters = new Map<number, Intl.NumberFormat>();

/** `150000, EUR` → `1,500.00 EUR`, with the currency's own number of decimals. */
export function formatMoney(amount: number, currency: string): string {
  const digits = minorDigits(currency);
  let format = formatters.get(digits);
  if (!format) {
    format = new Intl.NumberFormat('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(digits, format);
  }
  return `${format.format(amount / 10 ** digits)} ${currency}`;
}
