// Reference sync client for ERIN Exchange: keeps a local copy of everything one
// organisation may see, by following the change feed. Copy it into a member state's
// case-management system and replace `records` and `cursor` with your own storage,
// writing both in one transaction after each page (then a crash replays, never skips).
//
//   const client = new SyncClient({ url: 'https://erin.example/graphql', token: () => getToken() });
//   await client.syncOnce();                       // catch up
//   await client.follow(abortController.signal);   // then keep up

/** What the copy keeps of each kind of record; any fields of the types in schema/. */
export const DEFAULT_STATE = `
  ... on Case { id reference status version memberState { code } partner { code } originCountry needsAssessment
                plan { planVersion status totalEur { amount } } planInForce { planVersion status } updatedAt }
  ... on Contract { id version memberState { code } contractor: partner { code } validTo endedAt }
  ... on Organisation { code kind name active version }
  ... on Programme { code name active perAdult { amount } }
  ... on ExchangeRate { currency rate validFrom version }`;

export type SyncedRecord = { kind: string; id: string; version: number; state: unknown };

type Page = {
  endCursor: string;
  hasMore: boolean;
  changes: { kind: string; aggregateId: string; version: number; removed: boolean; state: unknown }[];
};

export class SyncClient {
  /** `<kind>:<id>` → the record as last seen. */
  readonly records = new Map<string, SyncedRecord>();
  /** The position after the last page applied (null: from the beginning). */
  cursor: string | null = null;

  constructor(
    private readonly options: { url: string; token: () => string | Promise<string>; state?: string; pageSize?: number },
  ) {}

  /** Applies pages until the feed has nothing more; returns the number of changes seen. */
  async syncOnce(): Promise<number> {
    let seen = 0;
    for (;;) {
      const page = await this.page();
      for (const change of page.changes) {
        const key = `${change.kind}:${change.aggregateId}`;
        if (change.removed) this.records.delete(key);
        else if (change.state && change.version >= (this.records.get(key)?.version ?? 0))
          this.records.set(key, { kind: change.kind, id: change.aggregateId, version: change.version, state: change.state });
      }
      this.cursor = page.endCursor;
      seen += page.changes.length;
      if (!page.hasMore) return seen;
    }
  }

  /** Keeps syncing until aborted; errors (a gateway restart, a network outage) are retried. */
  async follow(signal: AbortSignal, intervalMs = 2000): Promise<void> {
    while (!signal.aborted) {
      await this.syncOnce().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  private async page(): Promise<Page> {
    const query = `query Changes($after: Cursor, $first: Int) { changes(after: $after, first: $first) {
      endCursor hasMore changes { kind aggregateId version removed state { __typename ${this.options.state ?? DEFAULT_STATE} } } } }`;
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.options.token()}` },
      body: JSON.stringify({ query, variables: { after: this.cursor, first: this.options.pageSize ?? 500 } }),
    });
    const body = (await response.json()) as { data?: { changes: Page }; errors?: { message: string }[] };
    if (!body.data) throw new Error(`feed: ${body.errors?.map((e) => e.message).join('; ') ?? response.status}`);
    return body.data.changes;
  }
}
