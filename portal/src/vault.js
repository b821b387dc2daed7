// What the portal keeps in the browser for slow and broken links (cases read before, writes not
// yet sent) is encrypted (AES-GCM) with a key that lives only in this tab's session storage.
// Closing the tab or signing out leaves nothing readable; sign-out also deletes the database.
// The store and its key belong to one person of one organisation (auth.js owner()): someone else
// signing in on the same tab starts from nothing, and when a session ends without a sign-out
// (the token refused) the copy of what was read goes at once; only unsent writes stay, for the
// same person to send after signing in again.
import { owner } from './auth.js';

const DB = 'erin-portal';
const KEY = 'erin.vaultKey';
const OWNER = 'erin.vaultOwner';
const STORES = ['cache', 'outbox'];

let keyPromise = null;
let dbPromise = null;
/** After sign-out nothing may be stored again in this page (a late write would recreate the database). */
let locked = false;

export const unlock = () => (locked = false);

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function open() {
  if (locked) return Promise.reject(new Error('signed out'));
  if (dbPromise) return dbPromise;
  const opening = new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => STORES.forEach((s) => r.result.createObjectStore(s));
    r.onsuccess = () => {
      const db = r.result;
      // Another tab of the portal deletes the store (its sign-out, or a sign-in there, which cannot
      // read what is sealed here) once every tab has closed it: this tab lets go of it, unless
      // writes made here still wait in it. Held open, the other tab's sign-out never finished and
      // its sign-in never showed a page.
      db.onversionchange = async () => {
        const held = locked ? 0 : await request(db.transaction('outbox').objectStore('outbox').count()).catch(() => 0);
        if (held) return;
        db.close();
        if (dbPromise === opening) dbPromise = null;
      };
      resolve(db);
    };
    r.onerror = () => reject(r.error);
  });
  dbPromise = opening;
  return opening;
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function key() {
  // Never another person's: a store not bound to whoever is signed in is neither read nor written.
  if (sessionStorage.getItem(OWNER) !== owner()) throw new Error('the offline store is not this person’s');
  keyPromise ??= (async () => {
    const saved = sessionStorage.getItem(KEY);
    if (saved) return crypto.subtle.importKey('raw', unb64(saved), 'AES-GCM', false, ['encrypt', 'decrypt']);
    // A new session: whatever an earlier one left is unreadable without its key, so it goes.
    await wipe();
    const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, ['encrypt', 'decrypt']);
    sessionStorage.setItem(KEY, b64(await crypto.subtle.exportKey('raw', fresh)));
    return fresh;
  })();
  return keyPromise;
}

async function seal(value) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await key(), new TextEncoder().encode(JSON.stringify(value)));
  return { iv, data };
}

async function unseal(record) {
  if (!record) return undefined;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: record.iv }, await key(), record.data);
    return JSON.parse(new TextDecoder().decode(plain));
  } catch {
    return undefined; // sealed under another session's key
  }
}

async function tx(store, mode, run) {
  const db = await open();
  const t = db.transaction(store, mode);
  const result = await request(run(t.objectStore(store)));
  return result;
}

export async function put(store, id, value) {
  const sealed = await seal(value);
  await tx(store, 'readwrite', (s) => s.put(sealed, id));
}

export async function get(store, id) {
  return unseal(await tx(store, 'readonly', (s) => s.get(id)));
}

export async function remove(store, id) {
  await tx(store, 'readwrite', (s) => s.delete(id));
}

export async function all(store) {
  const records = await tx(store, 'readonly', (s) => s.getAll());
  return (await Promise.all(records.map(unseal))).filter((v) => v !== undefined);
}

/** Deletes everything the portal stored (the database and the key). */
export async function wipe({ lock = false } = {}) {
  if (lock) locked = true;
  const db = await dbPromise?.catch(() => null);
  db?.close();
  dbPromise = null;
  // Never held up by another tab that keeps the store open (its unsent writes): the deletion
  // goes on when that tab lets go, and what is sealed here is unreadable without this tab's key.
  await new Promise((resolve) => {
    const r = indexedDB.deleteDatabase(DB);
    r.onsuccess = r.onerror = r.onblocked = () => resolve();
  });
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem(OWNER);
  keyPromise = null;
}

/**
 * At sign-in: the store is this person's, or whatever it holds is deleted first. Resolves with
 * true when it held someone else's (a person signed in on a tab another left).
 */
export async function bindTo(who) {
  const before = sessionStorage.getItem(OWNER);
  if (before === who) return false;
  await wipe();
  forgetKey();
  sessionStorage.setItem(OWNER, who);
  return before !== null;
}

/**
 * The session ended without a sign-out (the token was refused): the copy of what was read goes
 * now; writes not sent yet stay sealed for the same person's next sign-in (bindTo deletes them
 * when someone else signs in). Nothing more is stored in this page.
 */
export async function sessionEnded() {
  const db = await open().catch(() => null);
  locked = true;
  const held = db ? await request(db.transaction('outbox').objectStore('outbox').count()).catch(() => 0) : 0;
  if (held && db) {
    await request(db.transaction('cache', 'readwrite').objectStore('cache').clear()).catch(() => undefined);
    db.close();
    dbPromise = null;
    return;
  }
  await wipe({ lock: true });
  // Whose it was stays known (not a secret), so that someone else signing in next is told apart.
  const who = sessionStorage.getItem(OWNER);
  forgetKey();
  if (who) sessionStorage.setItem(OWNER, who);
}

// ---- the offline copy of what was read -------------------------------------------------------

/** Keeps a read for offline use, with when it was read. */
export const remember = (id, value) => put('cache', id, { value, at: Date.now() }).catch(() => undefined);
/** What was read before, if anything: { value, at }. */
export const recall = (id) => get('cache', id).catch(() => undefined);
