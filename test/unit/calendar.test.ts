// Calendar arithmetic of deadlines: months that lack a day, working days around weekends
// and holidays, and where a day-based deadline passes.
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  addWorkingDays,
  calendarsFrom,
  daysBetween,
  endOfDay,
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
});
