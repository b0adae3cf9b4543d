/**
 * The web client's side of Web Push, in Chromium: with notifications allowed the notification
 * settings (from the top bar) offer "Notify me when Sealpost is closed"; choosing it registers the built app's service worker at
 * /sw.js; a push delivered to that worker (through the DevTools protocol, as a push service
 * would deliver it) shows "New message" and nothing else.
 *
 * Headless Chromium has no push service to subscribe with (and none at all in an incognito
 * context, which is what a fresh test context is), so the subscription step itself ends in the
 * app's "could not subscribe" message here; the relay's side of a subscription, from PUT to the
 * push request, is covered against a test push service in test/relay/push.test.ts.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_PAYLOAD } from '../../server/push/sender.js';
import { register, STEP_TIMEOUT, type WatchedPage } from './helpers.js';
import { openStage, type Stage } from './stage.js';

/** What Chromium itself logs when a page subscribes in an incognito context (not the app's doing). */
const INCOGNITO_PUSH = /^console: .*does not support the Push API in incognito mode/;

describe('notifications while the app is closed (Chromium)', () => {
  let stage: Stage;
  let watched: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    stage = await openStage();
    // The relay's page is the only origin in the context, so granting to every origin is the same.
    watched = await stage.page('push', { permissions: ['notifications'] });
    page = watched.page;
  }, 60_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('serves the worker at a stable URL, revalidated on every load', async () => {
    const response = await fetch(`${stage.relay.url}/sw.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/javascript/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
  });

  it('offers closed-app notifications once notifications are allowed, and registers the service worker', async () => {
    await register(page, `push${Date.now().toString(36)}`);
    await page.getByRole('button', { name: 'Notifications', exact: true }).click();
    const offer = page.getByRole('button', { name: 'Notify me when Sealpost is closed' });
    await offer.click();
    // No push service in a headless incognito context: the app says so instead of failing silently.
    await page.locator('.push-error').waitFor();
    expect(await page.locator('.push-error').textContent()).toMatch(/could not subscribe/);
    const registration = await page.evaluate(async () => {
      const found = await navigator.serviceWorker.getRegistration();
      await navigator.serviceWorker.ready;
      return { scope: found?.scope, script: found?.active?.scriptURL };
    });
    expect(registration).toEqual({ scope: `${stage.relay.url}/`, script: `${stage.relay.url}/sw.js` });
  });

  it('shows "New message" for a push, and nothing from the payload', async () => {
    const cdp = await page.context().newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    await expect.poll(() => registrations.find((r) => r.scopeURL === `${stage.relay.url}/`)).toBeDefined();
    const { registrationId } = registrations.find((r) => r.scopeURL === `${stage.relay.url}/`)!;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: `${stage.relay.url}/`, registrationId, data: PUSH_PAYLOAD });
    const notifications = async () =>
      page.evaluate(async () =>
        // Chromium has Notification.timestamp; TypeScript's DOM types leave it out.
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title, body: n.body, tag: n.tag, timestamp: (n as Notification & { timestamp: number }).timestamp,
        })),
      );
    const shown = async () => (await notifications()).map(({ title, body, tag }) => ({ title, body, tag }));
    await expect.poll(shown, { timeout: STEP_TIMEOUT }).toHaveLength(1);
    expect(await shown()).toEqual([{ title: 'New message', body: 'Open Sealpost to read it.', tag: 'sealpost-new-message' }]);

    // A second push replaces the notification rather than piling up a second one. "Still one"
    // proves nothing until the second push has been handled: its notification is a new one,
    // with a timestamp of its own (Date.now() when shown), so wait for that timestamp first.
    const [first] = await notifications();
    // Timestamps are in milliseconds: let the clock move past the first one's, so the second
    // push's cannot equal it.
    await expect.poll(() => page.evaluate(() => Date.now())).toBeGreaterThan(first!.timestamp);
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: `${stage.relay.url}/`, registrationId, data: '' });
    await expect
      .poll(async () => (await notifications()).some((n) => n.timestamp !== first!.timestamp), { timeout: STEP_TIMEOUT })
      .toBe(true);
    expect(await shown()).toEqual([{ title: 'New message', body: 'Open Sealpost to read it.', tag: 'sealpost-new-message' }]);
  });

  it('left no console or page errors (the CSP refused nothing)', () => {
    expect(watched.problems.filter((problem) => !INCOGNITO_PUSH.test(problem))).toEqual([]);
  });
});
