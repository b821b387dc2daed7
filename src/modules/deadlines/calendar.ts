// Calendar arithmetic for deadlines: whole days and months in UTC, and working days per
// country of return. Public holidays come from the date-holidays library (its public days
// for the countries it knows, and its rule engine for the rules config/calendars.yaml gives
// countries it lacks); the configuration sets each country's weekend and can add days or
// declare a library holiday a working day.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type Holidays from 'date-holidays';
import type { HolidaysTypes } from 'date-holidays';
import YAML from 'yaml';
import { z } from 'zod';
import { DAY_MS } from '../../clock.ts';
import { todayIso } from '../../validation.ts';

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const weekend = z.array(z.enum(WEEKDAYS)).max(6);
const days = {
  /** Days off added to the library's. */
  holidays: z.array(isoDay).default([]),
  /** Days the library (or a rule) makes holidays that are working days after all. */
  workingDays: z.array(isoDay).default([]),
};
const countryCalendar = z.object({
  /** The default calendar's weekend when not given. */
  weekend: weekend.optional(),
  ...days,
  /** Public holidays as date-holidays rules (`'08-19'`, `'1 Shawwal P3D'`) → name, for countries the library lacks. */
  rules: z.record(z.string().min(4).max(60), z.string().max(100)).default({}),
  /** Use the library's public holidays for this country (when it knows it). */
  library: z.boolean().default(true),
});
const calendarFile = z.object({
  default: z.object({ weekend, ...days }),
  countries: z.record(z.string().regex(/^[A-Z]{2}$/), countryCalendar).default({}),
});

export type CountryCalendar = { weekend: ReadonlySet<number>; holidays: { has(day: string): boolean } };
export type Calendars = { of(country: string): CountryCalendar };

type CountryConfig = z.infer<typeof countryCalendar>;

let countries: Record<string, string> | null = null;
// The library's data takes a second or more to load: only when a working day is first asked
// for, so commands and starts that never count one do not pay for it.
let library: typeof Holidays | null = null;
// The CommonJS build exports the class itself.
const holidaysLibrary = () => (library ??= createRequire(import.meta.url)('date-holidays') as typeof Holidays);
const libraryCountries = () => (countries ??= new (holidaysLibrary())().getCountries());

/** The library for one country: its own public holidays, the configured rules, or both. */
function libraryFor(country: string, config: CountryConfig): Holidays | null {
  const known = config.library && country in libraryCountries();
  const rules = Object.entries(config.rules);
  if (!known && rules.length === 0) return null;
  const hd = new (holidaysLibrary())();
  // A country the library lacks starts from an empty entry of the library's own data format.
  const data = { holidays: { [country]: { names: { en: country }, langs: ['en'], days: {} } } };
  hd.init(country, { types: ['public'], ...(known ? {} : { data }) } as HolidaysTypes.Options);
  for (const [rule, name] of rules) {
    if (!hd.setHoliday(rule, { type: 'public', name: { en: name } }))
      throw new Error(`calendar ${country}: rule ${rule} not understood`);
  }
  return hd;
}

/** The ISO days of a library's holidays in a year (a holiday of several days counts each). */
function libraryDays(hd: Holidays, year: number): string[] {
  return hd.getHolidays(year).flatMap((h) => {
    const length = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / DAY_MS));
    return Array.from({ length }, (_, i) => addDays(h.date.slice(0, 10), i));
  });
}

function compile(country: string | null, config: CountryConfig, fallbackWeekend: readonly string[]): CountryCalendar {
  const hd = country ? libraryFor(country, config) : null;
  const added = new Set(config.holidays);
  const working = new Set(config.workingDays);
  const byYear = new Map<number, ReadonlySet<string>>();
  const yearOf = (year: number) => {
    let set = byYear.get(year);
    if (!set) {
      set = new Set(hd ? libraryDays(hd, year) : []);
      byYear.set(year, set);
    }
    return set;
  };
  return {
    weekend: new Set((config.weekend ?? fallbackWeekend).map((d) => WEEKDAYS.indexOf(d as (typeof WEEKDAYS)[number]))),
    holidays: {
      has: (day) => !working.has(day) && (added.has(day) || yearOf(Number(day.slice(0, 4))).has(day)),
    },
  };
}

export function calendarsFrom(config: z.input<typeof calendarFile>): Calendars {
  const parsed = calendarFile.parse(config);
  const defaults = countryCalendar.parse({ ...parsed.default, library: false });
  const byCountry = new Map<string, CountryCalendar>();
  // Compiled on first use (see holidaysLibrary). A country not configured: the default weekend
  // and days, and the library's holidays when it knows the country.
  const compileFor = (code: string) => {
    const configured = parsed.countries[code];
    return configured
      ? compile(code, { ...configured, holidays: [...parsed.default.holidays, ...configured.holidays] }, parsed.default.weekend)
      : compile(/^[A-Z]{2}$/.test(code) ? code : null, { ...defaults, library: true }, parsed.default.weekend);
  };
  return {
    of: (country) => {
      let calendar = byCountry.get(country);
      if (!calendar) {
        calendar = compileFor(country);
        byCountry.set(country, calendar);
      }
      return calendar;
    },
  };
}

export const CALENDARS_FILE = fileURLToPath(new URL('../../../config/calendars.yaml', import.meta.url));

export function loadCalendars(file = CALENDARS_FILE): Calendars {
  return calendarsFrom(YAML.parse(readFileSync(file, 'utf8')) as z.input<typeof calendarFile>);
}

const toDate = (day: string) => new Date(`${day}T00:00:00Z`);

export function addDays(day: string, days: number): string {
  return todayIso(new Date(toDate(day).getTime() + days * DAY_MS));
}

/** The same day `months` later; a day the month lacks becomes its last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(day: string, months: number): string {
  const d = toDate(day);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return todayIso(target);
}

function stepWorkingDays(day: string, n: number, step: 1 | -1, calendar: CountryCalendar): string {
  if (calendar.weekend.size >= 7) throw new Error('a calendar without working days');
  let current = day;
  let counted = 0;
  while (counted < n) {
    current = addDays(current, step);
    const weekday = toDate(current).getUTCDay();
    if (!calendar.weekend.has(weekday) && !calendar.holidays.has(current)) counted += 1;
  }
  return current;
}

/** The `n`th working day after `day` (the day itself does not count). */
export const addWorkingDays = (day: string, n: number, calendar: CountryCalendar) => stepWorkingDays(day, n, 1, calendar);

/** The `n`th working day before `day` (the day itself does not count): the last day to act "n working days before". */
export const workingDaysBefore = (day: string, n: number, calendar: CountryCalendar) => stepWorkingDays(day, n, -1, calendar);

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toDate(to).getTime() - toDate(from).getTime()) / DAY_MS);
}

/** The instant a day-based deadline passes: the start of the next day, UTC. */
export function endOfDay(day: string): Date {
  return toDate(addDays(day, 1));
}
