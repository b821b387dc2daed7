// An extract's table: pseudonymised, generalised and suppressed rows as CSV (see
// extract.anonymise.ts for the choice of generalisation levels), with what was done to them.
import { randomBytes } from 'node:crypto';
import { anonymise } from './extract.anonymise.ts';
import {
  CATALOGUE,
  COLUMN_SEPARATOR,
  EXTRACT_VARIABLES,
  SUPPRESSED,
  type ExtractVariable,
  type SourceCase,
} from './extract.catalogue.ts';
import type { ExtractDoc, ExtractGeneralisation } from './extract.model.ts';

/** A CSV field: quoted when it holds a separator, and never read as a formula by a spreadsheet. */
function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

const csvLine = (fields: string[]) => `${fields.map(csvField).join(',')}\r\n`;

/** A quasi-identifier's value as its columns (`*` in each when suppressed). */
function cellsOf(variable: ExtractVariable, value: string): string[] {
  const { columns } = CATALOGUE[variable];
  if (columns.length === 1) return [value];
  return value === SUPPRESSED ? columns.map(() => SUPPRESSED) : value.split(COLUMN_SEPARATOR);
}

/** Published counts are rounded to a multiple of this: exact ones would count the cases between two extracts. */
export const COUNT_BASE = 5;

/** `n` to the nearest multiple of COUNT_BASE. */
export const roundedCount = (n: number) => Math.round(n / COUNT_BASE) * COUNT_BASE;

export type BuiltExtract = {
  csv: string;
  rows: number;
  /** Rounded (COUNT_BASE). */
  casesConsidered: number;
  /** Rounded (COUNT_BASE). */
  suppressedRows: number;
  generalisations: ExtractGeneralisation[];
};

/**
 * Pseudonymised, generalised and suppressed rows as CSV, with what was done to them. Each
 * block (a member state's quarter: extract.blocks.ts) is anonymised on its own, so the rows of
 * a block are the same in every extract of the same variables that holds it, and two extracts
 * differ by whole blocks, each k-anonymous and diverse by itself. Their union is too: a
 * combination in several blocks covers their rows together.
 */
export function tabulate(extract: ExtractDoc, blocks: SourceCase[][]): BuiltExtract {
  const variables = EXTRACT_VARIABLES.filter((v) => extract.variables.includes(v)); // catalogue order
  const quasi = variables.filter((v) => CATALOGUE[v].quasiIdentifier);
  const plain = variables.filter((v) => !CATALOGUE[v].quasiIdentifier);
  // The closure reason is the sensitive value (extract.anonymise.ts).
  const sensitive = variables.includes('CLOSURE_REASON');
  const coarsest = quasi.map(() => 0);
  let considered = 0;
  let suppressedRows = 0;
  const released: string[][] = [];
  for (const source of blocks) {
    const rows = source.map((c) => ({
      levels: quasi.map((v) => [...CATALOGUE[v].values(c), SUPPRESSED]),
      plain: plain.flatMap((v) => CATALOGUE[v].values(c)),
      sensitive: sensitive ? CATALOGUE.CLOSURE_REASON.values(c)[0]! : '',
    }));
    const { chosen, kept, suppressed } = anonymise(rows, quasi.length, extract.k);
    considered += source.length;
    suppressedRows += suppressed;
    if (kept.length > 0) chosen.forEach((level, q) => (coarsest[q] = Math.max(coarsest[q]!, level)));
    for (const index of kept) {
      const row = rows[index]!;
      released.push([...row.levels.flatMap((values, q) => cellsOf(quasi[q]!, values[chosen[q]!]!)), ...row.plain]);
    }
  }
  // Fresh pseudonyms: random, unique in this extract, nothing derived from the case.
  const pseudonyms = new Set<string>();
  while (pseudonyms.size < released.length) pseudonyms.add(randomBytes(8).toString('hex'));
  const lines = released.map((cells, i) => [[...pseudonyms][i]!, ...cells]);
  // The order says nothing either (of the block or the case): by pseudonym, which is random.
  lines.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const header = ['pseudonym', ...quasi.flatMap((v) => CATALOGUE[v].columns), ...plain.flatMap((v) => CATALOGUE[v].columns)];
  // Blocks may need different levels: the coarsest any released block needed is reported.
  const generalisations = quasi.map((variable, q) => {
    const definition = CATALOGUE[variable];
    const level = coarsest[q]!;
    return { variable, level, label: definition.quasiIdentifier ? definition.levels[level]! : '' };
  });
  return {
    csv: csvLine(header) + lines.map(csvLine).join(''),
    rows: lines.length,
    casesConsidered: roundedCount(considered),
    suppressedRows: roundedCount(suppressedRows),
    generalisations,
  };
}
