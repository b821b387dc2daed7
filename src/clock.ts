// The gateway's sense of time. Services take it from here, so tests (and a demo) can
// place the whole gateway on a chosen day.
export type Clock = { now(): Date };

export const DAY_MS = 86_400_000;

/** The calendar quarter of a month YYYY-MM, as `YYYY-Qn` (statistics' QUARTER, extracts' grid). */
export const quarterOfMonth = (month: string): string =>
  `${month.slice(0, 4)}-Q${Math.floor((Number(month.slice(5, 7)) - 1) / 3) + 1}`;

export const systemClock: Clock = { now: () => new Date() };

/** A clock that starts at a given instant and can be moved. */
export class ManualClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  set(date: Date): void {
    this.current = new Date(date);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}
