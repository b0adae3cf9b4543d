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
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_PAYLOAD } from '../../server/push/sender.js';
import { launchBrowser } from '../support/browser.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { register, STEP_TIMEOUT } from './helpers.js';

const CLIENT_DIR = resolve('dist/web');
/** What Chromium itself logs when a page subscribes in an incognito context (not the app's doing). */
const INCOGNITO_PUSH = /does not support the Push API in incognito mode/;

describe('notifications while the app is closed (Chromium)', () => {
  let relay: RelayHandle;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    if (!existsSync(resolve(CLIENT_DIR, 'sw.js'))) throw new Error('dist/web is not built (or has no sw.js): run `npm run build:client` first');
    relay = await startRelay({ staticDir: CLIENT_DIR });
    browser = await launchBrowser();
    context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: relay.url });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('console', (message) => {
      if (message.type() === 'error' && !INCOGNITO_PUSH.test(message.text())) problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    await page.goto(relay.url);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
  });

  it('serves the worker at a stable URL, revalidated on every load', async () => {
    const response = await fetch(`${relay.url}/sw.js`);
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
    expect(registration).toEqual({ scope: `${relay.url}/`, script: `${relay.url}/sw.js` });
  });

  it('shows "New message" for a push, and nothing from the payload', async () => {
    const cdp = await context.newCDPSession(page);
    const registrations: { registrationId: string; scopeURL: string }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (event) => registrations.push(...event.registrations));
    await cdp.send('ServiceWorker.enable');
    await expect.poll(() => registrations.find((r) => r.scopeURL === `${relay.url}/`)).toBeDefined();
    const { registrationId } = registrations.find((r) => r.scopeURL === `${relay.url}/`)!;
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: `${relay.url}/`, registrationId, data: PUSH_PAYLOAD });
    const shown = async () =>
      page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })));
    await expect.poll(shown, { timeout: STEP_TIMEOUT }).toHaveLength(1);
    expect(await shown()).toEqual([{ title: 'New message', body: 'Open Sealpost to read it.', tag: 'sealpost-new-message' }]);

    // A second push replaces the notification rather than piling up a second one.
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: `${relay.url}/`, registrationId, data: '' });
    await page.waitForTimeout(500);
    expect(await shown()).toHaveLength(1);
  });

  it('left no console or page errors (the CSP refused nothing)', () => {
    expect(problems).toEqual([]);
  });
});
