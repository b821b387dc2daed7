// What the portal keeps in the browser for slow and broken links (cases read before, writes not
// yet sent) is encrypted (AES-GCM) with a key that lives only in this tab's session storage.
// Closing the tab or signing out leaves nothing readable; sign-out also deletes the database.
const DB = 'erin-portal';
const KEY = 'erin.vaultKey';
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
  dbPromise ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => STORES.forEach((s) => r.result.createObjectStore(s));
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return dbPromise;
}

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function key() {
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
  await request(indexedDB.deleteDatabase(DB)).catch(() => undefined);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY);
  keyPromise = null;
}

// ---- the offline copy of what was read -------------------------------------------------------

/** Keeps a read for offline use, with when it was read. */
export const remember = (id, value) => put('cache', id, { value, at: Date.now() }).catch(() => undefined);
/** What was read before, if anything: { value, at }. */
export const recall = (id) => get('cache', id).catch(() => undefined);
