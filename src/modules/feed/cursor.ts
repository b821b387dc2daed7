// Feed cursors: a log sequence number, wrapped so clients treat it as opaque (and so a
// later version can carry more without breaking them).
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const PREFIX = 'erin1:';

export function encodeCursor(seq: number): string {
  return Buffer.from(`${PREFIX}${seq}`).toString('base64url');
}

/** The sequence number in a cursor, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): number | undefined {
  if (typeof cursor !== 'string' || cursor.length > 64) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX)) return undefined;
  const digits = text.slice(PREFIX.length);
  if (!/^(0|[1-9]\d{0,15})$/.test(digits)) return undefined;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

function parse(value: unknown): number {
  const seq = typeof value === 'string' ? decodeCursor(value) : undefined;
  if (seq === undefined) {
    throw new GraphQLError('Not a cursor of this feed; pass back an endCursor or cursor you were given.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return seq;
}

export const CursorScalar = new GraphQLScalarType<number, string>({
  name: 'Cursor',
  description: 'An opaque position in the event log.',
  serialize: (value) => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new TypeError('cursor out of range');
    return encodeCursor(value);
  },
  parseValue: parse,
  parseLiteral: (ast) => parse(ast.kind === Kind.STRING ? ast.value : undefined),
});
