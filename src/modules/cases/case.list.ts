// Lists of cases: filters, orders and cursors, within the caller's scope. A list query is
// built once (listQuery) and answered from the gateway's memory of the list entries
// (case.list-index.ts: the store's own query language, evaluated in memory, after catching
// up with the log), then the page's cases by id: from the gateway's memory of case versions
// where it holds the entry's version, the rest in one query. The store's answer to the same
// query (`case_list` with the scope added) is what the memory's is checked against
// (test/case-list-index.test.ts).
import { z } from 'zod';
import { caseScope } from '../../auth/policy.ts';
import type { Principal } from '../../auth/principal.ts';
import { op, SYSTEM, type TenantScope } from '../../store/tenant.ts';
import { decodeCursor, encodeCursor } from '../../cursor.ts';
import { countryCode, isoInstant, organisationCode, pageSize, parseInput } from '../../validation.ts';
import type { CaseListIndex } from './case.list-index.ts';
import type { CaseListEntry } from './case.list-entry.ts';
import type { CaseDoc } from './case.model.ts';
import type { CaseStatus } from './case.state.ts';
import type { CaseStore } from './case.store.ts';

export type CaseListArgs = {
  filter?: {
    status?: readonly CaseStatus[] | null;
    originCountry?: string | null;
    partner?: string | null;
    memberState?: string | null;
    programme?: string | null;
    updatedSince?: Date | string | null;
    reference?: string | null;
  } | null;
  first?: number | null;
  after?: string | null;
  orderBy?: 'UPDATED_DESC' | 'UPDATED_ASC' | 'CREATED_DESC' | 'REFERENCE_ASC' | null;
};

export type CaseConnection = {
  edges: { cursor: string; node: CaseDoc }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
};

export const MAX_PAGE = 100;

const ORDERS = {
  UPDATED_DESC: { field: 'updatedAt', direction: -1 },
  UPDATED_ASC: { field: 'updatedAt', direction: 1 },
  CREATED_DESC: { field: 'createdAt', direction: -1 },
  REFERENCE_ASC: { field: 'reference', direction: 1 },
} as const;

function encodeCaseCursor(order: keyof typeof ORDERS, doc: CaseListEntry): string {
  const value = doc[ORDERS[order].field];
  return encodeCursor(order, [value instanceof Date ? value.toISOString() : value, doc._id]);
}

function decodeCaseCursor(cursor: string, order: keyof typeof ORDERS): { value: Date | string; id: string } {
  const byReference = ORDERS[order].field === 'reference';
  const [value, id] = decodeCursor(
    cursor,
    order,
    z.tuple([byReference ? z.string() : isoInstant, z.string()]),
    'this list and order',
  );
  return { value: byReference ? value : new Date(value), id };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const referenceSearch = z
  .string()
  .trim()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9-]+$/, 'letters, digits and -');

/**
 * The reference filter: a prefix of the reference, with its member state's code (`NL-2026-0001`)
 * or without it (`2026-0001`, then one prefix per member state the caller can see). Always
 * anchored: a match inside a reference would walk every entry of the caller's list.
 */
async function referenceFilter(
  ref: string,
  p: Principal,
  memberState: string | undefined,
  memberStates: () => Promise<string[]>,
) {
  if (/^[A-Z]{2}-/.test(ref)) return op({ $regex: `^${escapeRegex(ref)}` });
  const states = memberState
    ? [memberState]
    : p.organisation.kind === 'MEMBER_STATE'
      ? [p.organisation.code]
      : await memberStates();
  return op({ $in: states.map((state) => new RegExp(`^${state}-${escapeRegex(ref)}`)) });
}

/** A list query: what the store would be asked (the scope apart), in which order, how many. */
export type ListQuery = {
  /** The filters (what totalCount counts). */
  filter: Record<string, unknown>;
  /** The cursor's position, if there is a cursor: the page holds what matches both. */
  position?: Record<string, unknown>;
  sort: Record<string, 1 | -1>;
  /** The page's size plus one (is there a next page?). */
  limit: number;
  scope: TenantScope;
};

/** The query of a list page (input checked here: a bad filter or cursor is BAD_USER_INPUT). */
export async function listQuery(
  p: Principal,
  args: CaseListArgs,
  /** The member states' codes (for a reference searched without one). */
  memberStates: () => Promise<string[]>,
): Promise<ListQuery> {
  const first = pageSize(args.first, 20, MAX_PAGE);
  const order = args.orderBy ?? 'UPDATED_DESC';
  const { field, direction } = ORDERS[order];
  const f = args.filter ?? {};
  const query: Record<string, unknown> = {};
  if (f.memberState) query.memberState = parseInput(organisationCode, f.memberState, 'memberState');
  if (f.partner) query.partner = parseInput(organisationCode, f.partner, 'partner');
  if (f.status?.length) query.status = op({ $in: [...f.status] });
  if (f.originCountry) query.originCountry = parseInput(countryCode, f.originCountry, 'originCountry');
  if (f.programme) query.programme = parseInput(organisationCode, f.programme, 'programme');
  if (f.updatedSince) query.updatedAt = op({ $gte: new Date(f.updatedSince) });
  if (f.reference) {
    const ref = parseInput(referenceSearch, f.reference, 'reference').toUpperCase();
    query.reference = await referenceFilter(ref, p, query.memberState as string | undefined, memberStates);
  }
  let position: Record<string, unknown> | undefined;
  if (args.after) {
    const cursor = decodeCaseCursor(args.after, order);
    const beyond = direction === -1 ? '$lt' : '$gt';
    position =
      field === 'reference'
        ? { reference: op({ [beyond]: cursor.value }) }
        : { $or: [{ [field]: op({ [beyond]: cursor.value }) }, { [field]: cursor.value, _id: op({ [beyond]: cursor.id }) }] };
  }
  const sort: Record<string, 1 | -1> = field === 'reference' ? { reference: direction } : { [field]: direction, _id: direction };
  return { filter: query, ...(position ? { position } : {}), sort, limit: first + 1, scope: caseScope(p) };
}

/** `filter` within a scope (the caller's tenant policy), as the store would be asked. */
export function scoped(scope: TenantScope, filter: Record<string, unknown>): Record<string, unknown> {
  return scope === SYSTEM ? filter : { $and: [filter, scope.filter] };
}

/** The answer to a list query from the gateway's memory of the entries (case.list-index.ts). */
export function fromIndex(
  index: CaseListIndex,
  q: ListQuery,
): { entries: Promise<CaseListEntry[]>; count: () => Promise<number> } {
  return {
    entries: index.find(scoped(q.scope, q.filter), q.sort, q.limit, q.position),
    count: () => index.count(scoped(q.scope, q.filter), q.sort),
  };
}

/** One page of the cases the principal may see (authorisation is the caller's). */
export async function listCases(
  cases: CaseStore,
  p: Principal,
  args: CaseListArgs,
  /** The member states' codes (for a reference searched without one). */
  memberStates: () => Promise<string[]>,
): Promise<CaseConnection> {
  const order = args.orderBy ?? 'UPDATED_DESC';
  const q = await listQuery(p, args, memberStates);
  const answer = fromIndex(cases.listIndex, q);
  const entries = await answer.entries;
  const first = q.limit - 1;
  const page = entries.slice(0, first);
  // Cursors come from the entries: the positions this query saw.
  const cursors = new Map(page.map((entry) => [entry._id, encodeCaseCursor(order, entry)]));
  const nodes = await cases.ofEntries(p, page);
  const edges = nodes.map((node) => ({ cursor: cursors.get(node._id)!, node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: entries.length > first,
      hasPreviousPage: Boolean(args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: page.length > 0 ? encodeCaseCursor(order, page.at(-1)!) : null,
    },
    totalCount: answer.count,
  };
}
