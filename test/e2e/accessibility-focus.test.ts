/**
 * Keyboard and screen reader behaviour of the web client (Chromium, the real relay; bob and
 * carol are SDK clients in Node): focus lands on each screen's main control after every screen
 * change and goes back to the control that opened a sub-screen when it closes; Escape closes
 * sub-screens; a polite live region announces incoming messages. Everything is driven with
 * page.keyboard and checked on document.activeElement and the live region's text.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, tempDir, type TestDevice } from '../sdk/helpers.js';
import { seeText, waitConnected, type WatchedPage } from './helpers.js';
import { PHONE, openStage, type Stage } from './stage.js';

/** What has keyboard focus, in words a failed assertion can show. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const element = document.activeElement;
    if (!element || element === document.body) return 'body';
    const name = element.id ? `#${element.id}` : element.getAttribute('data-conversation') ? `[data-conversation="${element.getAttribute('data-conversation')}"]` : '';
    return `${element.tagName.toLowerCase()}${name} "${(element.getAttribute('aria-label') ?? element.textContent ?? '').trim().slice(0, 60)}"`;
  });
}

/** Waits until focus is on what `expected` describes (screens move focus after they render). */
async function expectFocus(page: Page, expected: RegExp): Promise<void> {
  const deadline = Date.now() + 5000;
  let now = await focused(page);
  while (!expected.test(now) && Date.now() < deadline) {
    await page.waitForTimeout(50);
    now = await focused(page);
  }
  expect(now).toMatch(expected);
}

/** Focuses a control the way a keyboard user reaches it, then activates it with Enter. */
async function press(page: Page, selector: string): Promise<void> {
  await page.locator(selector).focus();
  await page.keyboard.press('Enter');
}

const announced = (page: Page) => page.getByTestId('announcer').locator('p').last();

describe('focus, Escape and announcements in the web client', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-focus-');
  let bob: TestDevice;
  let carol: TestDevice;
  let alice: WatchedPage;
  let page: Page;
  let groupId = '';

  beforeAll(async () => {
    stage = await openStage();
    bob = await registerDevice(profiles.path, stage.relay.url, 'bob');
    carol = await registerDevice(profiles.path, stage.relay.url, 'carol');
  });

  afterAll(async () => {
    for (const device of [bob, carol]) await device?.client.close().catch(() => undefined);
    await stage?.close();
    profiles.remove();
  });

  it('first run: focus on the handle field, again after coming back from linking; after registering, on the field to start a conversation', async () => {
    alice = await stage.page('alice');
    page = alice.page;
    await expectFocus(page, /^input#handle-input/);
    await press(page, 'button:text-is("Link to an existing account")');
    await page.getByTestId('link-code').waitFor();
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await expectFocus(page, /^input#handle-input/);
    await page.keyboard.type('alice');
    await page.keyboard.press('Enter');
    await waitConnected(page);
    await expectFocus(page, /^input#new-conversation-handle/);
  }, 30_000);

  it('starting a conversation with the keyboard lands in the composer', async () => {
    await page.keyboard.type('bob');
    await page.keyboard.press('Enter');
    await expectFocus(page, /^textarea#composer-text/);
    await page.keyboard.type('Hello bob');
    await page.keyboard.press('Enter');
    await page.locator('.bubble.outgoing .text', { hasText: 'Hello bob' }).waitFor();
  }, 20_000);

  it('announces a message in the open conversation with its sender and text, and one elsewhere by its sender only', async () => {
    await bob.client.send('alice', 'Hello alice, can you hear me?');
    await seeText(page, 'Hello alice, can you hear me?');
    await expect.poll(() => announced(page).textContent()).toBe('@bob: Hello alice, can you hear me?');
    await carol.client.send('alice', 'A secret for alice only');
    await page.locator('[data-conversation="d:carol"]').waitFor();
    await expect.poll(() => announced(page).textContent()).toBe('New message from @carol');
    // The region is polite and always there, so screen readers announce each line added to it.
    expect(await page.getByTestId('announcer').getAttribute('aria-live')).toBe('polite');
    expect(await page.getByTestId('announcer').textContent()).not.toContain('A secret for alice only');
  }, 20_000);

  it('the safety number: focus on its heading; Escape closes it and focus is back on the button that opened it', async () => {
    await press(page, 'button:text-is("Safety number")');
    await expectFocus(page, /^h2 "Safety number · bob"/);
    await page.keyboard.press('Escape');
    await page.locator('#composer-text').waitFor();
    await expectFocus(page, /^button "Safety number"/);
    // The back button returns the same way.
    await press(page, 'button:text-is("Safety number")');
    await expectFocus(page, /^h2 "Safety number · bob"/);
    await press(page, 'button[aria-label="Back to the conversation"]');
    await expectFocus(page, /^button "Safety number"/);
  }, 20_000);

  it('devices: focus on its heading; Escape closes a panel over it first, then goes back to the conversation it was opened from, focus on Devices', async () => {
    await press(page, '.topbar button:text-is("Devices")');
    await expectFocus(page, /^h2 "Devices"/);
    // A panel opened over the screen closes first: one Escape closes one thing.
    await page.locator('.topbar button:text-matches("^Notifications")').click();
    await page.locator('#notification-settings').waitFor();
    await page.keyboard.press('Escape');
    await page.locator('#notification-settings').waitFor({ state: 'detached' });
    expect(new URL(page.url()).hash).toBe('#/devices');
    await page.keyboard.press('Escape');
    await page.locator('#composer-text').waitFor();
    expect(new URL(page.url()).hash).toBe('#/chat/d%3Abob');
    await expectFocus(page, /^button "Devices"/);
  }, 20_000);

  it('a group: opening it from the list lands in the composer; its members screen on the field to add one; Escape returns to Members', async () => {
    groupId = (await carol.client.createGroup('Weekend plans', ['alice', 'bob'])).groupId;
    await carol.client.sendToGroup(groupId, 'Saturday?');
    await press(page, `[data-conversation="g:${groupId}"]`);
    await expectFocus(page, /^textarea#composer-text/);
    await seeText(page, 'Saturday?');
    await press(page, '.pane-header button:text-matches("^Members")');
    await expectFocus(page, /^input#add-member-handle/);
    await page.keyboard.press('Escape');
    await page.locator('#composer-text').waitFor();
    await expectFocus(page, /^button "Members \(3\)"/);
  }, 20_000);

  it('a new group: focus on its name; Escape goes back, focus on New group', async () => {
    await press(page, 'button.new-group');
    await expectFocus(page, /^input#group-name/);
    await page.keyboard.press('Escape');
    await page.locator('#composer-text').waitFor();
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/chat/g:${groupId}`);
    await expectFocus(page, /^button "New group"/);
  }, 20_000);

  it('Escape does nothing on a screen that is not a sub-screen', async () => {
    await page.locator('#composer-text').focus();
    // The app's Escape (use-focus.ts useEscape) is a keydown listener on window that closes a
    // sub-screen at once: it marks the event handled and changes the hash before it returns. A
    // listener added now runs after it, in the same dispatch, so what it records is what the app
    // did with this very Escape; no pause can stand in for that.
    type Seen = { escapeSeen: Promise<{ handled: boolean; hash: string }> };
    await page.evaluate(() => {
      (window as unknown as Seen).escapeSeen = new Promise((resolve) => {
        const onKey = (event: KeyboardEvent) => {
          if (event.key !== 'Escape') return;
          window.removeEventListener('keydown', onKey);
          resolve({ handled: event.defaultPrevented, hash: decodeURIComponent(location.hash) });
        };
        window.addEventListener('keydown', onKey);
      });
    });
    await page.keyboard.press('Escape');
    // Resolves once the Escape has gone through the app's listener: then "nothing" is proven.
    expect(await page.evaluate(() => (window as unknown as Seen).escapeSeen)).toEqual({ handled: false, hash: `#/chat/g:${groupId}` });
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/chat/g:${groupId}`);
    await expectFocus(page, /^textarea#composer-text/);
  }, 10_000);

  it('on a phone: the list focuses its field, a conversation its composer, and Back returns to the conversation that was opened', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${stage.relay.url}/#/`);
    await waitConnected(page);
    await expectFocus(page, /^input#new-conversation-handle/);
    await press(page, '[data-conversation="d:bob"]');
    await expectFocus(page, /^textarea#composer-text/);
    await press(page, 'button[aria-label="Back to conversations"]');
    await expectFocus(page, /^button\[data-conversation="d:bob"\]/);
    for (const watched of stage.pages) expect(watched.problems, watched.name).toEqual([]);
  }, 20_000);
});
