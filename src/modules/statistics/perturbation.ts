// The cell key method (ABS TableBuilder, ONS 2021 census) as this gateway applies it. Pure:
// keys and true values in, noise out. docs/statistics.md explains the choices and what
// they guarantee; `METHOD` is what every table publishes about them.
//
// Every case carries a secret random record key (record-keys.ts). A cell's key is the sum
// of its cases' keys modulo KEY_RANGE, so the same cases always give the same key and the
// same noise. The noise is not read from that sum but from a keyed hash of it (scrambleKey):
// sums of overlapping sets of cases are related, their hashes are not, so a cell that gains
// or loses one case draws a fresh, unrelated noise.
// The noise is drawn for the *finest* cells only (every case attribute a table can group or
// filter by); a published figure is the sum of its finest cells' protected values. So every
// way of computing a figure from several tables gives the same protected value, and
// combining tables never averages the noise away.
import { createHmac } from 'node:crypto';

/** Record keys are uniform in 0 … KEY_RANGE − 1. */
export const KEY_RANGE = 2 ** 32;

/** The noise added to a finest cell's count, by its true count (the last row: that count and above). */
export const COUNT_PERTURBATION: readonly { trueValue: number; noise: readonly { noise: number; probability: number }[] }[] = [
  {
    trueValue: 1,
    noise: [
      { noise: -1, probability: 0.3 },
      { noise: 0, probability: 0.4 },
      { noise: 1, probability: 0.3 },
    ],
  },
  {
    trueValue: 2,
    noise: [
      { noise: -2, probability: 0.1 },
      { noise: -1, probability: 0.2 },
      { noise: 0, probability: 0.4 },
      { noise: 1, probability: 0.2 },
      { noise: 2, probability: 0.1 },
    ],
  },
];

/** Sums (EUR, survey scores): noise = share × the finest cell's largest contribution × a factor in ±[min, max]. */
export const MAGNITUDE = { share: 0.2, factorMin: 0.5, factorMax: 1 } as const;

const rowFor = (trueValue: number) => COUNT_PERTURBATION.findLast((row) => trueValue >= row.trueValue) ?? COUNT_PERTURBATION[0]!;

const variance = (row: (typeof COUNT_PERTURBATION)[number]) =>
  row.noise.reduce((sum, { noise, probability }) => sum + probability * noise * noise, 0);

/**
 * The largest probability of any one noise value in any row: the most often any guess of a
 * count from its protected value (however many tables it was combined from) can be right.
 */
export const EXACT_RECOVERY_BOUND = Math.max(...COUNT_PERTURBATION.flatMap((row) => row.noise.map((n) => n.probability)));

/** The largest noise variance per case: a figure of n cases has an error with standard deviation ≤ √(this × n). */
export const COUNT_VARIANCE_PER_CASE = Math.max(...COUNT_PERTURBATION.map((row) => variance(row) / row.trueValue));

/** murmur3's finaliser: a bijection on 32-bit integers that mixes every input bit into every output bit. */
function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** FNV-1a of a measure's name: its salt, so each measure of a cell draws its own noise from the one key. */
function salt(measure: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < measure.length; i += 1) h = Math.imul(h ^ measure.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** How a cell key becomes the key its positions are read from (published in the method). */
export const CELL_KEY_HASH = 'HMAC-SHA-256 of the cell key (4 bytes, big-endian) under a secret of the deployment, first 4 bytes';

/**
 * The scrambled cell key: CELL_KEY_HASH. The cell key is a sum, so the keys of sets that share
 * cases are related: a cell with one case more has its key plus that case's record key, and
 * two cells one case moves between keep the sum of their keys. Read as it is, every reading of
 * a cell's noise would narrow where the keys of the cells that share its cases lie, and
 * readings of overlapping sets would add up to more than independent noise gives. Through a
 * keyed hash the positions of different sets are unrelated however they overlap, and nobody
 * without the secret can compute one from a record key.
 */
export function scrambleKey(secret: Uint8Array, cellKey: number): number {
  const key = Buffer.alloc(4);
  key.writeUInt32BE((cellKey % KEY_RANGE) >>> 0);
  return createHmac('sha256', secret).update(key).digest().readUInt32BE(0);
}

/**
 * The cell's position in [0, 1) for one measure, from its scrambled key: that key itself for
 * its count (the published table's lookup), a mixed derivative of it for every other measure.
 */
export function position(scrambledKey: number, measure: string): number {
  const key = scrambledKey % KEY_RANGE;
  return (measure === 'count' ? key : mix32(key + salt(measure))) / KEY_RANGE;
}

/** The cell key of a set of cases: the sum of their record keys modulo KEY_RANGE. */
export const addKey = (cellKey: number, recordKey: number) => (cellKey + recordKey) % KEY_RANGE;

/** The noise for a true count (n ≥ 1; an empty cell has none) at this position. */
export function countNoise(trueValue: number, at: number): number {
  if (trueValue <= 0) return 0;
  const row = rowFor(trueValue);
  let cumulative = 0;
  for (const { noise, probability } of row.noise) {
    cumulative += probability;
    if (at < cumulative) return noise;
  }
  return row.noise.at(-1)!.noise;
}

/** The noise for a sum whose largest single contribution is `top`, at this position. */
export function magnitudeNoise(top: number, at: number): number {
  const sign = at < 0.5 ? -1 : 1;
  const within = (at < 0.5 ? at : at - 0.5) * 2;
  return sign * MAGNITUDE.share * Math.abs(top) * (MAGNITUDE.factorMin + (MAGNITUDE.factorMax - MAGNITUDE.factorMin) * within);
}

/** The published description of the method (StatisticsTable.method). */
export const METHOD = {
  // v2: positions from a keyed hash of the cell key (v1 read them from the cell key itself).
  name: 'cell-key-perturbation-of-finest-cells/v2',
  keyRange: KEY_RANGE,
  cellKeyHash: CELL_KEY_HASH,
  countPerturbation: COUNT_PERTURBATION,
  magnitudeShare: MAGNITUDE.share,
  magnitudeFactorMin: MAGNITUDE.factorMin,
  magnitudeFactorMax: MAGNITUDE.factorMax,
  exactRecoveryBound: EXACT_RECOVERY_BOUND,
  countVariancePerCase: COUNT_VARIANCE_PER_CASE,
};
