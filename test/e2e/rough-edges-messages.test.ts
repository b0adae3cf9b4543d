/**
 * Issue 19's rough edges, part 2, in Chromium against a real relay: a message longer than a
 * message holds is stopped in the composer with words and its text kept; a message the relay
 * refuses as too large fails in words, offers no Retry (it can never succeed) and can be deleted.
 * The relay here takes envelopes of at most 8 KiB, so a 10,000-character text (within the SDK's
 * 16,000) is one the relay refuses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_TEXT_LENGTH } from '../../client/sdk/index.js';
import { registerDevice, tempDir } from '../sdk/helpers.js';
import { bubbleState, openConversation, seeText, sendText, waitConnected, type WatchedPage } from './helpers.js';
import { DESKTOP, PHONE, expectFits, forgive, openStage, rawCodesShown, shot, type Stage } from './rough-edges-setup.js';

const HUGE = 'All work and no play. '.repeat(3200).slice(0, 70_000);
/** Under the SDK's limit, over what fits in the relay's 8 KiB envelopes. */
const OVER_RELAY = 'Ten thousand characters. '.repeat(400);

describe('rough edges: messages too long to send (Chromium)', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let bob: WatchedPage;

  beforeAll(async () => {
    stage = await openStage({ maxBodyBytes: 8 * 1024 });
    alice = await stage.person('alice');
    bob = await stage.person('bob');
    await alice.page.getByLabel('Start a conversation').fill('bob');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(alice.page, 'hi bob');
    await bubbleState(alice.page, 'hi bob', 'delivered');
  }, 60_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('warns in the composer before sending a 70,000-character message, and keeps the text', async () => {
    expect(MAX_TEXT_LENGTH).toBe(16_000);
    const box = alice.page.locator('#composer-text');
    await box.fill(HUGE);
    const warning = alice.page.locator('.composer .too-long');
    await warning.getByText('This message has 70,000 characters; at most 16,000 fit in one message. Shorten it, or send it as a file.').waitFor();
    expect(await alice.page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(true);
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    await box.press('Enter');
    await alice.page.waitForTimeout(300);
    expect(await box.inputValue()).toHaveLength(70_000);
    expect(await alice.page.locator('.bubble.outgoing').count()).toBe(1); // only "hi bob"
    expect(await rawCodesShown(alice.page)).toEqual([]);
  });

  it('fits the warning on a phone, and clears it once the text is short enough', async () => {
    await alice.page.setViewportSize(PHONE);
    await expectFits(alice.page, ['Send as a file']);
    await shot(alice.page, 'phone-too-long');
    await alice.page.setViewportSize(DESKTOP);
    const box = alice.page.locator('#composer-text');
    await box.fill(HUGE.slice(0, MAX_TEXT_LENGTH));
    expect(await alice.page.locator('.composer .too-long').count()).toBe(0);
    expect(await alice.page.getByRole('button', { name: 'Send', exact: true }).isDisabled()).toBe(false);
    await box.fill(HUGE);
  });

  it('sends the long text as a file when asked, which bob receives', async () => {
    await alice.page.locator('.composer .too-long').getByRole('button', { name: 'Send as a file' }).click();
    expect(await alice.page.locator('#composer-text').inputValue()).toBe('');
    await openConversation(bob.page, 'd:alice');
    await bob.page.locator('.bubble.incoming', { hasText: 'message.txt' }).waitFor();
  });

  it('shows a message the relay refuses as too large in words, with Delete and no Retry', async () => {
    const box = alice.page.locator('#composer-text');
    await box.fill(OVER_RELAY);
    await box.press('Enter');
    const failed = alice.page.locator('.bubble.outgoing[data-state="failed"]');
    await failed.waitFor();
    expect(await failed.locator('.reason').textContent()).toBe('Not sent: too large for the relay. Shorten it, or send it as a file.');
    expect(await failed.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    expect(await failed.getByRole('button', { name: /^Delete/ }).count()).toBe(1);
    // The reason shows without scrolling: the view stays at the end of the grown bubble.
    await expect.poll(() => failed.locator('.reason').evaluate((reason) => {
      const list = reason.closest('.timeline')!.getBoundingClientRect();
      const box = reason.getBoundingClientRect();
      return box.top >= list.top && box.bottom <= list.bottom;
    })).toBe(true);
    await shot(alice.page, 'desktop-refused-too-large');
    await alice.page.setViewportSize(PHONE);
    await expectFits(alice.page, [/^Delete/, 'Send']);
    await alice.page.setViewportSize(DESKTOP);
    expect(await rawCodesShown(alice.page)).toEqual([]);
    expect(await alice.page.locator('body').innerText()).not.toContain('too_large');
  });

  it('deletes the failed message for good (it stays gone after a reload)', async () => {
    await alice.page.locator('.bubble.outgoing[data-state="failed"]').getByRole('button', { name: /^Delete/ }).click();
    await alice.page.locator('.bubble.outgoing[data-state="failed"]').waitFor({ state: 'detached' });
    await alice.page.reload();
    await waitConnected(alice.page);
    await openConversation(alice.page, 'd:bob');
    await seeText(alice.page, 'hi bob');
    expect(await alice.page.locator('.bubble.outgoing[data-state="failed"]').count()).toBe(0);
    expect(await alice.page.locator('.bubble .text', { hasText: 'Ten thousand characters.' }).count()).toBe(0);
  });

  it('is refused by the SDK itself past MAX_TEXT_LENGTH, before anything is stored or sent', async () => {
    const root = tempDir('sealpost-rough-edges-');
    const dave = await registerDevice(root.path, stage.relay.url, 'dave');
    try {
      await expect(dave.client.send('bob', 'y'.repeat(MAX_TEXT_LENGTH + 1))).rejects.toMatchObject({ code: 'too_large' });
      expect(dave.client.messages()).toEqual([]);
    } finally {
      await dave.client.close();
      root.remove();
    }
  });

  it('still sends ordinary messages, and nothing reached bob of the refused one', async () => {
    await sendText(alice.page, 'short again');
    await seeText(bob.page, 'short again');
    expect(await bob.page.locator('.bubble .text', { hasText: 'Ten thousand characters.' }).count()).toBe(0);
    expect(await rawCodesShown(bob.page)).toEqual([]);
    // The relay's refusal of the large envelope, if Chromium logged it, is the only problem forgiven.
    forgive(alice, /status of 413/);
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
