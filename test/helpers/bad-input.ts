// Judging answers to bad input: never a 5xx or a server-side code; a request error answered
// with the status its media type calls for; a value that does not coerce named in the error.
import type { Role } from '../../src/auth/principal.ts';
import { ErrorCode } from '../../src/errors.ts';
import type { GqlResponse } from './gateway.ts';

export const GRAPHQL_RESPONSE = 'application/graphql-response+json';
export const ACCEPTS = [GRAPHQL_RESPONSE, 'application/json'] as const;

/** Callers of every kind, so each field meets roles that may and may not use it. */
export const CALLERS: [string, Role[]][] = [
  ['NL', ['caseworker', 'coordinator']],
  ['P-AF-HOPE', ['partner-officer']],
  ['ERIN-NET', ['network-admin']],
  ['EMN-REG', ['reg-analyst']],
];

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));
const SERVER_CODES = new Set<string>([ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.STORE_UNAVAILABLE]);

/** What is wrong with one answer, or nothing. */
export function problemsOf(response: GqlResponse, expected: { accept: string; invalid?: boolean; variable?: string }): string[] {
  const problems: string[] = [];
  const errors = response.errors ?? [];
  const requestError = response.data === undefined;
  if (response.status >= 500) problems.push(`status ${response.status}`);
  for (const e of errors) {
    const code = e.extensions?.code;
    if (SERVER_CODES.has(code)) problems.push(`${code}: ${e.message}`);
    else if (!KNOWN_CODES.has(code) && !code?.startsWith('PERSISTED_QUERY_')) problems.push(`unknown code ${code}`);
  }
  if (requestError && errors.length === 0) problems.push('neither data nor errors');
  if (requestError && response.status < 500) {
    const status = expected.accept === GRAPHQL_RESPONSE ? 400 : 200;
    if (response.status !== status) problems.push(`request error answered ${response.status}, not ${status}`);
  }
  if (expected.invalid) {
    if (!requestError) problems.push('a value that does not coerce was executed');
    if (errors[0]?.extensions.code !== ErrorCode.BAD_USER_INPUT) problems.push(`code ${errors[0]?.extensions.code}`);
    if (!errors.some((e) => e.message.includes(`"$${expected.variable}"`))) {
      problems.push(`message does not name $${expected.variable}: ${errors[0]?.message}`);
    }
  }
  return problems;
}

/** Runs work over items with at most `size` at once. */
export async function inPool<T>(items: T[], size: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index]!, index);
      }
    }),
  );
}
