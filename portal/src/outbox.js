// Writes survive a dropped link: each goes into the outbox (encrypted, bound to the person who
// made it) with its idempotency key and the case version it was based on, and is sent at once.
// Without a link it waits and goes out with the same key when the link is back, so it applies
// once; an answer from the gateway (done, refused, conflict) takes it out. A write refused because
// the session ended stays for the same person's next sign-in (vault.js binds the store to them).
import { ApiError, forgetReads, gql, OfflineError } from './api.js';
import { person } from './auth.js';
import { newKey } from './dom.js';
import { all, put, remove } from './vault.js';

const RETRY_MS = 5_000;
const listeners = new Set();
let timer = null;
let flushing = null;

export const onOutboxChange = (listener) => listeners.add(listener);
const changed = (event) => listeners.forEach((l) => l(event));

/** The entries waiting for the signed-in person, oldest first. */
export async function pending() {
  const me = person();
  return (await all('outbox')).filter((e) => e.person === me).sort((a, b) => a.createdAt - b.createdAt);
}

function retryable(error) {
  if (error instanceof OfflineError) return true;
  return (
    error instanceof ApiError &&
    (['STORE_UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR'].includes(error.code) ||
      error.reason === 'REQUEST_IN_PROGRESS')
  );
}

/**
 * Queues a write and tries to send it. `label` is a catalogue key with its values, so the
 * outbox can say in any language what it holds. Resolves with the answer, or with
 * { queued: true } when it waits for the link; rejects when the gateway refused it.
 */
export async function write(label, operation, variables) {
  const entry = {
    id: newKey(),
    person: person(),
    label,
    operation,
    variables: { ...variables, key: newKey() },
    createdAt: Date.now(),
  };
  await put('outbox', entry.id, entry);
  changed({ type: 'queued', entry });
  return sendOne(entry);
}

/** The sends under way, by entry: a flush meanwhile (a retry timer, the link back) waits for it rather than sending it again. */
const sending = new Map();

function sendOne(entry) {
  let send = sending.get(entry.id);
  if (!send) {
    send = attempt(entry).finally(() => sending.delete(entry.id));
    sending.set(entry.id, send);
  }
  return send;
}

async function attempt(entry) {
  try {
    const data = await gql(entry.operation, entry.variables);
    forgetReads();
    await remove('outbox', entry.id);
    changed({ type: 'sent', entry });
    return data;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'UNAUTHENTICATED') {
      // The session ended: the write waits for the same person to sign in again (flush at start).
      changed({ type: 'held', entry, error });
      return { queued: true };
    }
    if (retryable(error)) {
      changed({ type: 'waiting', entry, error });
      scheduleRetry();
      return { queued: true };
    }
    forgetReads();
    await remove('outbox', entry.id);
    error.entry = entry;
    changed({ type: error.code === 'CONFLICT' ? 'conflict' : 'refused', entry, error });
    throw error;
  }
}

function scheduleRetry() {
  clearTimeout(timer);
  timer = setTimeout(() => void flush(), RETRY_MS);
}

/** Sends what waits, oldest first, each with its own key; stops at the first that cannot go yet. */
export function flush() {
  flushing ??= (async () => {
    try {
      if (!person()) return;
      for (const entry of await pending()) {
        const result = await sendOne(entry).catch(() => null);
        if (result?.queued) break;
      }
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}

export async function discard() {
  for (const entry of await pending()) await remove('outbox', entry.id);
  changed({ type: 'discarded' });
}

addEventListener('online', () => void flush());
