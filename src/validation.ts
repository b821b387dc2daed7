// Input validation shared by every service: zod schemas, and one way to turn their
// problems into a BAD_USER_INPUT error that lists every problem at once.
import { z } from 'zod';
import { badInput } from './errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'input'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  // Paths are named from the argument (e.g. plan.components.0.cost); `input` is implied.
  const pathOf = (path: PropertyKey[]) => [...(what === 'input' ? [] : [what]), ...path.map(String)].join('.') || what;
  throw badInput(
    `Invalid ${what}: ${result.error.issues.map((i) => `${pathOf(i.path)}: ${i.message}`).join('; ')}`,
    result.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message })),
  );
}

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

export const countryCode = z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 alpha-2 code such as NL');
export const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
  .refine((c) => CURRENCIES.has(c), 'not a known ISO 4217 currency');
export const organisationCode = z.string().regex(/^[A-Z0-9-]{2,32}$/, '2 to 32 capital letters, digits or -');

/** A calendar date YYYY-MM-DD that exists. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD')
  .refine((d) => {
    const parsed = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(d);
  }, 'not a real calendar date');

/** Text a person typed: trimmed, bounded, without NUL (the store refuses it). */
/** An instant as `Date.toISOString()` writes it (or anything `Date.parse` reads). */
export const isoInstant = z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'an instant');

export const text = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `at most ${max} characters`)
    .refine((s) => !s.includes('\u0000'), 'contains a NUL character');

export const requiredText = (max: number) => text(max).pipe(z.string().min(1, 'required'));

export const idempotencyKey = z
  .string()
  .min(8, 'at least 8 characters')
  .max(128, 'at most 128 characters')
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : -');

export const minorUnits = z.number().int('minor units are whole numbers').min(0).max(1_000_000_000_00);

export const money = z.object({ amount: minorUnits, currency: currencyCode });

/** A page size asked for as `first` (the default when not given), checked against the page's maximum. */
export function pageSize(first: number | null | undefined, fallback: number, max: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 0 || size > max) {
    throw badInput(`first must be between 0 and ${max}.`, [{ path: 'first', message: `0 to ${max}` }]);
  }
  return size;
}

/** Today's date (UTC) as YYYY-MM-DD. */
export function todayIso(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
