/**
 * Issue 19's rough edges, part 4, in Chromium against a real relay: the connection status says
 * "Connecting…" on a first connection, "Reconnecting…" only after a connection was lost, and
 * "Offline: no network" without a network (context.setOffline); notifications say in words when
 * the browser blocks them, follow a preview choice and a mute switch kept in this browser, and
 * the tab title counts unread messages.
 *
 * The browser's Notification is wrapped (not replaced) to record what the app shows, and the
 * page is told it is hidden, as when its tab is in the background: headless Chromium has no
 * background tabs and no way to list a page's notifications.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bubbleState, openConversation, openPage, register, sendText, waitConnected, type WatchedPage } from './helpers.js';
import { DESKTOP, PHONE, expectFits, forgive, openStage, rawCodesShown, shot, type Stage } from './rough-edges-setup.js';

/** Records every status text the page shows, and every notification it makes; lets the test hide the page. */
const INSTRUMENT = () => {
  const win = window as unknown as Record<string, unknown>;
  const statuses: string[] = [];
  win.__statuses = statuses;
  new MutationObserver(() => {
    const text = document.querySelector('.connection')?.textContent ?? '';
    if (text && statuses[statuses.length - 1] !== text) statuses.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });

  let hidden = false;
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  win.__setHidden = (value: boolean) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };

  const Real = window.Notification;
  const shown: Array<{ title: string; body: string }> = [];
  win.__notifications = shown;
  class Recorded extends Real {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      shown.push({ title, body: options?.body ?? '' });
    }
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission });
  Object.defineProperty(Recorded, 'requestPermission', { value: () => Real.requestPermission() });
  window.Notification = Recorded as unknown as typeof Notification;
};

const statuses = (page: Page) => page.evaluate(() => (window as unknown as { __statuses: string[] }).__statuses);
const notifications = (page: Page) => page.evaluate(() => (window as unknown as { __notifications: Array<{ title: string; body: string }> }).__notifications);
const setHidden = (page: Page, hidden: boolean) => page.evaluate((h) => (window as unknown as { __setHidden: (h: boolean) => void }).__setHidden(h), hidden);

describe('rough edges: connection status and notifications (Chromium)', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let bob: WatchedPage;
  let bobContext: BrowserContext;

  beforeAll(async () => {
    stage = await openStage();
    alice = await stage.person('alice');
    bobContext = await stage.browser.newContext({ viewport: DESKTOP });
    stage.contexts.push(bobContext);
    await bobContext.grantPermissions(['notifications'], { origin: stage.relay.url });
    await bobContext.addInitScript(INSTRUMENT);
    bob = await openPage(bobContext, 'bob', stage.relay.url, stage.pages);
    await register(bob.page, 'bob');
    await alice.page.getByLabel('Start a conversation').fill('bob');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(alice.page, 'hello bob');
    await bubbleState(alice.page, 'hello bob', 'delivered');
  }, 60_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('says “Connecting…” on a first connection, never “Reconnecting…”', async () => {
    await bob.page.reload();
    await waitConnected(bob.page);
    const seen = await statuses(bob.page);
    // The signed-in screens load in a chunk of their own: when the connection is quicker, the
    // status appears already connected, and that is fine; what it must never say is Reconnecting.
    expect(['Connecting…', 'Connected']).toContain(seen[0]);
    expect(seen).not.toContain('Reconnecting…');
    expect(seen[seen.length - 1]).toBe('Connected');
  });

  it('says in words that notifications are blocked, and how to allow them', async () => {
    await alice.page.getByRole('button', { name: 'Notifications', exact: true }).click();
    await alice.page.getByRole('button', { name: 'Enable notifications' }).click();
    // Headless Chromium answers a page's request with "denied", as a user who blocked them would.
    const blocked = alice.page.locator('.notifications-blocked');
    await blocked.waitFor();
    expect(await blocked.textContent()).toMatch(/^Notifications are blocked for Sealpost in this browser\. To allow them, open the site settings/);
    expect(await alice.page.getByRole('button', { name: 'Enable notifications' }).count()).toBe(0);
    await alice.page.getByRole('button', { name: 'Notifications (blocked)' }).waitFor();
    await alice.page.keyboard.press('Escape');
    await alice.page.locator('#notification-settings').waitFor({ state: 'detached' });
    await alice.page.reload();
    await waitConnected(alice.page);
    await alice.page.getByRole('button', { name: 'Notifications (blocked)' }).click();
    await blocked.waitFor();
    await alice.page.setViewportSize(PHONE);
    await expectFits(alice.page, ['Devices', 'Notifications (blocked)']);
    expect(await blocked.evaluate((p) => p.scrollWidth <= p.clientWidth)).toBe(true);
    await shot(alice.page, 'phone-notifications-blocked');
    await alice.page.setViewportSize(DESKTOP);
    await alice.page.getByRole('button', { name: 'Notifications (blocked)' }).click();
  });

  it('counts unread messages in the tab title', async () => {
    expect(await bob.page.title()).toBe('(1) Sealpost'); // "hello bob", never opened
    await sendText(alice.page, 'one');
    await sendText(alice.page, 'two');
    await expect.poll(() => bob.page.title()).toBe('(3) Sealpost');
    await openConversation(bob.page, 'd:alice');
    await expect.poll(() => bob.page.title()).toBe('Sealpost');
  });

  it('shows sender and text by default while the tab is hidden', async () => {
    await setHidden(bob.page, true);
    await sendText(alice.page, 'full preview');
    await expect.poll(() => notifications(bob.page)).toEqual([{ title: 'Sealpost · alice', body: 'full preview' }]);
    await expect.poll(() => bob.page.title()).toBe('(1) Sealpost');
    await setHidden(bob.page, false);
    await expect.poll(() => bob.page.title()).toBe('Sealpost');
  });

  it('shows only the sender, or nothing but “New message”, as chosen; the choice survives a reload', async () => {
    await bob.page.getByRole('button', { name: 'Notifications', exact: true }).click();
    await bob.page.getByLabel('Sender only').check();
    await setHidden(bob.page, true);
    await sendText(alice.page, 'sender only please');
    await expect.poll(async () => (await notifications(bob.page)).at(-1)).toEqual({ title: 'Sealpost · alice', body: 'New message' });
    await setHidden(bob.page, false);
    await bob.page.getByLabel('Nothing but “New message”').check();
    await setHidden(bob.page, true);
    await sendText(alice.page, 'nothing please');
    await expect.poll(async () => (await notifications(bob.page)).at(-1)).toEqual({ title: 'Sealpost', body: 'New message' });
    const texts = (await notifications(bob.page)).map((n) => `${n.title} ${n.body}`).join('\n');
    expect(texts).not.toMatch(/sender only please|nothing please/);
    await setHidden(bob.page, false);

    await bob.page.reload();
    await waitConnected(bob.page);
    await bob.page.getByRole('button', { name: 'Notifications', exact: true }).click();
    expect(await bob.page.getByLabel('Nothing but “New message”').isChecked()).toBe(true);
  });

  it('shows none while muted, and says so in the top bar', async () => {
    await bob.page.getByLabel('Mute notifications on this device').check();
    await bob.page.getByRole('button', { name: 'Notifications (muted)' }).waitFor();
    const before = (await notifications(bob.page)).length;
    await setHidden(bob.page, true);
    await sendText(alice.page, 'while muted');
    await expect.poll(() => bob.page.title()).toBe('(1) Sealpost'); // it arrived, and is counted
    await bob.page.waitForTimeout(300);
    expect(await notifications(bob.page)).toHaveLength(before);
    await setHidden(bob.page, false);
  });

  it('says “Reconnecting…” once a connection was lost, and “Connected” when it is back', async () => {
    await stage.restartRelay(async () => {
      await bob.page.locator('.connection').getByText('Reconnecting…', { exact: true }).waitFor();
      expect(await bob.page.locator('.connection').getAttribute('title')).toMatch(/connection to the relay was lost/);
    });
    await waitConnected(bob.page);
    await waitConnected(alice.page);
    forgive(bob);
    forgive(alice);
  });

  it('says “Offline: no network” when the network is gone, on desktop and phone', async () => {
    await bobContext.setOffline(true);
    const status = bob.page.locator('.connection');
    await status.getByText('Offline: no network', { exact: true }).waitFor();
    expect(await status.getAttribute('data-network')).toBe('offline');
    expect(await status.getAttribute('title')).toMatch(/no network connection/);
    await bob.page.waitForTimeout(1500); // reconnect attempts fail meanwhile: the words stay
    expect(await status.textContent()).toBe('Offline: no network');
    await bob.page.setViewportSize(PHONE);
    expect(await status.isVisible()).toBe(true);
    await shot(bob.page, 'phone-offline');
    await expectFits(bob.page, ['Devices']);
    await bob.page.setViewportSize(DESKTOP);
    await bobContext.setOffline(false);
    await waitConnected(bob.page);
    expect(await status.textContent()).toBe('Connected');
    forgive(bob);
  });

  it('showed no raw code, and left no console or page errors', async () => {
    expect(await rawCodesShown(alice.page)).toEqual([]);
    expect(await rawCodesShown(bob.page)).toEqual([]);
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
