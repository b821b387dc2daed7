// The fixed grid extracts are cut from: calendar quarters of registration. A case belongs to
// exactly one quarter, that of the day it was registered (`createdAt`, set by the exchange and
// never changed; the day of return is not fixed: a case registered before return gets it
// later). An extract asks for whole quarters, and is built only once the last of them is over,
// when no case can be registered in it any more. Each member state's quarter is a block
// (extract.blocks.ts) that is frozen when first released and anonymised on its own
// (extract.table.ts), so two extracts differ by whole blocks, each k-anonymous by itself.
import { quarterOfMonth } from '../../clock.ts';
import type { CaseDoc } from '../cases/case.model.ts';

const FIRST_MONTHS = ['01', '04', '07', '10'];
const LAST_MONTHS = ['03', '06', '09', '12'];

/** A quarter as `YYYY-Qn`. */
export type Quarter = string;

/** The quarter a case belongs to in every extract: that of its registration. */
export const quarterOfCase = (c: Pick<CaseDoc, 'createdAt'>): Quarter => quarterOfMonth(c.createdAt.toISOString().slice(0, 7));

/** A quarter's first and last month (YYYY-MM). */
export function monthsOf(quarter: Quarter): { first: string; last: string } {
  const year = quarter.slice(0, 4);
  const n = Number(quarter.slice(6));
  return { first: `${year}-${FIRST_MONTHS[n - 1]}`, last: `${year}-${LAST_MONTHS[n - 1]}` };
}

/** The quarter after `quarter`. */
function nextQuarter(quarter: Quarter): Quarter {
  const year = Number(quarter.slice(0, 4));
  const n = Number(quarter.slice(6));
  return n === 4 ? `${year + 1}-Q1` : `${year}-Q${n + 1}`;
}

/** The quarter before `quarter`. */
function previousQuarter(quarter: Quarter): Quarter {
  const year = Number(quarter.slice(0, 4));
  const n = Number(quarter.slice(6));
  return n === 1 ? `${year - 1}-Q4` : `${year}-Q${n - 1}`;
}

/**
 * Why `periodFrom` or `periodTo` is not on the grid, naming the nearest months that are (the
 * start of its quarter and of the next; the end of the previous quarter and of its own), or
 * null when it is.
 */
export function misalignment(which: 'periodFrom' | 'periodTo', month: string): string | null {
  const quarter = quarterOfMonth(month);
  if (which === 'periodFrom') {
    if (FIRST_MONTHS.includes(month.slice(5, 7))) return null;
    return `${month} does not start a calendar quarter (extracts cover whole quarters): the nearest that do are ${
      monthsOf(quarter).first
    } and ${monthsOf(nextQuarter(quarter)).first}`;
  }
  if (LAST_MONTHS.includes(month.slice(5, 7))) return null;
  return `${month} does not end a calendar quarter (extracts cover whole quarters): the nearest that do are ${
    monthsOf(previousQuarter(quarter)).last
  } and ${monthsOf(quarter).last}`;
}

/** The quarters from the one of `periodFrom` to the one of `periodTo`, oldest first. */
export function quartersOf(periodFrom: string, periodTo: string): Quarter[] {
  const quarters: Quarter[] = [];
  const last = quarterOfMonth(periodTo);
  for (let q = quarterOfMonth(periodFrom); q <= last; q = nextQuarter(q)) quarters.push(q);
  return quarters;
}

/** The first day after `periodTo`'s quarter (UTC): from then on no case can join the period. */
export function periodClosesOn(periodTo: string): string {
  const { first } = monthsOf(nextQuarter(quarterOfMonth(periodTo)));
  return `${first}-01`;
}
