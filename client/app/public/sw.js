// Sealpost's service worker, served at /sw.js (a stable URL: Vite copies public/ as it is).
// Plain JavaScript on purpose: it is copied, not bundled, so its URL and scope never change.
//
// Three jobs:
// 1. The app shell, offline: every file of the bundle is kept in Cache Storage and served from
//    there, so the app opens (and shows its outbox) without a network.
// 2. A pinned bundle: the shell kept is the one whose hash this browser pinned. The bundle hash
//    is the SHA-256 of version.json's file listing in sha256sum's format (client/app/
//    bundle-manifest.ts computes the same at build time); this worker recomputes it and checks
//    every downloaded file against the listing, so the hash names the bytes it serves. When the
//    relay offers another bundle, nothing switches: the page asks the user (UpdatePrompt), and
//    only then does this worker download, verify and pin the new one. The first bundle is
//    trusted on first use. The pin lives in Cache Storage, which every version of this worker
//    shares: a newer worker (the browser fetches sw.js itself and installs it when its bytes
//    change) honours the pin an older one made, and waits instead of taking over while a pin
//    exists. What this cannot stop — a relay that ships a worker which ignores all this — is
//    written down in docs/verify-client.md.
// 3. Web Push: the relay pushes when envelopes are stored for this device while the app is
//    closed. A push carries nothing about the message (docs/PROTOCOL.md "Web Push") and this
//    worker holds no keys, so all it can say is "New message".

const TITLE = 'New message';
/** One notification at a time: a newer push replaces the one still shown. */
const TAG = 'sealpost-new-message';

const SCOPE = self.registration.scope;
const VERSION_URL = new URL('version.json', SCOPE).href;
/** Where the pin is kept: { version, hash, files } of the bundle this browser runs. */
const PIN_CACHE = 'sealpost-pin';
const PIN_URL = new URL('__sealpost/pin', SCOPE).href;
/** One cache per bundle, named by its hash; only the pinned one is kept after a switch. */
const SHELL_PREFIX = 'sealpost-shell-';
const HEX64 = /^[0-9a-f]{64}$/;
/** Response headers not copied into the cache: the bytes kept are already decoded. */
const DROPPED_HEADERS = new Set(['content-encoding', 'content-length', 'transfer-encoding', 'date', 'etag', 'last-modified', 'set-cookie', 'vary']);

/** The pin as last read (undefined: not read yet in this worker's life). */
let pinned;

async function readPin() {
  const response = await (await caches.open(PIN_CACHE)).match(PIN_URL);
  pinned = response ? await response.json() : null;
  return pinned;
}

async function writePin(bundle) {
  await (await caches.open(PIN_CACHE)).put(PIN_URL, new Response(JSON.stringify(bundle), { headers: { 'content-type': 'application/json' } }));
  pinned = bundle;
}

async function sha256Hex(bytes) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The relay's current bundle listing, with the hash recomputed here (the relay's own claim is ignored). */
async function fetchListing() {
  const response = await fetch(VERSION_URL, { cache: 'no-store' });
  if (!response.ok) throw new Error(`version.json: HTTP ${response.status}`);
  const body = await response.json();
  const files = body && typeof body.files === 'object' && body.files !== null ? body.files : undefined;
  if (!files || typeof body.version !== 'string') throw new Error('version.json is malformed');
  const paths = Object.keys(files).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (!paths.includes('index.html')) throw new Error('version.json lists no index.html');
  for (const path of paths) {
    // Paths inside the scope only: no absolute URL, no climbing out, no query.
    if (!HEX64.test(files[path]) || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(path) || path.split('/').includes('..')) {
      throw new Error(`version.json: bad entry ${JSON.stringify(path)}`);
    }
  }
  const listing = paths.map((path) => `${files[path]}  ${path}\n`).join('');
  const hash = await sha256Hex(new TextEncoder().encode(listing));
  return { version: body.version.slice(0, 64), hash, files };
}

/** Downloads one file of a bundle and checks it against the listing (from the HTTP cache first, then the relay). */
async function fetchVerified(path, expected) {
  for (const mode of ['default', 'reload']) {
    const response = await fetch(new URL(path, SCOPE).href, { cache: mode, redirect: 'error' });
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    const bytes = await response.arrayBuffer();
    if ((await sha256Hex(bytes)) !== expected) continue;
    const headers = new Headers();
    for (const [name, value] of response.headers) if (!DROPPED_HEADERS.has(name)) headers.set(name, value);
    return new Response(bytes, { status: 200, headers });
  }
  throw new Error(`${path} does not match version.json`);
}

/** Downloads, verifies and stores every file of `bundle`, then pins it and drops every other shell. */
async function pinBundle(bundle) {
  const name = SHELL_PREFIX + bundle.hash;
  const responses = await Promise.all(Object.entries(bundle.files).map(async ([path, hash]) => [path, await fetchVerified(path, hash)]));
  const cache = await caches.open(name);
  for (const [path, response] of responses) await cache.put(new URL(path, SCOPE).href, response);
  await writePin(bundle);
  for (const key of await caches.keys()) if (key.startsWith(SHELL_PREFIX) && key !== name) await caches.delete(key);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      // A pin exists: this is a newer worker. It waits (no skipWaiting) until the user agrees
      // to an update, or until every tab of the app is closed, and honours the pin either way.
      if (await readPin()) return;
      // First install: trust on first use.
      await pinBundle(await fetchListing());
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  // Read the pin again: an older worker may have switched it while this one was waiting.
  event.waitUntil(readPin().then(() => self.clients.claim()));
});

/** The path of a same-origin URL relative to the scope, or undefined outside it. */
function scopePath(url) {
  return url.startsWith(SCOPE) ? url.slice(SCOPE.length).split(/[?#]/)[0] : undefined;
}

/** The pinned file `path` serves, if any: a navigation to the app's page, or a file of the bundle. */
function shellFile(request, path, pin) {
  if (request.mode === 'navigate') return path === '' || path === 'index.html' ? 'index.html' : undefined;
  return pin.files[path] !== undefined && path !== 'sw.js' ? path : undefined;
}

async function fromShell(request, path, pin) {
  const file = shellFile(request, path, pin);
  if (file === undefined) return fetch(request);
  const hit = await (await caches.open(SHELL_PREFIX + pin.hash)).match(new URL(file, SCOPE).href);
  // Evicted storage: the relay's copy is better than nothing (the update check still compares hashes).
  return hit ?? fetch(request);
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const path = scopePath(request.url);
  if (path === undefined) return;
  if (pinned === undefined || request.mode === 'navigate') {
    // Just started (the pin is not read yet), or opening the app: read the pin afresh, since
    // another version of this worker may have changed it. Few requests pay this.
    event.respondWith(readPin().then((pin) => (pin ? fromShell(request, path, pin) : fetch(request))));
    return;
  }
  if (pinned === null) return;
  if (shellFile(request, path, pinned) === undefined) return;
  event.respondWith(fromShell(request, path, pinned));
});

/** What the page shows: the pinned bundle and, when the relay serves another one, that one. */
let offer;

async function status() {
  const pin = pinned === undefined ? await readPin() : pinned;
  return { pinned: pin ? { version: pin.version, hash: pin.hash } : null, offer: offer ?? null };
}

async function check() {
  const pin = pinned === undefined ? await readPin() : pinned;
  const current = await fetchListing();
  offer = pin && current.hash !== pin.hash ? { version: current.version, hash: current.hash } : undefined;
  return status();
}

/** Switches to the relay's bundle, only if it is still the one the user agreed to. */
async function apply(hash) {
  const current = await fetchListing();
  if (current.hash !== hash) throw new Error('The relay changed its version again: check once more before updating.');
  await pinBundle(current);
  offer = undefined;
  return status();
}

self.addEventListener('message', (event) => {
  const port = event.ports[0];
  const data = event.data ?? {};
  const answer = (work) =>
    event.waitUntil(
      work.then(
        (result) => port?.postMessage({ ok: true, result }),
        (error) => port?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) }),
      ),
    );
  if (data.type === 'status') answer(status());
  else if (data.type === 'check') answer(check());
  else if (data.type === 'apply' && typeof data.hash === 'string') answer(apply(data.hash));
  // Sent to a waiting worker once the user agreed and the new bundle is pinned.
  else if (data.type === 'skip-waiting') answer(self.skipWaiting().then(() => null));
});

self.addEventListener('push', (event) => {
  // Whatever the payload says, the words are fixed: the relay cannot (and must not) say more.
  event.waitUntil(
    self.registration.showNotification(TITLE, {
      body: 'Open Sealpost to read it.',
      tag: TAG,
      renotify: true,
      icon: new URL('icons/icon-192.png', SCOPE).href,
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(focusOrOpen());
});

/** Focuses a window of the app if one is open, else opens one. */
async function focusOrOpen() {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => client.url.startsWith(SCOPE));
  if (open) return open.focus();
  return self.clients.openWindow(SCOPE);
}
