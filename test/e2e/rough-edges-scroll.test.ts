/**
 * Issue 19's rough edges, part 3, in Chromium against a real relay: reading history away from
 * the end, an incoming message does not move the view; a "New messages" line marks where the
 * unread ones start and a button jumps to them; a reader at the end stays there when messages
 * arrive and when the list gets shorter (a phone's keyboard opening: a smaller viewport).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConversation, seeText, sendText, type WatchedPage } from './helpers.js';
import { DESKTOP, PHONE, expectFits, openStage, rawCodesShown, shot, type Stage } from './rough-edges-setup.js';

const HISTORY = 30;

/** The timeline's scroll position, and whether it shows its end. */
async function scroll(page: Page): Promise<{ top: number; atEnd: boolean }> {
  return page.locator('ol.timeline').evaluate((list) => ({ top: list.scrollTop, atEnd: list.scrollHeight - list.scrollTop - list.clientHeight < 2 }));
}

/** Whether the last bubble is entirely inside the timeline's visible part. */
async function newestInView(page: Page): Promise<boolean> {
  return page.locator('ol.timeline').evaluate((list) => {
    const last = [...list.querySelectorAll('.bubble')].pop();
    if (!last) return false;
    const view = list.getBoundingClientRect();
    const box = last.getBoundingClientRect();
    return box.top >= view.top - 1 && box.bottom <= view.bottom + 1 && box.bottom <= window.innerHeight;
  });
}

describe('rough edges: scrolling and new messages (Chromium)', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let bob: WatchedPage;

  beforeAll(async () => {
    stage = await openStage();
    alice = await stage.person('alice');
    bob = await stage.person('bob');
    await bob.page.getByLabel('Start a conversation').fill('alice');
    await bob.page.getByRole('button', { name: 'Start', exact: true }).click();
    for (let i = 1; i <= HISTORY; i++) await sendText(bob.page, `history ${i}\nsecond line\nthird line`);
    await openConversation(alice.page, 'd:bob');
    await seeText(alice.page, `history ${HISTORY}\nsecond line\nthird line`);
  }, 90_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('opens at the newest message', async () => {
    await expect.poll(() => scroll(alice.page).then((s) => s.atEnd)).toBe(true);
    expect(await newestInView(alice.page)).toBe(true);
  });

  it('does not move the view of someone reading history when messages arrive; shows the unread line and a button', async () => {
    await alice.page.locator('ol.timeline').evaluate((list) => {
      list.scrollTop = 0;
    });
    await expect.poll(() => scroll(alice.page).then((s) => s.top)).toBe(0);
    await sendText(bob.page, 'arrived while reading 1');
    await sendText(bob.page, 'arrived while reading 2');
    await seeText(alice.page, 'arrived while reading 2');
    await alice.page.waitForTimeout(200);
    expect((await scroll(alice.page)).top).toBe(0);

    const button = alice.page.getByRole('button', { name: /2 new messages/ });
    await button.waitFor();
    // The line sits right before the first message that arrived while reading.
    const after = await alice.page.locator('.unread-divider').evaluate((line) => line.nextElementSibling?.querySelector('.text')?.textContent);
    expect(after).toBe('arrived while reading 1');
    expect(await alice.page.locator('.unread-divider').textContent()).toBe('New messages');
    expect(await alice.page.locator('.unread-divider').count()).toBe(1);
    await shot(alice.page, 'desktop-new-messages-button');
  });

  it('jumps to the newest message with the button, which then goes away', async () => {
    await alice.page.getByRole('button', { name: /new messages/ }).click();
    await expect.poll(() => scroll(alice.page).then((s) => s.atEnd)).toBe(true);
    expect(await newestInView(alice.page)).toBe(true);
    expect(await alice.page.locator('.jump-new').count()).toBe(0);
    await shot(alice.page, 'desktop-new-messages-line');
  });

  it('follows new messages while the reader is at the end', async () => {
    await sendText(bob.page, 'arrived at the end');
    await seeText(alice.page, 'arrived at the end');
    await expect.poll(() => newestInView(alice.page)).toBe(true);
    expect(await alice.page.locator('.jump-new').count()).toBe(0);
  });

  it('shows what the reader sends even when scrolled up', async () => {
    await alice.page.locator('ol.timeline').evaluate((list) => {
      list.scrollTop = 0;
    });
    await expect.poll(() => scroll(alice.page).then((s) => s.top)).toBe(0);
    await sendText(alice.page, 'my own reply');
    await expect.poll(() => newestInView(alice.page)).toBe(true);
  });

  it('marks where unread messages start when a conversation is opened', async () => {
    await alice.page.evaluate(() => {
      location.hash = '#/';
    });
    await alice.page.locator('.empty-pane').waitFor();
    await sendText(bob.page, 'unread first');
    await sendText(bob.page, 'unread second');
    await alice.page.locator('[data-conversation="d:bob"] .unread').getByText('2').waitFor();
    await openConversation(alice.page, 'd:bob');
    await seeText(alice.page, 'unread second');
    const after = await alice.page.locator('.unread-divider').evaluate((line) => line.nextElementSibling?.querySelector('.text')?.textContent);
    expect(after).toBe('unread first');
  });

  it('keeps the newest messages in view on a phone when the keyboard takes half the screen', async () => {
    await alice.page.setViewportSize(PHONE);
    await alice.page.locator('#composer-text').click();
    await expect.poll(() => newestInView(alice.page)).toBe(true);
    await alice.page.setViewportSize({ width: PHONE.width, height: 420 });
    await expect.poll(() => newestInView(alice.page)).toBe(true);
    await shot(alice.page, 'phone-keyboard');
    await expectFits(alice.page, ['Send']);
    // And back when it closes.
    await alice.page.setViewportSize(PHONE);
    await expect.poll(() => newestInView(alice.page)).toBe(true);
  });

  it('on a phone too, a message arriving while reading history shows the button on screen', async () => {
    await alice.page.locator('ol.timeline').evaluate((list) => {
      list.scrollTop = 0;
    });
    await expect.poll(() => scroll(alice.page).then((s) => s.top)).toBe(0);
    await sendText(bob.page, 'phone reader, arrived');
    await seeText(alice.page, 'phone reader, arrived');
    expect((await scroll(alice.page)).top).toBe(0);
    await expectFits(alice.page, [/1 new message|New message/]);
    await alice.page.getByRole('button', { name: /New message/ }).click();
    await expect.poll(() => newestInView(alice.page)).toBe(true);
    await alice.page.setViewportSize(DESKTOP);
  });

  it('showed no raw code, and left no console or page errors', async () => {
    expect(await rawCodesShown(alice.page)).toEqual([]);
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
