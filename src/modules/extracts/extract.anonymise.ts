// k-anonymity by global recoding and suppression (Sweeney's Datafly): while more rows than
// the suppression allowance sit in combinations of quasi-identifiers shared by fewer than
// k rows, the quasi-identifier with the most distinct values is generalised one level (for
// every row alike). Datafly overshoots, so each quasi-identifier is then taken back down as
// far as the allowance still holds. The rows still in small combinations are left out: every
// combination of quasi-identifier values in the result covers at least k rows.
//
// The sensitive value is the closure reason (deceased, re-migrated, …). Whoever knows that a
// person is in a combination, and that their case is closed (the partner and the member state
// know it, and a status column may say it), reads the person's reason off the combination's
// closed rows: so they must be diverse, or the combination counts as too small as well and is
// generalised into others or left out. Diverse: at least DISTINCT_REASONS distinct reasons
// among its closed rows, none on more than MAX_REASON_SHARE of them (at most an even chance
// for whoever guesses the commonest; two reasons alone, nine to one, would say "almost
// certainly"). Open cases hold no reason and count for neither. And a sensitive value fewer
// than k released rows hold is left out with its rows: rare, it would join two extracts.

/** Distinct closure reasons a combination's closed rows must show (distinct l-diversity). */
export const DISTINCT_REASONS = 3;
/** The largest share of a combination's closed rows one closure reason may hold. */
export const MAX_REASON_SHARE = 0.5;

/** Share of the rows that may be left out instead of generalising further (at least k rows). */
export const SUPPRESSION_SHARE = 0.05;

export type QuasiRow = {
  /** Per quasi-identifier, its value at each level (the last level is the suppressed value). */
  levels: string[][];
  /** The row's sensitive value, if the extract holds one ('' when the row has none, e.g. not closed). */
  sensitive?: string;
};

export type Anonymised = {
  /** The level chosen for each quasi-identifier. */
  chosen: number[];
  /** Indices of the rows kept, in the order given. */
  kept: number[];
  suppressed: number;
};

const SEP = '\u0001';

type Group = { size: number; reasons: Map<string, number> };

/** Whether a combination's closed rows keep each one's reason from being guessed (see the top). */
function diverse(group: Group): boolean {
  const counts = [...group.reasons.values()];
  const closed = counts.reduce((sum, n) => sum + n, 0);
  if (closed === 0) return true;
  return counts.length >= DISTINCT_REASONS && Math.max(...counts) <= MAX_REASON_SHARE * closed;
}

export function anonymise(rows: readonly QuasiRow[], quasiIdentifiers: number, k: number): Anonymised {
  const chosen = new Array<number>(quasiIdentifiers).fill(0);
  const top = (q: number) => (rows[0]?.levels[q]?.length ?? 1) - 1;
  const keyOf = (row: QuasiRow, levels: number[]) => row.levels.map((values, q) => values[levels[q]!]).join(SEP);
  const allowance = Math.max(k, Math.floor(rows.length * SUPPRESSION_SHARE));
  /** Per combination: its rows, and how many of them hold each closure reason ('' holds none). */
  const groupsAt = (levels: number[], among: readonly QuasiRow[] = rows) => {
    const groups = new Map<string, Group>();
    for (const row of among) {
      const key = keyOf(row, levels);
      const group = groups.get(key) ?? { size: 0, reasons: new Map<string, number>() };
      group.size += 1;
      const sensitive = row.sensitive ?? '';
      if (sensitive !== '') group.reasons.set(sensitive, (group.reasons.get(sensitive) ?? 0) + 1);
      groups.set(key, group);
    }
    return groups;
  };
  const released = (group: Group) => group.size >= k && diverse(group);
  const outliersAt = (levels: number[]) => {
    let outliers = 0;
    for (const group of groupsAt(levels).values()) if (!released(group)) outliers += group.size;
    return outliers;
  };

  while (outliersAt(chosen) > allowance) {
    let pick = -1;
    let mostDistinct = 1; // generalising a column with one value changes no combination
    for (let q = 0; q < quasiIdentifiers; q += 1) {
      if (chosen[q]! >= top(q)) continue;
      const distinct = new Set(rows.map((r) => r.levels[q]![chosen[q]!])).size;
      if (distinct > mostDistinct) {
        mostDistinct = distinct;
        pick = q;
      }
    }
    if (pick < 0) break; // one combination left: kept only if it has k rows
    chosen[pick]! += 1;
  }
  // Take back what was generalised more than needed, first quasi-identifier first.
  const limit = Math.max(allowance, outliersAt(chosen));
  for (let q = 0; q < quasiIdentifiers; q += 1) {
    while (chosen[q]! > 0) {
      const finer = chosen.map((level, i) => (i === q ? level - 1 : level));
      if (outliersAt(finer) > limit) break;
      chosen[q] = finer[q]!;
    }
  }
  // Left out: the rows of the combinations still too small (or not diverse), and the
  // rows of a sensitive value fewer than k released rows hold, which would join two extracts of
  // the same cases row by row like a unique quasi-identifier; again, until nothing changes.
  let kept = rows.map((_, i) => i);
  for (;;) {
    const among = kept.map((i) => rows[i]!);
    const groups = groupsAt(chosen, among);
    const holding = new Map<string, number>();
    for (const row of among) holding.set(row.sensitive ?? '', (holding.get(row.sensitive ?? '') ?? 0) + 1);
    const next = kept.filter((i) => {
      const row = rows[i]!;
      return released(groups.get(keyOf(row, chosen))!) && holding.get(row.sensitive ?? '')! >= k;
    });
    if (next.length === kept.length) break;
    kept = next;
  }
  return { chosen, kept, suppressed: rows.length - kept.length };
}
