// Calendar arithmetic for deadlines: whole days and months in UTC, and working days per
// country of return (weekends and public holidays from config/calendars.yaml).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { z } from 'zod';
import { DAY_MS } from '../../clock.ts';
import { todayIso } from '../../validation.ts';

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const countryCalendar = z.object({
  weekend: z.array(z.enum(WEEKDAYS)).max(6),
  holidays: z.array(isoDay).default([]),
});
const calendarFile = z.object({
  default: countryCalendar,
  countries: z.record(z.string().regex(/^[A-Z]{2}$/), countryCalendar).default({}),
});

export type CountryCalendar = { weekend: ReadonlySet<number>; holidays: ReadonlySet<string> };
export type Calendars = { of(country: string): CountryCalendar };

function compile(c: z.infer<typeof countryCalendar>): CountryCalendar {
  return { weekend: new Set(c.weekend.map((d) => WEEKDAYS.indexOf(d))), holidays: new Set(c.holidays) };
}

export function calendarsFrom(config: z.input<typeof calendarFile>): Calendars {
  const parsed = calendarFile.parse(config);
  const fallback = compile(parsed.default);
  const byCountry = new Map(Object.entries(parsed.countries).map(([code, c]) => [code, compile(c)]));
  return { of: (country) => byCountry.get(country) ?? fallback };
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

/** The `n`th working day after `day` (the day itself does not count). */
export function addWorkingDays(day: string, n: number, calendar: CountryCalendar): string {
  if (calendar.weekend.size >= 7) throw new Error('a calendar without working days');
  let current = day;
  let counted = 0;
  while (counted < n) {
    current = addDays(current, 1);
    const weekday = toDate(current).getUTCDay();
    if (!calendar.weekend.has(weekday) && !calendar.holidays.has(current)) counted += 1;
  }
  return current;
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round((toDate(to).getTime() - toDate(from).getTime()) / DAY_MS);
}

/** The instant a day-based deadline passes: the start of the next day, UTC. */
export function endOfDay(day: string): Date {
  return toDate(addDays(day, 1));
}
