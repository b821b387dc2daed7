// The suppression algorithm on its own, checked against an independent exact solver:
// no suppressed cell may be determined by the published cells of the table and its margins.
import { describe, expect, it } from 'vitest';
import { cellKey, determinedCells, suppress, TooFineGrained, type TableCell } from '../src/modules/statistics/suppression.ts';

/** Cells of a table and all its margins from leaf counts (coords → count). */
function withMargins(leaves: [string[], number][]): Map<string, TableCell> {
  const cells = new Map<string, TableCell>();
  for (const [coords, count] of leaves) {
    if (count === 0) continue;
    for (let mask = 0; mask < 2 ** coords.length; mask += 1) {
      const c = coords.map((v, i) => (mask & (1 << i) ? v : null));
      const key = cellKey(c);
      const cell = cells.get(key) ?? { coords: c, count: 0 };
      cell.count += count;
      cells.set(key, cell);
    }
  }
  return cells;
}

/** Exact rational Gauss–Jordan with BigInt: which unknowns the line equations determine. */
function exactlyDetermined(cells: Map<string, TableCell>, hidden: Set<string>): string[] {
  const unknowns = [...hidden];
  const col = new Map(unknowns.map((k, i) => [k, i]));
  type Q = [bigint, bigint];
  const norm = ([n, d]: Q): Q => {
    if (n === 0n) return [0n, 1n];
    const g = (a: bigint, b: bigint): bigint => (b === 0n ? (a < 0n ? -a : a) : g(b, a % b));
    const k = g(n, d) * (d < 0n ? -1n : 1n);
    return [n / k, d / k];
  };
  const sub = (a: Q, b: Q): Q => norm([a[0] * b[1] - b[0] * a[1], a[1] * b[1]]);
  const mul = (a: Q, b: Q): Q => norm([a[0] * b[0], a[1] * b[1]]);
  const div = (a: Q, b: Q): Q => norm([a[0] * b[1], a[1] * b[0]]);
  const rows: Q[][] = [];
  for (const [key, cell] of cells) {
    cell.coords.forEach((v, d) => {
      if (v !== null) return;
      const children = [...cells.entries()].filter(
        ([, c]) => c.coords[d] !== null && c.coords.every((x, i) => i === d || x === cell.coords[i]),
      );
      if (children.length === 0) return;
      const row: Q[] = unknowns.map(() => [0n, 1n]);
      if (col.has(key)) row[col.get(key)!] = [1n, 1n];
      for (const [k] of children) if (col.has(k)) row[col.get(k)!] = [-1n, 1n];
      if (row.some(([n]) => n !== 0n)) rows.push(row);
    });
  }
  let r = 0;
  const pivotCols: number[] = [];
  for (let c = 0; c < unknowns.length && r < rows.length; c += 1) {
    const p = rows.findIndex((row, i) => i >= r && row[c]![0] !== 0n);
    if (p < 0) continue;
    [rows[r], rows[p]] = [rows[p]!, rows[r]!];
    const pivot = rows[r]![c]!;
    rows[r] = rows[r]!.map((x) => div(x, pivot));
    for (let i = 0; i < rows.length; i += 1) {
      if (i === r || rows[i]![c]![0] === 0n) continue;
      const f = rows[i]![c]!;
      rows[i] = rows[i]!.map((x, j) => sub(x, mul(f, rows[r]![j]!)));
    }
    pivotCols.push(c);
    r += 1;
  }
  return pivotCols
    .map((c, i) => [c, rows[i]!] as const)
    .filter(([, row]) => row.filter(([n]) => n !== 0n).length === 1)
    .map(([c]) => unknowns[c]!);
}

function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('cell suppression', () => {
  it('hides a small cell together with enough others that no line gives it away', () => {
    const cells = withMargins([
      [['AF', 'Q3'], 6],
      [['AF', 'Q4'], 3],
      [['IQ', 'Q3'], 5],
      [['IQ', 'Q4'], 7],
    ]);
    const hidden = suppress(cells, 5);
    expect(hidden.has(cellKey(['AF', 'Q4']))).toBe(true);
    expect(hidden.size).toBe(4);
    expect(exactlyDetermined(cells, hidden)).toEqual([]);
  });

  it('the audit finds a cell that two suppressed blocks pin down through a bridge, which the line rule misses', () => {
    const leaves: [string[], number][] = [];
    for (const r of ['r1', 'r2', 'r3', 'r4']) for (const c of ['c1', 'c2', 'c3', 'c4']) leaves.push([[r, c], 10]);
    const cells = withMargins(leaves);
    const hidden = new Set(
      [
        ['r1', 'c1'],
        ['r1', 'c2'],
        ['r2', 'c1'],
        ['r2', 'c2'],
        ['r3', 'c3'],
        ['r3', 'c4'],
        ['r4', 'c3'],
        ['r4', 'c4'],
        ['r2', 'c3'],
      ].map(cellKey),
    );
    expect(exactlyDetermined(cells, hidden)).toEqual([cellKey(['r2', 'c3'])]);
    expect(determinedCells(cells, hidden, linesFor(cells))).toEqual([cellKey(['r2', 'c3'])]);
  });

  it('refuses a table made mostly of small cells instead of working through it', () => {
    const leaves: [string[], number][] = [];
    for (let a = 0; a < 30; a += 1) for (let b = 0; b < 30; b += 1) leaves.push([[`a${a}`, `b${b}`], 1]);
    expect(() => suppress(withMargins(leaves), 5)).toThrow(TooFineGrained);
  });

  it('on random sparse tables of two and three dimensions, no suppressed cell is determined and no figure under the threshold is published', () => {
    const next = random(7);
    for (let round = 0; round < 40; round += 1) {
      const dims = round % 2 === 0 ? 2 : 3;
      const sizes = Array.from({ length: dims }, () => 2 + Math.floor(next() * 3));
      const leaves: [string[], number][] = [];
      const walk = (prefix: string[]) => {
        if (prefix.length === dims) {
          const roll = next();
          leaves.push([prefix, roll < 0.3 ? 0 : roll < 0.6 ? 1 + Math.floor(next() * 4) : 5 + Math.floor(next() * 20)]);
          return;
        }
        for (let v = 0; v < sizes[prefix.length]!; v += 1) walk([...prefix, `v${v}`]);
      };
      walk([]);
      const cells = withMargins(leaves);
      const hidden = suppress(cells, 5);
      for (const [key, cell] of cells) if (cell.count < 5) expect(hidden.has(key)).toBe(true);
      expect(exactlyDetermined(cells, hidden), `round ${round}`).toEqual([]);
    }
  });
});

/** The line equations as suppression.ts builds them, for calling determinedCells directly. */
function linesFor(cells: Map<string, TableCell>) {
  const lines = new Map<string, { members: string[] }>();
  for (const [key, cell] of cells) {
    cell.coords.forEach((v, d) => {
      if (v === null) return;
      const parent = cellKey(cell.coords.map((x, i) => (i === d ? null : x)));
      const id = `${parent}#${d}`;
      const line = lines.get(id) ?? { members: [parent] };
      line.members.push(key);
      lines.set(id, line);
    });
  }
  return [...lines.values()];
}
