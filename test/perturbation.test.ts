// The cell key method's pure parts: the published table is what the noise follows, the
// measures of one cell draw independent noise from its one key, and sums move by the
// published share of their largest contribution.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  addKey,
  COUNT_PERTURBATION,
  countNoise,
  KEY_RANGE,
  MAGNITUDE,
  magnitudeNoise,
  position,
} from '../src/modules/statistics/perturbation.ts';

const keys = (n: number) => Array.from({ length: n }, () => randomBytes(4).readUInt32BE(0));

describe('the perturbation table', () => {
  it('noise follows the published probabilities for random cell keys', () => {
    const sample = keys(40_000);
    for (const row of COUNT_PERTURBATION) {
      // The last row applies to every larger count too.
      for (const trueValue of row === COUNT_PERTURBATION.at(-1) ? [row.trueValue, row.trueValue + 7] : [row.trueValue]) {
        const seen = new Map<number, number>();
        for (const key of sample) {
          const noise = countNoise(trueValue, position(key, 'count'));
          seen.set(noise, (seen.get(noise) ?? 0) + 1);
        }
        expect([...seen.keys()].sort()).toEqual(row.noise.map((n) => n.noise).sort());
        for (const { noise, probability } of row.noise) {
          // 40,000 draws: the share is within ±0.015 of p (over 6 standard deviations).
          expect(Math.abs(seen.get(noise)! / sample.length - probability), `${trueValue} ${noise}`).toBeLessThan(0.015);
        }
      }
    }
    expect(countNoise(0, 0.99)).toBe(0);
  });

  it('the same cases give the same key whatever their order; one case more gives another key', () => {
    const records = keys(20);
    const forward = records.reduce(addKey, 0);
    const backward = [...records].reverse().reduce(addKey, 0);
    expect(forward).toBe(backward);
    expect(forward).toBeLessThan(KEY_RANGE);
    expect(addKey(forward, keys(1)[0]!)).not.toBe(forward);
  });

  it('the measures of one cell draw unrelated positions from its key', () => {
    const sample = keys(20_000);
    const corr = (a: number[], b: number[]) => {
      const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
      const [ma, mb] = [mean(a), mean(b)];
      let num = 0;
      let da = 0;
      let db = 0;
      a.forEach((v, i) => {
        num += (v - ma) * (b[i]! - mb);
        da += (v - ma) ** 2;
        db += (b[i]! - mb) ** 2;
      });
      return num / Math.sqrt(da * db);
    };
    const count = sample.map((k) => position(k, 'count'));
    for (const measure of ['persons', 'scored', 'planned:TRAINING', 'actual:TRAINING', 'score:composite']) {
      const other = sample.map((k) => position(k, measure));
      expect(Math.abs(corr(count, other)), measure).toBeLessThan(0.05);
      expect(Math.min(...other)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...other)).toBeLessThan(1);
    }
  });

  it('a sum moves by the published share of its largest contribution, up or down, never by nothing', () => {
    const moves = keys(10_000).map((k) => magnitudeNoise(1_000, position(k, 'planned:TRAINING')));
    for (const move of moves) {
      expect(Math.abs(move)).toBeGreaterThanOrEqual(MAGNITUDE.share * MAGNITUDE.factorMin * 1_000 - 1e-9);
      expect(Math.abs(move)).toBeLessThanOrEqual(MAGNITUDE.share * MAGNITUDE.factorMax * 1_000 + 1e-9);
    }
    const up = moves.filter((m) => m > 0).length / moves.length;
    expect(Math.abs(up - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(moves.reduce((a, b) => a + b, 0) / moves.length)).toBeLessThan(5);
  });
});
