// Sealed segments of the event log: for each block of `blockSize` consecutive sequence
// numbers and each audience marker, the events of the block that marker may read, stored
// once the block is complete as one compressed document. A page of the change feed is
// then a few primary-key lookups, which every store answers from an index (the embedded
// store scans the whole collection for anything else), and costs what the page holds.
//
// Segments are derived from the log and never change: any gateway may seal a block
// (an insert against the unique `_id`; a second sealer's duplicate is refused and
// ignored), a block left half-sealed by a crash is sealed again from the log, and the
// seal document is written last, so a block counts as sealed only when all of it is.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BSON, Binary } from 'mongodb';
import { Schema, type Model } from 'mongoose';
import type { StoredEvent } from '../../events/event.model.ts';
import { isDuplicateKey, type Store } from '../../store/store.ts';

/** A part holds at most this much (uncompressed BSON), well under the 16 MiB document limit. */
const PART_BYTES = 4 * 1024 * 1024;

/**
 * Decoded parts remembered, counted in events (least recently used out). Opening a part
 * (inflate, then BSON per event) was most of what a page of the feed cost; a part never
 * changes once written (an erasure destroys the case's key, not the sealed values in the
 * events), so each gateway opens each part once while it is in use.
 */
export const SEGMENT_EVENTS_REMEMBERED = 20_000;

type SegmentDoc = {
  _id: string;
  /** Concatenated BSON events, raw-deflated. */
  events: Binary;
  count: number;
  /** Parts of this marker's segment (on part 0 only); more than one for very large events. */
  parts?: number;
};

type SealDoc = { _id: string; markers: string[]; events: number; at: Date };

// Looked up by `_id` only; no other index.
const segmentSchema = new Schema(
  {
    _id: { type: String, required: true },
    events: { type: Schema.Types.Mixed },
    count: { type: Number },
    parts: { type: Number },
    markers: { type: [String], default: undefined },
    at: { type: Date },
  },
  { collection: 'feed_segments', versionKey: false, strict: false },
);

/** A part opened; `parts: 0` when the marker has no segment in the block (final: the block is sealed). */
type OpenedPart = { events: StoredEvent[]; parts: number };

export class FeedSegments {
  private readonly model: Model<SegmentDoc | SealDoc>;
  private readonly queryOptions: { maxTimeMS: number };
  private readonly opened = new Map<string, OpenedPart>();
  private openedEvents = 0;

  constructor(
    store: Store,
    readonly blockSize: number,
    /** Which audience markers an event is copied under (feed markers, not audit-only ones). */
    private readonly markersOf: (event: StoredEvent) => string[],
  ) {
    this.model = store.model<SegmentDoc | SealDoc>('FeedSegment', segmentSchema);
    this.queryOptions = store.queryOptions;
  }

  /** The block holding a sequence number: block k holds k·size + 1 … (k + 1)·size. */
  blockOf(seq: number): number {
    return Math.floor((seq - 1) / this.blockSize);
  }

  firstOf(block: number): number {
    return block * this.blockSize + 1;
  }

  lastOf(block: number): number {
    return (block + 1) * this.blockSize;
  }

  // The block size is part of every id, so gateways configured differently never read each other's blocks.
  private sealId(block: number): string {
    return `s${this.blockSize}:${String(block).padStart(12, '0')}`;
  }

  private partId(block: number, marker: string, part: number): string {
    return `${this.sealId(block)}:${part}:${marker}`;
  }

  async isSealed(block: number): Promise<boolean> {
    return (
      (await this.model.collection.findOne(
        { _id: this.sealId(block) as never },
        { ...this.queryOptions, projection: { _id: 1 } },
      )) !== null
    );
  }

  /** Seals a block from all of its events, in log order. */
  async seal(block: number, events: readonly StoredEvent[]): Promise<void> {
    if (events.length !== this.blockSize || events.some((e, i) => e._id !== this.firstOf(block) + i)) {
      throw new Error(`sealing block ${block} needs its ${this.blockSize} events in order`);
    }
    const byMarker = new Map<string, Buffer[]>();
    for (const event of events) {
      const bytes = Buffer.from(BSON.serialize(event));
      for (const marker of new Set(this.markersOf(event))) byMarker.set(marker, [...(byMarker.get(marker) ?? []), bytes]);
    }
    const docs: SegmentDoc[] = [];
    for (const [marker, serialised] of byMarker) {
      const parts: Buffer[][] = [[]];
      let size = 0;
      for (const bytes of serialised) {
        if (size + bytes.length > PART_BYTES && parts.at(-1)!.length > 0) {
          parts.push([]);
          size = 0;
        }
        parts.at(-1)!.push(bytes);
        size += bytes.length;
      }
      parts.forEach((part, i) =>
        docs.push({
          _id: this.partId(block, marker, i),
          events: new Binary(deflateRawSync(Buffer.concat(part), { level: 1 })),
          count: part.length,
          ...(i === 0 ? { parts: parts.length } : {}),
        }),
      );
    }
    await this.insertIgnoringDuplicates(docs);
    const seal: SealDoc = { _id: this.sealId(block), markers: [...byMarker.keys()], events: events.length, at: new Date() };
    await this.insertIgnoringDuplicates([seal]);
  }

  /** The events of a sealed block that any of `markers` may read (all of them when null), in log order, each once. */
  async read(block: number, markers: readonly string[] | null): Promise<StoredEvent[]> {
    if (!markers) {
      const seal = (await this.model.collection.findOne(
        { _id: this.sealId(block) as never },
        this.queryOptions,
      )) as SealDoc | null;
      if (!seal) throw new Error(`block ${block} is not sealed`);
      return this.read(block, seal.markers);
    }
    const firsts = await Promise.all(markers.map((m) => this.part(block, m, 0)));
    const rest = await Promise.all(
      markers.flatMap((m, i) => Array.from({ length: Math.max(0, firsts[i]!.parts - 1) }, (_, p) => this.part(block, m, p + 1))),
    );
    const parts = [...firsts, ...rest].filter((part) => part.parts > 0);
    // One marker's part is in log order already; several are merged, each event once.
    if (parts.length === 1) return parts[0]!.events;
    const seen = new Set<number>();
    const events: StoredEvent[] = [];
    for (const part of parts) {
      for (const event of part.events) {
        if (seen.has(event._id)) continue;
        seen.add(event._id);
        events.push(event);
      }
    }
    return events.sort((a, b) => a._id - b._id);
  }

  /**
   * A part of a marker's segment of a sealed block, opened (remembered, or read and
   * decoded). A marker without a segment in the block is remembered as such too: a block
   * is read only once sealed, and its segments are all written before its seal.
   */
  private async part(block: number, marker: string, part: number): Promise<OpenedPart> {
    const id = this.partId(block, marker, part);
    const known = this.opened.get(id);
    if (known) {
      this.opened.delete(id);
      this.opened.set(id, known);
      return known;
    }
    const doc = (await this.model.collection.findOne({ _id: id as never }, this.queryOptions)) as SegmentDoc | null;
    const opened = doc ? { events: decode(doc.events), parts: doc.parts ?? 1 } : { events: [], parts: 0 };
    if (!this.opened.has(id)) {
      this.opened.set(id, opened);
      this.openedEvents += opened.events.length;
      for (const [oldest, { events }] of this.opened) {
        if (this.openedEvents <= SEGMENT_EVENTS_REMEMBERED || oldest === id) break;
        this.opened.delete(oldest);
        this.openedEvents -= events.length;
      }
    }
    return opened;
  }

  private async insertIgnoringDuplicates(docs: (SegmentDoc | SealDoc)[]): Promise<void> {
    if (docs.length === 0) return;
    try {
      await this.model.collection.insertMany(docs as never[], { ordered: false });
    } catch (error) {
      // Sealed before (by another gateway, or by an earlier attempt): the same content.
      if (!isDuplicateKey(error)) throw error;
    }
  }
}

function decode(payload: Binary): StoredEvent[] {
  const bytes = inflateRawSync(Buffer.from(payload.buffer));
  const events: StoredEvent[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const length = bytes.readInt32LE(offset);
    events.push(BSON.deserialize(bytes.subarray(offset, offset + length)) as StoredEvent);
    offset += length;
  }
  return events;
}
