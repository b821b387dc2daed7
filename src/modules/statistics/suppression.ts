// Cell suppression for a table published with all its margins (the totals over every
// subset of its dimensions). Pure: cells in, the keys to suppress out.
//
// Every margin cell equals the sum of its children along each dimension it sums over: a
// "line". A suppressed cell alone in a line could be computed back as total minus the
// rest, so:
//   1. primary: cells with fewer cases than the threshold;
//   2. secondary: wherever a line holds exactly one suppressed cell, suppress another
//      (the smallest), until no line does;
//   3. audit: solve the published system of line equations for the suppressed cells
//      (Gauss–Jordan on the unknowns). Lines alone can miss a cell that several lines
//      pin down together (a "bridge" between two suppressed rectangles); any cell the
//      system determines gets another complement, and the audit runs again.
// It protects against exact disclosure from the published figures. It does not bound the
// interval an attacker can narrow a suppressed cell to, nor protect across requests
// with different filters; the threshold is the guard there.

export type TableCell = {
  /** One value per dimension of the table; null where the cell sums over that dimension. */
  coords: readonly (string | null)[];
  count: number;
};

export class TooFineGrained extends Error {
  constructor(readonly unknowns: number) {
    super(`the table needs more than ${unknowns} suppressed cells`);
    this.name = 'TooFineGrained';
  }
}

type Line = { members: string[] };

export const cellKey = (coords: readonly (string | null)[]) => JSON.stringify(coords);

/** The lines of the table: each margin cell with its children along one dimension. */
function linesOf(cells: Map<string, TableCell>): Line[] {
  const lines = new Map<string, Line>();
  for (const [key, cell] of cells) {
    cell.coords.forEach((value, d) => {
      if (value === null) return;
      const parent = cellKey(cell.coords.map((v, i) => (i === d ? null : v)));
      if (!cells.has(parent)) throw new Error(`margin ${parent} missing`);
      const id = `${parent}#${d}`;
      const line = lines.get(id) ?? { members: [parent] };
      line.members.push(key);
      lines.set(id, line);
    });
  }
  return [...lines.values()];
}

const EPSILON = 1e-9;

/**
 * The suppressed cells that the published figures determine exactly: e_i lies in the row
 * space of the line equations restricted to the unknowns (Gauss–Jordan elimination; the
 * coefficients are small integers, so floating point with a tolerance is exact enough).
 */
export function determinedCells(cells: Map<string, TableCell>, suppressed: ReadonlySet<string>, lines: Line[]): string[] {
  const unknowns = [...suppressed];
  const column = new Map(unknowns.map((k, i) => [k, i]));
  const pivots = new Map<number, Map<number, number>>();
  for (const line of lines) {
    const row = new Map<number, number>();
    line.members.forEach((key, i) => {
      const col = column.get(key);
      if (col !== undefined) row.set(col, i === 0 ? 1 : -1);
    });
    if (row.size === 0) continue;
    for (const col of [...row.keys()]) {
      const pivot = pivots.get(col);
      const factor = row.get(col);
      if (!pivot || factor === undefined) continue;
      for (const [c, v] of pivot) {
        const value = (row.get(c) ?? 0) - factor * v;
        if (Math.abs(value) < EPSILON) row.delete(c);
        else row.set(c, value);
      }
    }
    if (row.size === 0) continue;
    let pivotCol = -1;
    let pivotValue = 0;
    for (const [c, v] of row) {
      if (Math.abs(v) > Math.abs(pivotValue)) {
        pivotCol = c;
        pivotValue = v;
      }
    }
    for (const [c, v] of row) row.set(c, v / pivotValue);
    for (const other of pivots.values()) {
      const factor = other.get(pivotCol);
      if (factor === undefined) continue;
      for (const [c, v] of row) {
        const value = (other.get(c) ?? 0) - factor * v;
        if (Math.abs(value) < EPSILON) other.delete(c);
        else other.set(c, value);
      }
    }
    pivots.set(pivotCol, row);
  }
  return [...pivots].filter(([, row]) => row.size === 1).map(([col]) => unknowns[col]!);
}

/**
 * The keys of the cells to suppress. `cells` must hold every cell with cases of the table
 * and of all its margins (absent cells are known zeros).
 */
export function suppress(cells: Map<string, TableCell>, threshold: number, maxUnknowns = 500, maxRounds = 25): Set<string> {
  const suppressed = new Set<string>();
  for (const [key, cell] of cells) if (cell.count < threshold) suppressed.add(key);
  if (suppressed.size === 0) return suppressed;
  // A table mostly made of small cells says nothing once protected; refuse it before the work.
  if (suppressed.size > maxUnknowns) throw new TooFineGrained(maxUnknowns);
  const lines = linesOf(cells);
  const linesThrough = new Map<string, Line[]>();
  for (const line of lines) {
    for (const key of line.members) {
      const through = linesThrough.get(key);
      if (through) through.push(line);
      else linesThrough.set(key, [line]);
    }
  }

  // Smallest count first; among equals the more detailed cell, then a stable order.
  const depth = (key: string) => cells.get(key)!.coords.filter((v) => v !== null).length;
  const cheapest = (keys: Iterable<string>): string | undefined => {
    let best: string | undefined;
    for (const key of keys) {
      if (suppressed.has(key)) continue;
      if (
        best === undefined ||
        cells.get(key)!.count < cells.get(best)!.count ||
        (cells.get(key)!.count === cells.get(best)!.count &&
          (depth(key) > depth(best) || (depth(key) === depth(best) && key < best)))
      )
        best = key;
    }
    return best;
  };

  for (let round = 0; ; round += 1) {
    if (round >= maxRounds) throw new TooFineGrained(maxUnknowns);
    for (let changed = true; changed;) {
      changed = false;
      for (const line of lines) {
        if (line.members.filter((k) => suppressed.has(k)).length !== 1) continue;
        const pick = cheapest(line.members);
        if (pick) {
          suppressed.add(pick);
          changed = true;
        }
      }
    }
    if (suppressed.size > maxUnknowns) throw new TooFineGrained(maxUnknowns);
    const determined = determinedCells(cells, suppressed, lines);
    if (determined.length === 0) return suppressed;
    for (const key of determined) {
      const near = (linesThrough.get(key) ?? []).flatMap((l) => l.members);
      const pick =
        cheapest(near) ?? cheapest([...suppressed].flatMap((k) => (linesThrough.get(k) ?? []).flatMap((l) => l.members)));
      if (pick) {
        suppressed.add(pick);
      } else {
        // Nothing left to hide it behind: publish no figure at all rather than this one.
        for (const k of cells.keys()) suppressed.add(k);
        return suppressed;
      }
    }
  }
}
