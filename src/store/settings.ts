// What the gateway asks of the store for every write and read. The defaults (config.ts) are for
// a MongoDB 7 replica set (production); the embedded store accepts and ignores them.

export type StoreSettings = {
  /**
   * Members that must have a write before it is acknowledged. `majority` (default): an
   * acknowledged event survives any failover, so the log stays gap-free and its chain
   * intact. With `1` a failover can roll back an event a client was told is committed.
   */
  writeConcern: 'majority' | number;
  /** Acknowledge only once the write is in the members' journals (survives a crash of all of them). */
  journal: boolean;
  /**
   * How long a write waits for its acknowledgement; then the client gets STORE_UNAVAILABLE
   * (the write may still commit: a retry with its idempotency key is answered from the log).
   */
  writeTimeoutMs: number;
  /** `primary` (default): every read sees every acknowledged write. */
  readPreference: 'primary' | 'primaryPreferred';
  /**
   * Read concern of the change feed, subscriptions and webhook dispatch. `majority`
   * (default): they hand out only events no failover can roll back.
   */
  feedReadConcern: 'majority' | 'local';
  /** Time limit of every query on the server (maxTimeMS); then STORE_UNAVAILABLE. */
  maxTimeMs: number;
  /** How long a start waits for its index builds before failing with a clear error. */
  indexBuildTimeoutMs: number;
  /**
   * How long an event's projection belongs to the gateway that committed it: another
   * gateway's reconcile writes the event's documents only after this (see EventLog.reconcile).
   * Longer than any committer takes to get its projection into the store.
   */
  projectionGraceMs: number;
};
