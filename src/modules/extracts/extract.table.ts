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

export type BuiltExtract = {
  csv: string;
  rows: number;
  casesConsidered: number;
  suppressedRows: number;
  generalisations: ExtractGeneralisation[];
};

/** Pseudonymised, generalised and suppressed rows as CSV, with what was done to them. */
export function tabulate(extract: ExtractDoc, source: SourceCase[]): BuiltExtract {
  const variables = EXTRACT_VARIABLES.filter((v) => extract.variables.includes(v)); // catalogue order
  const quasi = variables.filter((v) => CATALOGUE[v].quasiIdentifier);
  const plain = variables.filter((v) => !CATALOGUE[v].quasiIdentifier);
  // The closure reason is the sensitive value: no combination's rows may all share one.
  const sensitive = variables.includes('CLOSURE_REASON');
  const rows = source.map((c) => ({
    levels: quasi.map((v) => [...CATALOGUE[v].values(c), SUPPRESSED]),
    plain: plain.flatMap((v) => CATALOGUE[v].values(c)),
    sensitive: sensitive ? CATALOGUE.CLOSURE_REASON.values(c)[0]! : '',
  }));
  const { chosen, kept, suppressed } = anonymise(rows, quasi.length, extract.k);
  // Fresh pseudonyms: random, unique in this extract, nothing derived from the case.
  const pseudonyms = new Set<string>();
  while (pseudonyms.size < kept.length) pseudonyms.add(randomBytes(8).toString('hex'));
  const lines = kept.map((index, i) => {
    const row = rows[index]!;
    return [[...pseudonyms][i]!, ...row.levels.flatMap((values, q) => cellsOf(quasi[q]!, values[chosen[q]!]!)), ...row.plain];
  });
  // The order says nothing either: by pseudonym, which is random.
  lines.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const header = ['pseudonym', ...quasi.flatMap((v) => CATALOGUE[v].columns), ...plain.flatMap((v) => CATALOGUE[v].columns)];
  const generalisations = quasi.map((variable, q) => {
    const definition = CATALOGUE[variable];
    const level = chosen[q]!;
    return { variable, level, label: definition.quasiIdentifier ? definition.levels[level]! : '' };
  });
  return {
    csv: csvLine(header) + lines.map(csvLine).join(''),
    rows: lines.length,
    casesConsidered: source.length,
    suppressedRows: suppressed,
    generalisations,
  };
}
