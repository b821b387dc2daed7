// The gateway's memory of the directory (organisations and programmes by code) for what pages
// show of them: every case of a page names its member state, partner and programme, and a
// query per kind per page cost the embedded store a scan of each collection (`$in` is not
// pushed down). They change rarely and only through events, so an entry stays until an
// organisation, contract or programme event says otherwise: this gateway's own at once (its
// commits), another gateway's when this one's follower of the log reads it (the webhook job
// polls the log every second on every gateway). A minute at most in any case, should nothing
// follow the log. Token checks keep their own short cache (organisation.service.ts).

const DIRECTORY_TTL_MS = 60_000;
const DIRECTORY_AGGREGATES = new Set(['organisation', 'contract', 'programme']);

export class DirectoryCache<T> {
  private readonly entries = new Map<string, { at: number; doc: T | null }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The documents of `codes` in order: remembered ones, the rest read in one batch (`load`). */
  async getMany(codes: readonly string[], load: (missing: string[]) => Promise<Map<string, T>>): Promise<(T | null)[]> {
    const at = this.now();
    const missing = [...new Set(codes.filter((c) => !(at - (this.entries.get(c)?.at ?? -Infinity) < DIRECTORY_TTL_MS)))];
    if (missing.length > 0) {
      const read = await load(missing);
      for (const code of missing) this.entries.set(code, { at, doc: read.get(code) ?? null });
    }
    return codes.map((c) => this.entries.get(c)?.doc ?? null);
  }

  /** An event of the log (read or committed by this gateway): a directory change forgets everything. */
  observe(event: { aggregateType: string }): void {
    if (DIRECTORY_AGGREGATES.has(event.aggregateType)) this.entries.clear();
  }
}
