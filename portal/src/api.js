// The gateway's API: GraphQL over HTTP with the signed-in person's token, and the evidence
// endpoint. Reads are kept (encrypted) for offline use and shown from there, marked stale,
// when the link is down.
import { accessToken, timeoutSince } from './auth.js';
import { recall, remember } from './vault.js';

export class ApiError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code;
    this.reason = errors[0]?.extensions?.reason;
  }
}

/** The link is down (or the gateway unreachable): the write stays in the outbox. */
export class OfflineError extends Error {}

let onUnauthenticated = () => undefined;
export const whenUnauthenticated = (handler) => (onUnauthenticated = handler);

/**
 * One GraphQL request. `signal` (reads) gives up on it when the link stalls: no answer, or an
 * answer that stops coming, is then the same as no connection.
 */
async function post(body, signal) {
  const token = await accessToken();
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });
  } catch {
    throw new OfflineError('offline');
  }
  const json = await response.json().catch(() => {
    if (signal?.aborted) throw new OfflineError('offline');
    return { errors: [{ message: `HTTP ${response.status}`, extensions: { code: 'INTERNAL_SERVER_ERROR' } }] };
  });
  if (json.errors?.length) {
    const error = new ApiError(json.errors);
    if (error.code === 'UNAUTHENTICATED') onUnauthenticated();
    throw error;
  }
  return json.data;
}

export const gql = (query, variables = {}) => post({ query, variables });

/**
 * A read, given up after the portal's timeout (ERIN_PORTAL_TIMEOUT): it is shown from what was
 * kept, or the page says there is no connection and offers to try again, never a blank page.
 * Writes are not: they wait in the outbox, which sends them again with the same key.
 */
const gqlRead = (query, variables = {}) => post({ query, variables }, timeoutSince());

/** Reads started before the page could show them (at start-up), each taken once by its view. */
const prefetched = new Map();

/** Starts a read now for a view that will ask for it shortly (its answer is used once). */
export function prefetch(query, variables, cacheId) {
  const answer = fetchAndKeep(query, variables, cacheId);
  answer.catch(() => undefined);
  prefetched.set(cacheId, answer);
}

/**
 * A read that also works offline: the answer is kept under `cacheId`; without a link the last
 * kept answer comes back with `stale` set to when it was read.
 */
export function read(query, variables, cacheId) {
  const early = prefetched.get(cacheId);
  prefetched.delete(cacheId);
  return early ?? fetchAndKeep(query, variables, cacheId);
}

/** After a write, what was read ahead is out of date. */
export const forgetReads = () => prefetched.clear();

async function fetchAndKeep(query, variables, cacheId) {
  try {
    const data = await gqlRead(query, variables);
    await remember(cacheId, data);
    return { data, stale: null };
  } catch (error) {
    if (!(error instanceof OfflineError)) throw error;
    const kept = await recall(cacheId);
    if (!kept) throw error;
    return { data: kept.value, stale: kept.at };
  }
}

/** Uploads a file as evidence of a case; the same key makes a retry safe. */
export async function uploadEvidence(caseId, kind, file, key) {
  const token = await accessToken();
  let response;
  try {
    // The file's name (often a person's) in a header, never in the URL that proxies log.
    response = await fetch(`/evidence?${new URLSearchParams({ caseId, kind })}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'idempotency-key': key,
        'x-file-name': encodeURIComponent(file.name),
        'content-type': file.type || 'application/octet-stream',
      },
      body: file,
    });
  } catch {
    throw new OfflineError('offline');
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok)
    throw new ApiError(body.errors ?? [{ message: `HTTP ${response.status}`, extensions: { code: 'BAD_USER_INPUT' } }]);
  return body.evidence;
}

/** Downloads a file of the case (each download is recorded in the case's audit trail). */
export async function downloadEvidence(item) {
  const token = await accessToken();
  const response = await fetch(item.downloadUrl, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new ApiError([{ message: `HTTP ${response.status}`, extensions: { code: 'NOT_FOUND' } }]);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = item.filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
