// Sealpost's service worker, served at /sw.js (a stable URL: Vite copies public/ as it is).
//
// Today it only wakes for Web Push: the relay pushes when envelopes are stored for this device
// while the app is closed. A push carries nothing about the message (docs/PROTOCOL.md "Web Push")
// and this worker holds no keys (they live in the app's IndexedDB profile, opened by one tab at a
// time), so all it can say is "New message"; the app drains and decrypts once it is opened.
// Issue #19 will grow this worker into the app's offline shell (install, cache, fetch handler);
// until then it has no fetch handler, so it never stands between the app and the relay.
//
// Plain JavaScript on purpose: it is copied, not bundled, so its URL and scope never change.

const TITLE = 'New message';
/** One notification at a time: a newer push replaces the one still shown. */
const TAG = 'sealpost-new-message';

self.addEventListener('install', () => {
  // A new version takes over at once: it holds no state an older page depends on.
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('push', (event) => {
  // Whatever the payload says, the words are fixed: the relay cannot (and must not) say more.
  event.waitUntil(
    self.registration.showNotification(TITLE, {
      body: 'Open Sealpost to read it.',
      tag: TAG,
      renotify: true,
      icon: new URL('favicon.svg', self.registration.scope).href,
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  event.waitUntil(focusOrOpen());
});

/** Focuses a window of the app if one is open, else opens one. */
async function focusOrOpen() {
  const scope = self.registration.scope;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => client.url.startsWith(scope));
  if (open) return open.focus();
  return self.clients.openWindow(scope);
}
