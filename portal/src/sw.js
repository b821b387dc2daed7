// The portal's service worker: keeps the portal's own files (never data: cases are kept by the
// page, encrypted) so the portal opens without a link. Served from the cache at once and
// refreshed in the background when there is a link.
const CACHE = 'erin-portal-shell-v1';
const SHELL = ['./', 'app.js', 'style.css', 'config.json'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  const scope = new URL(self.registration.scope);
  // The return from the identity provider (`./?code=…&state=…`) is the portal's page too: served
  // like it, at once, so a stalled link cannot leave the person on the provider's page (what
  // follows, the code exchange, is bounded). Its copy is refreshed from `./`: the code goes nowhere.
  const page = url.pathname === scope.pathname;
  const returning = page && url.search !== '' && event.request.mode === 'navigate';
  // Only the portal's own files: the API, evidence and the identity provider always go to the network.
  if (
    event.request.method !== 'GET' ||
    url.origin !== scope.origin ||
    !url.pathname.startsWith(scope.pathname) ||
    (url.search && !returning)
  )
    return;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const key = page ? './' : event.request;
      const cached = await cache.match(key);
      const fresh = fetch(returning ? scope.href : event.request)
        .then((response) => {
          if (response.ok) void cache.put(key, response.clone());
          return response;
        })
        .catch(() => cached ?? Response.error());
      if (cached) {
        event.waitUntil(fresh.catch(() => undefined));
        return cached;
      }
      return fresh;
    }),
  );
});
