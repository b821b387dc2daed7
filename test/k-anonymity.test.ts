// The extract builder's k-anonymity on generated data: every combination of the released
// quasi-identifier values covers at least k rows, whatever the data, none has its rows all
// share one closure reason, each closure reason released is held by k rows, and what is left
// out is counted.
import { describe, expect, it } from 'vitest';
import { anonymise, type QuasiRow } from '../src/modules/extracts/extract.anonymise.ts';
import { mulberry32 } from '../src/seed/random.ts';

function rowsOf(seed: number, count: number): QuasiRow[] {
  const next = mulberry32(seed);
  return Array.from({ length: count }, () => {
    const age = Math.floor(next() * 70);
    const month = 1 + Math.floor(next() * 12);
    const country = ['AF', 'IQ', 'MA', 'NG', 'ET', 'GE'][Math.floor(next() * 6)]!;
    return {
      levels: [
        [country, ['AF', 'IQ', 'GE'].includes(country) ? 'AS' : 'AF', '*'],
        [`${Math.floor(age / 5) * 5}`, `${Math.floor(age / 10) * 10}`, `${Math.floor(age / 20) * 20}`, '*'],
        [`2026-${String(month).padStart(2, '0')}`, `2026-Q${Math.ceil(month / 3)}`, '2026', '*'],
        [next() < 0.5 ? 'FEMALE' : 'MALE', '*'],
      ],
      // Closure reasons: most cases open; every returnee to Georgia re-migrated.
      sensitive: country === 'GE' ? 'RE_MIGRATED' : next() < 0.7 ? '' : ['DECEASED', 'OPTED_OUT'][Math.floor(next() * 2)]!,
    };
  });
}

describe('k-anonymity of extracts', () => {
  it.each([
    [1, 3, 2],
    [2, 40, 5],
    [3, 400, 5],
    [4, 1000, 10],
    [5, 7, 5],
    [6, 4, 5],
  ])('seed %i: %i rows, k = %i', (seed, count, k) => {
    const rows = rowsOf(seed, count);
    const { chosen, kept, suppressed } = anonymise(rows, 4, k);
    expect(kept.length + suppressed).toBe(count);
    const sizes = new Map<string, number>();
    const reasons = new Map<string, Set<string>>();
    const holding = new Map<string, number>();
    for (const i of kept) {
      const key = JSON.stringify(rows[i]!.levels.map((values, q) => values[chosen[q]!]));
      sizes.set(key, (sizes.get(key) ?? 0) + 1);
      reasons.set(key, (reasons.get(key) ?? new Set()).add(rows[i]!.sensitive!));
      holding.set(rows[i]!.sensitive!, (holding.get(rows[i]!.sensitive!) ?? 0) + 1);
    }
    for (const [key, size] of sizes) expect(size, key).toBeGreaterThanOrEqual(k);
    // No combination's rows all share one closure reason, and each reason released is held by k rows.
    for (const [key, values] of reasons) if (values.size === 1) expect([...values], key).toEqual(['']);
    for (const [reason, held] of holding) expect(held, reason).toBeGreaterThanOrEqual(k);
    // Fewer rows than k: nothing can be released.
    if (count < k) expect(kept).toEqual([]);
    // Without a sensitive value, suppression stays within its allowance whenever generalising could
    // have helped (a closure reason fewer than k cases have is left out whatever the allowance).
    const plain = anonymise(
      rows.map((r) => ({ levels: r.levels })),
      4,
      k,
    );
    if (count >= k) expect(plain.suppressed).toBeLessThanOrEqual(Math.max(k, Math.floor(count * 0.05)));
  });
});
