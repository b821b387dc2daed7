// The gateway's memory of cases by version, for pages of lists. A case at a given version
// is one fixed document (the post-image of the one event that claimed that version), so a
// case remembered at the version a list entry names needs no read; nor do the records
// (plan versions) remembered with it, since every write on a record is a write on its case
// and moves the case to a new version. Filled by the cases and records that pages read and
// by this gateway's own writes; bounded, least recently used first out. Whoever uses a
// remembered document checks it against the reader's scope, as the store would.
import type { StoredEvent } from '../../events/event.model.ts';
import { withImplementationDefaults, type CaseDoc } from './case.model.ts';

type Remembered = { doc: CaseDoc; records: Map<string, unknown> };

/** Collections whose documents are remembered with their case (read by list pages). */
const RECORD_COLLECTIONS = new Set(['plans']);

export const CASES_REMEMBERED = 5000;

export class CaseVersions {
  private readonly entries = new Map<string, Remembered>();

  constructor(private readonly capacity = CASES_REMEMBERED) {}

  /** The case at this version, if remembered. */
  get(id: string, version: number): CaseDoc | undefined {
    const entry = this.entries.get(id);
    if (entry?.doc.version !== version) return undefined;
    this.touch(id, entry);
    return entry.doc;
  }

  /** A case read from the store: remembered unless a newer version is. */
  put(doc: CaseDoc): void {
    const entry = this.entries.get(doc._id);
    if (entry && entry.doc.version >= doc.version) return;
    this.touch(doc._id, { doc, records: new Map() });
  }

  /** A record of a case as it is at the case's version, if remembered. */
  record<T>(caseId: string, caseVersion: number, id: string): T | undefined {
    const entry = this.entries.get(caseId);
    return entry?.doc.version === caseVersion ? (entry.records.get(id) as T | undefined) : undefined;
  }

  /** A record read after its case was seen at this version: remembered with the case at that version. */
  putRecord(caseId: string, caseVersion: number, doc: { _id: string }): void {
    const entry = this.entries.get(caseId);
    if (entry?.doc.version === caseVersion) entry.records.set(doc._id, doc);
  }

  /**
   * An event this gateway committed: each case it wrote, at its new version, with the
   * records it wrote; records remembered at the previous version are still those of this one.
   */
  observe(event: StoredEvent): void {
    for (const change of event.changes) {
      if (change.collection !== 'cases') continue;
      const doc = withImplementationDefaults(change.doc as unknown as CaseDoc);
      const previous = this.entries.get(doc._id);
      if (previous && previous.doc.version >= doc.version) continue;
      const records = previous?.doc.version === doc.version - 1 ? new Map(previous.records) : new Map<string, unknown>();
      for (const other of event.changes) {
        if (RECORD_COLLECTIONS.has(other.collection) && other.doc.caseId === doc._id) records.set(other.doc._id, other.doc);
      }
      this.touch(doc._id, { doc, records });
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private touch(id: string, entry: Remembered): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}
