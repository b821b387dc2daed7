// Records the shape of the queries the app sends: which collection, which fields a
// filter names and which it sorts by. Tests use it to count round trips and to check
// that every query is served by a declared index (the embedded store cannot tell us:
// it scans whole collections whatever the indexes).

export type RecordedQuery = {
  command: string;
  collection: string;
  /** Top-level filter fields, in the order they appear; `$and`/`$or` branches flattened. */
  filterFields: string[];
  /** Equality (or `$in`) fields: the ones an index prefix can serve. */
  equalityFields: string[];
  sortFields: string[];
};

const QUERY_COMMANDS = new Set(['find', 'count', 'aggregate', 'update', 'delete', 'findAndModify', 'distinct']);
// Driver housekeeping. getMore and killCursors do count: they are round trips a page must not need.
const IGNORED_COMMANDS = new Set(['ping', 'hello', 'isMaster', 'ismaster', 'endSessions', 'buildInfo']);

export class CommandRecorder {
  /** All commands counted, except driver housekeeping. */
  count = 0;
  /** The names of the last commands counted (for test failure messages). */
  readonly recent: string[] = [];
  readonly queries: RecordedQuery[] = [];
  private keepQueries = true;

  record(commandName: string, command: Record<string, unknown>): void {
    if (IGNORED_COMMANDS.has(commandName)) return;
    this.count += 1;
    this.recent.push(`${commandName} ${String(command[commandName])}`);
    if (this.recent.length > 50) this.recent.shift();
    if (!this.keepQueries || !QUERY_COMMANDS.has(commandName)) return;
    const collection = String(command[commandName]);
    for (const { filter, sort } of extractFilters(commandName, command)) {
      const fields = filterShape(filter);
      this.queries.push({
        command: commandName,
        collection,
        filterFields: fields.all,
        equalityFields: fields.equality,
        sortFields: sort instanceof Map ? [...(sort as Map<string, unknown>).keys()] : sort ? Object.keys(sort) : [],
      });
    }
  }

  /** Counts the commands an action sends. */
  async countDuring<T>(action: () => Promise<T>): Promise<{ result: T; commands: number; names: string[] }> {
    const before = this.count;
    const result = await action();
    const commands = this.count - before;
    return { result, commands, names: this.recent.slice(-commands) };
  }
}

type FilterAndSort = { filter: Record<string, unknown>; sort?: Record<string, unknown> | undefined };

function extractFilters(commandName: string, command: Record<string, unknown>): FilterAndSort[] {
  switch (commandName) {
    case 'find':
      return [{ filter: asObject(command.filter), sort: asOptionalObject(command.sort) }];
    case 'count':
    case 'distinct':
      return [{ filter: asObject(command.query) }];
    case 'findAndModify':
      return [{ filter: asObject(command.query), sort: asOptionalObject(command.sort) }];
    case 'update':
    case 'delete': {
      const list = (command[commandName === 'update' ? 'updates' : 'deletes'] ?? []) as { q?: unknown }[];
      return list.map((entry) => ({ filter: asObject(entry.q) }));
    }
    case 'aggregate': {
      const pipeline = (command.pipeline ?? []) as Record<string, unknown>[];
      const first = pipeline[0];
      const match = first && '$match' in first ? asObject(first.$match) : {};
      const sortStage = pipeline.find((stage) => '$sort' in stage);
      return [{ filter: match, sort: sortStage ? asObject(sortStage.$sort) : undefined }];
    }
    default:
      return [];
  }
}

function asObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function asOptionalObject(value: unknown): Record<string, unknown> | undefined {
  // The driver hands sorts over as a Map.
  if (value instanceof Map) return Object.fromEntries(value) as Record<string, unknown>;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function filterShape(filter: Record<string, unknown>): { all: string[]; equality: string[] } {
  const all: string[] = [];
  const equality: string[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === '$and' && Array.isArray(value)) {
      for (const branch of value) {
        const inner = filterShape(asObject(branch));
        all.push(...inner.all);
        equality.push(...inner.equality);
      }
      continue;
    }
    if (key === '$or' && Array.isArray(value)) {
      // An $or is served when each branch is; record the union of its fields as filter fields.
      for (const branch of value) all.push(...filterShape(asObject(branch)).all);
      continue;
    }
    if (key.startsWith('$')) continue;
    all.push(key);
    if (isEqualityCondition(value)) equality.push(key);
  }
  return { all: [...new Set(all)], equality: [...new Set(equality)] };
}

function isEqualityCondition(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || value instanceof Date) return true;
  if (Array.isArray(value) || '_bsontype' in value) return true;
  const keys = Object.keys(value);
  if (keys.length === 0) return true;
  if (keys.every((k) => !k.startsWith('$'))) return true; // an embedded-document equality (or ObjectId)
  return keys.length === 1 && (keys[0] === '$eq' || keys[0] === '$in');
}
