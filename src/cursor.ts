// Page cursors of the lists (cases, progress, webhook deliveries): a tag naming the list
// (and its order) and the sort position, as base64url JSON, opaque to clients. One codec,
// so every list refuses a cursor of another list, a tampered one or an oversized one the
// same way: BAD_USER_INPUT on `after`. (The change feed's Cursor scalar keeps its own
// stable format: member-state systems store those cursors between syncs.)
import type { z } from 'zod';
import { badInput } from './errors.ts';

/** Longer than any cursor this gateway hands out. */
const MAX_CURSOR_LENGTH = 512;

export function encodeCursor(tag: string, position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([tag, ...position])).toString('base64url');
}

/**
 * The position in a cursor made by `encodeCursor(tag, …)`, checked against `shape`.
 * Anything else (another list's cursor, bad base64, bad JSON, a wrong shape) is the client's
 * mistake, answered as such.
 */
export function decodeCursor<S extends z.ZodType>(cursor: string, tag: string, shape: S, what: string): z.infer<S> {
  const refuse = () =>
    badInput('The cursor is not valid for this list.', [{ path: 'after', message: `not a cursor of ${what}` }]);
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH) throw refuse();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refuse();
  }
  if (!Array.isArray(decoded) || decoded[0] !== tag) throw refuse();
  const position = shape.safeParse(decoded.slice(1));
  if (!position.success) throw refuse();
  return position.data;
}
