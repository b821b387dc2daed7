// Calendar arithmetic of deadlines: months that lack a day, working days around weekends
// and holidays, and where a day-based deadline passes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  addDays,
  addMonths,
  addWorkingDays,
  calendarsFrom,
  daysBetween,
  endOfDay,
  loadCalendars,
  workingDaysBefore,
} from '../../src/modules/deadlines/calendar.ts';

const calendars = calendarsFrom({
  default: { weekend: ['SAT', 'SUN'] },
  countries: { AF: { weekend: ['THU', 'FRI'], holidays: ['2026-03-21'] } },
});

describe('calendar arithmetic', () => {
  it('adds days and months in UTC, a missing day becoming the month’s last', () => {
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addMonths('2026-01-31', 1)).toBe('2026-02-28');
    expect(addMonths('2028-01-31', 1)).toBe('2028-02-29');
    expect(addMonths('2026-11-15', 3)).toBe('2027-02-15');
    expect(daysBetween('2026-01-01', '2026-03-01')).toBe(59);
    expect(daysBetween('2026-03-01', '2026-01-01')).toBe(-59);
    expect(endOfDay('2026-12-31').toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('counts working days after the day, skipping the country’s weekend and holidays', () => {
    // Friday 2026-03-13 + 1 working day in a Saturday–Sunday country: Monday.
    expect(addWorkingDays('2026-03-13', 1, calendars.of('NL'))).toBe('2026-03-16');
    // Wednesday 2026-03-18 in Afghanistan: Thursday and Friday are the weekend, Saturday
    // 2026-03-21 (Nowruz) a holiday, so the first working day after is Sunday the 22nd.
    expect(addWorkingDays('2026-03-18', 1, calendars.of('AF'))).toBe('2026-03-22');
    expect(addWorkingDays('2026-03-18', 0, calendars.of('AF'))).toBe('2026-03-18');
    // An unknown country takes the default calendar.
    expect(addWorkingDays('2026-03-13', 5, calendars.of('ZZ'))).toBe('2026-03-20');
  });

  it('refuses a calendar without working days and a malformed configuration', () => {
    const never = { weekend: new Set([0, 1, 2, 3, 4, 5, 6]), holidays: new Set<string>() };
    expect(() => addWorkingDays('2026-01-01', 1, never)).toThrow(/without working days/);
    expect(() => calendarsFrom({ default: { weekend: ['SAT', 'SUN'] }, countries: { nl: { weekend: [] } } })).toThrow();
    expect(() => calendarsFrom({ default: { weekend: ['SAT', 'SUN'], holidays: ['1 May'] } })).toThrow();
  });

  it('counts working days back from a day for “at least n working days before”', () => {
    // Monday 2026-03-16 − 1 working day in a Saturday–Sunday country: Friday the 13th.
    expect(workingDaysBefore('2026-03-16', 1, calendars.of('ZZ'))).toBe('2026-03-13');
    // In Afghanistan of this configuration, Sunday 22 March − 1: Thursday, Friday and the 21st are off.
    expect(workingDaysBefore('2026-03-22', 1, calendars.of('AF'))).toBe('2026-03-18');
  });
});

describe('public holidays from the date-holidays library and the configuration', () => {
  it('takes a known country’s public holidays from the library, and the configuration adds days or makes them working days', () => {
    const plain = calendarsFrom({ default: { weekend: ['SAT', 'SUN'] } });
    // King's Day, a Monday in 2026: a Dutch public holiday in the library (not a configured one).
    expect(plain.of('NL').holidays.has('2026-04-27')).toBe(true);
    expect(addWorkingDays('2026-04-24', 1, plain.of('NL'))).toBe('2026-04-28');
    const configured = calendarsFrom({
      default: { weekend: ['SAT', 'SUN'] },
      countries: { NL: { workingDays: ['2026-04-27'], holidays: ['2026-04-28'] }, MA: { library: false } },
    });
    expect(configured.of('NL').holidays.has('2026-04-27')).toBe(false);
    expect(addWorkingDays('2026-04-24', 1, configured.of('NL'))).toBe('2026-04-27');
    expect(addWorkingDays('2026-04-24', 2, configured.of('NL'))).toBe('2026-04-29');
    // Morocco's Throne Day (30 July) from the library, unless the configuration turns the library off.
    expect(plain.of('MA').holidays.has('2026-07-30')).toBe(true);
    expect(configured.of('MA').holidays.has('2026-07-30')).toBe(false);
  });

  it('evaluates date-holidays rules for a country the library lacks, lunar holidays included', () => {
    const calendars = calendarsFrom({
      default: { weekend: ['SAT', 'SUN'] },
      countries: { AF: { weekend: ['FRI'], rules: { '08-19': 'Independence Day', '1 Shawwal P3D': 'Eid al-Fitr' } } },
    });
    const af = calendars.of('AF');
    expect(['2026-03-19', '2026-03-20', '2026-03-21', '2026-03-22', '2026-03-23'].map((d) => af.holidays.has(d))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ]);
    expect(af.holidays.has('2027-08-19')).toBe(true);
    expect(() =>
      calendarsFrom({ default: { weekend: ['SAT', 'SUN'] }, countries: { AF: { rules: { 'not a rule at all': 'x' } } } }).of(
        'AF',
      ),
    ).toThrow(/not understood/);
  });

  it('the shipped configuration gives every country of origin in the network its weekend and public holidays', () => {
    const network = YAML.parse(readFileSync(new URL('../../config/demo-network.yaml', import.meta.url), 'utf8')) as {
      contracts: { originCountries: string[] }[];
    };
    const origins = [...new Set(network.contracts.flatMap((c) => c.originCountries))].sort();
    expect(origins.length).toBeGreaterThan(5);
    const file = YAML.parse(readFileSync(new URL('../../config/calendars.yaml', import.meta.url), 'utf8')) as {
      countries: Record<string, { weekend?: string[] }>;
    };
    const calendars = loadCalendars();
    for (const country of origins) {
      expect(file.countries[country]?.weekend, country).toBeDefined();
      const days = Array.from({ length: 365 }, (_, i) => addDays('2027-01-01', i));
      expect(days.filter((d) => calendars.of(country).holidays.has(d)).length, country).toBeGreaterThanOrEqual(5);
    }
    // Afghanistan rests on Fridays (Thursday is a short working day); Iraq on Fridays and Saturdays.
    expect([...calendars.of('AF').weekend]).toEqual([5]);
    expect([...calendars.of('IQ').weekend].sort()).toEqual([5, 6]);
  });
});
