// Records the shape of the queries the app sends: which collection, which fields a
// filter names and which it sorts by. Tests use it to count round trips and to check
// that every query is served by a declared index (the embedded store cannot tell us:
// it scans whole collections whatever the indexes).
import { fieldsOf, filterShape, sortShape, type QueryShape } from './query-plan.ts';

export type RecordedQuery = {
  command: string;
  collection: string;
  /** Top-level filter fields, in the order they appear; `$and`/`$or` branches flattened. */
  filterFields: string[];
  /** Equality (or `$in`) fields outside any `$or`. */
  equalityFields: string[];
  sortFields: string[];
  /** What the planner needs: each field's kind of condition, the `$or` branches, the sort with its directions. */
  shape: QueryShape;
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
      const shape: QueryShape = { filter: filterShape(filter), sort: sortShape(sort) };
      this.queries.push({
        command: commandName,
        collection,
        filterFields: fieldsOf(shape.filter),
        equalityFields: shape.filter.conditions.filter((c) => c.kind === 'eq' || c.kind === 'in').map((c) => c.field),
        sortFields: shape.sort.map(([field]) => field),
        shape,
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
      // The stages the planner answers from an index: the $match and $sort the pipeline starts with.
      const pipeline = (command.pipeline ?? []) as Record<string, unknown>[];
      const matches: unknown[] = [];
      let sort: Record<string, unknown> | undefined;
      for (const stage of pipeline) {
        if ('$match' in stage && !sort) matches.push(stage.$match);
        else if ('$sort' in stage && !sort) sort = asObject(stage.$sort);
        else break;
      }
      const filter = matches.length === 1 ? asObject(matches[0]) : matches.length > 1 ? { $and: matches } : {};
      return [{ filter, sort }];
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
