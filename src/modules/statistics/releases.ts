// Monthly releases of the statistics (docs/statistics.md, "Releases"). Every table requested
// during a calendar month (UTC) is computed from one frozen set of finest cells, the release's
// snapshot, taken from the cases as they stand when the month begins (the release job, within a
// minute; else the month's first table). So two tables of
// the same month give the same figures whatever changed meanwhile, and the next month's release
// counts a whole month of changes at once: comparing tables shows a month's changes, never one
// case's change of one day.
//
// Storage: the snapshot's finest cells in chunks (`statistics_snapshot_chunks`, `_id`
// `<snapshot id>:<n>`, CHUNK_CELLS cells each, far under the store's document limit), and one
// header per release (`statistics_releases`, `_id` the month, e.g. `2026-12`) naming the
// snapshot. Both are read by `_id` only, the one lookup the embedded store answers from an
// index. A release is claimed the way extract blocks are (extract.blocks.ts): the chunks are
// written under a fresh snapshot id, then the header is inserted; of two gateways (or two
// requests) taking the same release at once one insert wins, both use its snapshot, and the
// loser deletes its chunks. Each gateway keeps the release it last read in memory, keyed by the
// header's snapshot id, and only rereads the header (one primary-key lookup) per table.
//
// Erasure does not touch releases. An erased case keeps what statistics count (its status,
// country, programme …: erasure.service.ts), and its earlier states of those stay in the log,
// which is never rewritten; a snapshot holds nothing of it that the store does not keep anyway.
// Retaking the release at each erasure would make the hourly retention job a release an hour:
// the day-to-day comparison that releases exist to stop.
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey, type Store } from '../../store/store.ts';
import { op } from '../../store/tenant.ts';
import { SCORE_KEYS, type Attribute, type Finest, type Magnitude } from './statistics.cells.ts';

/** Finest cells per stored chunk: about 0.5 KB each, so a chunk stays under 1 MB. */
export const CHUNK_CELLS = 1000;
/** Reads of one release before giving up (each lost only when its snapshot is dropped meanwhile). */
const ATTEMPTS = 3;

export type ReleaseDoc = {
  /** The calendar month (UTC) it serves, e.g. `2026-12`. */
  _id: string;
  snapshotId: string;
  /** When the counted cases were read. */
  asOf: Date;
  cells: number;
  chunks: number;
  claimedAt: Date;
};

type StoredMagnitude = { kind: string; sum: number; top: number };

/** A finest cell as stored: maps as lists of objects (no arrays directly inside arrays). */
type StoredCell = {
  attributes: Record<Attribute, string>;
  kinds: string[];
  key: number;
  count: number;
  persons: number;
  planned: StoredMagnitude[];
  actual: StoredMagnitude[];
  scored: number;
  scores: Finest['scores'];
};

export type SnapshotChunkDoc = { _id: string; snapshotId: string; n: number; cells: StoredCell[]; createdAt: Date };

export const releaseSchema = new Schema<ReleaseDoc>(
  {
    _id: { type: String, required: true },
    snapshotId: { type: String, required: true },
    asOf: { type: Date, required: true },
    cells: { type: Number, required: true },
    chunks: { type: Number, required: true },
    claimedAt: { type: Date, required: true },
  },
  { collection: 'statistics_releases', versionKey: false },
);

export const snapshotChunkSchema = new Schema<SnapshotChunkDoc>(
  {
    _id: { type: String, required: true },
    snapshotId: { type: String, required: true },
    n: { type: Number, required: true },
    cells: { type: Schema.Types.Mixed, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'statistics_snapshot_chunks', versionKey: false },
);
// A dropped or superseded snapshot's chunks are deleted by its id; a never-claimed one's by age.
snapshotChunkSchema.index({ snapshotId: 1 });
snapshotChunkSchema.index({ createdAt: 1 });

/** The release a table is computed from. */
export type Release = { month: string; snapshotId: string; asOf: Date; cells: Finest[] };

/** The calendar month (UTC) of an instant: the release that serves it. */
export const monthOf = (at: Date) => at.toISOString().slice(0, 7);

const toStored = (m: Map<string, Magnitude>): StoredMagnitude[] => [...m].map(([kind, { sum, top }]) => ({ kind, sum, top }));
const fromStored = (list: StoredMagnitude[]) => new Map(list.map(({ kind, sum, top }) => [kind, { sum, top }]));

function store(cell: Finest): StoredCell {
  return { ...cell, planned: toStored(cell.planned), actual: toStored(cell.actual) };
}

function restore(cell: StoredCell): Finest {
  const scores = {} as Finest['scores'];
  for (const k of SCORE_KEYS) scores[k] = { sum: cell.scores[k].sum, top: cell.scores[k].top };
  return { ...cell, planned: fromStored(cell.planned), actual: fromStored(cell.actual), scores };
}

export type Releases = ReturnType<typeof createReleases>;

export function createReleases(
  store_: Store,
  now: () => Date,
  /** Every case folded into its finest cells, as they stand now. */
  take: () => Promise<Map<string, Finest>>,
) {
  const Headers: Model<ReleaseDoc> = store_.model('StatisticsRelease', releaseSchema);
  const Chunks: Model<SnapshotChunkDoc> = store_.model('StatisticsSnapshotChunk', snapshotChunkSchema);

  /** The release this gateway read last (reread only when the stored header names another snapshot). */
  let cached: Release | undefined;
  /** One read or take at a time per gateway: concurrent tables wait for it. */
  let pending: Promise<Release> | undefined;

  async function deleteSnapshot(snapshotId: string) {
    await Chunks.collection.deleteMany({ snapshotId });
  }

  /** Deletes a release's header (only if it still names this snapshot), then its chunks. */
  async function dropRelease(header: Pick<ReleaseDoc, '_id' | 'snapshotId'>) {
    await Headers.collection.deleteOne({ _id: header._id as never, snapshotId: header.snapshotId });
    await deleteSnapshot(header.snapshotId);
    if (cached?.snapshotId === header.snapshotId) cached = undefined;
  }

  /** The snapshot a header names, or undefined when a chunk is gone (dropped meanwhile). */
  async function load(header: ReleaseDoc): Promise<Release | undefined> {
    if (cached?.snapshotId === header.snapshotId) return cached;
    const cells: Finest[] = [];
    for (let n = 0; n < header.chunks; n += 1) {
      const chunk = await Chunks.findById(`${header.snapshotId}:${n}`).lean<SnapshotChunkDoc>();
      if (!chunk) return undefined;
      for (const cell of chunk.cells) cells.push(restore(cell));
    }
    if (cells.length !== header.cells) return undefined;
    cached = { month: header._id, snapshotId: header.snapshotId, asOf: header.asOf, cells };
    return cached;
  }

  /** Takes the month's snapshot and claims the release with it; the winner's if another claimed first. */
  async function takeAndClaim(month: string): Promise<Release | undefined> {
    const asOf = now();
    const cells = [...(await take()).values()];
    const snapshotId = randomUUID();
    const chunks = Math.ceil(cells.length / CHUNK_CELLS);
    for (let n = 0; n < chunks; n += 1) {
      await Chunks.collection.insertOne({
        _id: `${snapshotId}:${n}` as never,
        snapshotId,
        n,
        cells: cells.slice(n * CHUNK_CELLS, (n + 1) * CHUNK_CELLS).map(store),
        createdAt: now(),
      });
    }
    const header: ReleaseDoc = { _id: month, snapshotId, asOf, cells: cells.length, chunks, claimedAt: now() };
    try {
      await Headers.collection.insertOne(header as never);
    } catch (error) {
      await deleteSnapshot(snapshotId);
      if (!isDuplicateKey(error)) throw error;
      // Another request claimed the release first: its snapshot is the month's.
      return undefined;
    }
    cached = { month, snapshotId, asOf, cells };
    // The months before are superseded: their snapshots are only copies of older states.
    const older = await Headers.find({ _id: op({ $lt: month }) }).lean<ReleaseDoc[]>();
    for (const old of older) await dropRelease(old);
    return cached;
  }

  async function current(): Promise<Release> {
    const month = monthOf(now());
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      const header = await Headers.findById(month).lean<ReleaseDoc>();
      const release = header ? await load(header) : await takeAndClaim(month);
      if (release) return release;
    }
    throw new Error(`The statistics release ${month} kept being dropped while it was taken; try again.`);
  }

  return {
    /**
     * The release of the current month: the cached one when the stored header still names it,
     * else read by `_id` (or taken and claimed when the month has none yet).
     */
    current(): Promise<Release> {
      pending ??= current().finally(() => {
        pending = undefined;
      });
      return pending;
    },

    /**
     * Housekeeping: chunks older than `olderThan` of snapshots no header names (a take that
     * stopped between writing its chunks and claiming, or between losing and deleting them).
     */
    async purgeUnclaimed(olderThan: Date): Promise<void> {
      const claimed = new Set((await Headers.find({ _id: op({ $gte: '' }) }).lean<ReleaseDoc[]>()).map((h) => h.snapshotId));
      const old = await Chunks.find({ createdAt: op({ $lt: olderThan }) })
        .select('snapshotId')
        .lean<Pick<SnapshotChunkDoc, '_id' | 'snapshotId'>[]>();
      for (const snapshotId of new Set(old.map((c) => c.snapshotId))) {
        if (!claimed.has(snapshotId)) await deleteSnapshot(snapshotId);
      }
    },
  };
}
