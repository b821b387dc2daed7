// The gateway's memory of the directory (organisations and programmes by code) for what pages
// show of them: every case of a page names its member state, partner and programme, and a
// query per kind per page cost the embedded store a scan of each collection (`$in` is not
// pushed down). They change rarely and only through events, and an event carries the whole
// new document: this gateway's own as it commits, another gateway's when this one's follower
// of the log reads it (the webhook job polls the log every second on every gateway). An entry
// is never replaced by an older version of its document (a read that started before an event
// may answer after it), and lives a minute at most, should nothing follow the log. Token
// checks keep their own short cache (organisation.service.ts).

const DIRECTORY_TTL_MS = 60_000;

type Versioned = { _id: string; version: number };

export class DirectoryCache<T extends Versioned> {
  private readonly entries = new Map<string, { at: number; doc: T }>();

  /**
   * @param collection the collection whose documents are remembered (events' changes to it update them)
   * @param fromStore the document as the service presents it, from the stored one
   */
  constructor(
    private readonly collection: string,
    private readonly fromStore: (stored: T) => T,
    private readonly now: () => number = Date.now,
  ) {}

  /** The documents of `codes` in order: remembered ones, the rest read in one batch (`load`); null for none. */
  async getMany(codes: readonly string[], load: (missing: string[]) => Promise<Map<string, T>>): Promise<(T | null)[]> {
    const at = this.now();
    const found = new Map<string, T>();
    for (const code of codes) {
      const entry = this.entries.get(code);
      if (entry && at - entry.at < DIRECTORY_TTL_MS) found.set(code, entry.doc);
    }
    const missing = [...new Set(codes.filter((c) => !found.has(c)))];
    if (missing.length > 0) {
      for (const [code, doc] of await load(missing)) found.set(code, this.remember(doc, at));
    }
    return codes.map((c) => found.get(c) ?? null);
  }

  /**
   * The document of `code` if remembered and fresh, without waiting: a page's resolvers answer
   * from it as they are called (no promise, no batch); undefined sends them to `getMany`.
   */
  remembered(code: string): T | undefined {
    const entry = this.entries.get(code);
    return entry && this.now() - entry.at < DIRECTORY_TTL_MS ? entry.doc : undefined;
  }

  /** An event of the log (read or committed by this gateway): its documents of this collection, as they now are. */
  observe(event: { changes: readonly { collection: string; doc: Versioned }[] }): void {
    const at = this.now();
    for (const change of event.changes) {
      if (change.collection === this.collection) this.remember(this.fromStore(change.doc as T), at);
    }
  }

  /** Remembers `doc` unless a newer version of it is remembered; answers the one remembered. */
  private remember(doc: T, at: number): T {
    const current = this.entries.get(doc._id);
    if (current && current.doc.version > doc.version) return current.doc;
    this.entries.set(doc._id, { at, doc });
    return doc;
  }
}
