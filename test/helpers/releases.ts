// Statistics are published from monthly releases (src/modules/statistics/releases.ts): every
// table of a calendar month (UTC) counts the cases as they stood at the month's first table.
// A test that changes cases and expects a table to count them moves its gateway's clock into
// the next month, where the next release is taken.
import type { ManualClock } from '../../src/clock.ts';

/** Moves the clock to 10:00 UTC on the first day of the next month: the next release. */
export function nextRelease(clock: ManualClock): Date {
  const now = clock.now();
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1, 10));
  clock.set(next);
  return next;
}
