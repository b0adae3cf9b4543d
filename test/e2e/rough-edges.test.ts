/**
 * Issue 19's rough edges, part 1, in Chromium against a real relay: a 200-character group name
 * does not widen the page at 1280×800 or 390×844, and handles are taken as people type them
 * ("@Bob"), checked in words before the relay is asked, and a missing account is named.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConversation, sendText, waitConnected, type WatchedPage } from './helpers.js';
import { DESKTOP, PHONE, expectFits, forgive, openStage, rawCodesShown, shot, type Stage } from './rough-edges-setup.js';

/** 200 characters with no place to break: the worst case for a title. */
const LONG_NAME = 'Supercalifragilistic'.repeat(10);

/** Counts the lookups (GET /v2/accounts/…) the page makes while `step` runs. */
async function lookupsDuring(page: Page, step: () => Promise<void>): Promise<number> {
  let count = 0;
  const onRequest = (request: { url(): string; method(): string }) => {
    if (request.method() === 'GET' && new URL(request.url()).pathname.startsWith('/v2/accounts/')) count++;
  };
  page.on('request', onRequest);
  try {
    await step();
  } finally {
    page.off('request', onRequest);
  }
  return count;
}

describe('rough edges: long names and typed handles (Chromium)', () => {
  let stage: Stage;
  let alice: WatchedPage;
  let bob: WatchedPage;

  beforeAll(async () => {
    stage = await openStage();
    alice = await stage.person('alice');
    bob = await stage.person('bob', { viewport: PHONE });
    await stage.person('carol');
  }, 60_000);

  afterAll(async () => {
    await stage?.close();
  });

  it('takes “@Bob” as bob when starting a conversation', async () => {
    await alice.page.getByLabel('Start a conversation').fill('  @Bob ');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await alice.page.locator('.conversation h2', { hasText: 'bob' }).waitFor();
    expect(await alice.page.locator('[data-conversation="d:bob"]').count()).toBe(1);
    await sendText(alice.page, 'hello from the @ form');
  });

  it('says in words what is wrong with a typed handle, without asking the relay', async () => {
    const field = alice.page.getByLabel('Start a conversation');
    const error = alice.page.locator('.new-conversation .error-text');
    const cases: Array<[string, RegExp]> = [
      ['@b', /“@b” is too short: a handle has at least 3 characters\./],
      ['bob smith!', /cannot be a handle: it contains a space, “!”\. Handles use only a–z, 0–9/],
      ['@' + 'x'.repeat(40), /is too long: a handle has at most 32 characters\./],
    ];
    for (const [typed, expected] of cases) {
      const lookups = await lookupsDuring(alice.page, async () => {
        await field.fill(typed);
        await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
        await expect.poll(async () => (await error.textContent()) ?? '').toMatch(expected);
      });
      expect(lookups, typed).toBe(0);
      expect(await field.getAttribute('aria-invalid'), typed).toBe('true');
    }
    expect(await alice.page.locator('body').innerText()).not.toMatch(/must match pattern|params\//);
  });

  it('registers “@Dave” as dave, and says in words what is wrong with a handle before asking the relay', async () => {
    const dave = await stage.page('dave');
    const field = dave.page.getByLabel('Pick a handle');
    const error = dave.page.locator('.welcome .error-text');
    // Nothing reaches the relay's API for a handle the app can refuse itself.
    const asked: string[] = [];
    const onRequest = (request: { url(): string }) => {
      if (new URL(request.url()).pathname.startsWith('/v2/')) asked.push(request.url());
    };
    dave.page.on('request', onRequest);
    await field.fill('d!');
    await dave.page.getByRole('button', { name: 'Create account' }).click();
    await expect.poll(async () => (await error.textContent()) ?? '').toMatch(/“d!” cannot be a handle: it contains “!”/);
    dave.page.off('request', onRequest);
    expect(asked).toEqual([]);
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await field.fill('  @Dave ');
    await dave.page.getByRole('button', { name: 'Create account' }).click();
    await waitConnected(dave.page);
    // Registered as dave: alice finds that handle.
    await alice.page.getByLabel('Start a conversation').fill('dave');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await alice.page.locator('.conversation h2', { hasText: 'dave' }).waitFor();
  });

  it('names the account that does not exist', async () => {
    await alice.page.getByLabel('Start a conversation').fill('@Nobody');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await alice.page.locator('.new-conversation .error-text').getByText('No account called @nobody.', { exact: true }).waitFor();
    forgive(alice);
  });

  it('names the member that failed when creating a group, and checks members as typed', async () => {
    await alice.page.getByRole('button', { name: 'New group' }).click();
    await alice.page.getByLabel('Group name').fill('Trip');
    await alice.page.getByLabel('Members').fill('@bob, @ghost');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.locator('.screen .error-text').getByText('No account called @ghost.', { exact: true }).waitFor();
    forgive(alice);
    await alice.page.getByLabel('Members').fill('@bob, x');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.locator('.screen .error-text').getByText('“x” is too short: a handle has at least 3 characters.', { exact: true }).waitFor();
  });

  it('creates a group with a 200-character name: the page keeps its width on desktop', async () => {
    const name = alice.page.getByLabel('Group name');
    await name.fill(LONG_NAME + 'more');
    expect(await name.inputValue()).toBe(LONG_NAME); // the field holds the protocol's 200 at most
    await alice.page.getByLabel('Members').fill('@Bob');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.locator('#composer-text').waitFor();
    await sendText(alice.page, 'A group with a very long name');
    await alice.page.locator('#composer-text').fill('typed, not sent');
    await expectFits(alice.page, ['Send', /^Members/, 'Devices']);
    await shot(alice.page, 'desktop-long-group-name');
    // The title is cut with an ellipsis, and says its whole name on hover.
    const title = alice.page.locator('.conversation h2');
    expect(await title.getAttribute('title')).toBe(LONG_NAME);
    expect(await title.evaluate((h) => h.scrollWidth > h.clientWidth && getComputedStyle(h).textOverflow === 'ellipsis')).toBe(true);
  });

  it('keeps its width in the list, the members screen and on a phone', async () => {
    const row = alice.page.locator('.conversation-item', { hasText: 'Supercalifragilistic' });
    expect(await row.evaluate((r) => r.getBoundingClientRect().right <= (r.closest('.sidebar')?.getBoundingClientRect().right ?? 0) + 0.5)).toBe(true);
    await alice.page.getByRole('button', { name: /^Members/ }).click();
    await alice.page.getByLabel('Add a member').waitFor();
    await expectFits(alice.page, ['Add', 'Devices', 'Back to the group']);

    await alice.page.setViewportSize(PHONE);
    await expectFits(alice.page, ['Add', 'Devices', 'Back to the group']);
    await alice.page.getByRole('button', { name: 'Back to the group' }).click();
    await expectFits(alice.page, ['Send', /^Members/, 'Devices']);
    await alice.page.getByRole('button', { name: 'Back to conversations' }).click();
    await alice.page.locator('.conversation-item').first().waitFor();
    await expectFits(alice.page, ['New group', 'Devices']);
    await shot(alice.page, 'phone-list-long-group-name');
    await alice.page.setViewportSize(DESKTOP);
  });

  it('shows the long-named group on the phone of a member (the note and the list wrap)', async () => {
    const row = bob.page.locator('.conversation-item', { hasText: 'Supercalifragilistic' });
    await row.waitFor();
    await expectFits(bob.page, ['New group', 'Devices']);
    await row.click();
    await bob.page.locator('.note', { hasText: 'added you to' }).waitFor();
    await expectFits(bob.page, ['Send', /^Members/]);
    await shot(bob.page, 'phone-long-group-name');
    expect(await bob.page.locator('.note', { hasText: 'added you to' }).evaluate((n) => n.scrollWidth <= n.clientWidth)).toBe(true);
  });

  it('adds a member typed as “@Carol”, and says when a typed member is already in or does not exist', async () => {
    await openConversation(alice.page, (await alice.page.locator('.conversation-item', { hasText: 'Supercalifragilistic' }).getAttribute('data-conversation'))!);
    await alice.page.getByRole('button', { name: /^Members/ }).click();
    const field = alice.page.getByLabel('Add a member');
    await field.fill('@bob');
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.page.locator('.screen .error-text').getByText('@bob is already a member.', { exact: true }).waitFor();
    await field.fill('@ghost');
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.page.locator('.screen .error-text').getByText('No account called @ghost.', { exact: true }).waitFor();
    forgive(alice);
    await field.fill(' @Carol');
    await alice.page.getByRole('button', { name: 'Add', exact: true }).click();
    await alice.page.locator('.members li', { hasText: 'carol' }).waitFor();
    expect(await field.inputValue()).toBe('');
  });

  it('showed no raw code, and left no console or page errors', async () => {
    await waitConnected(alice.page);
    expect(await rawCodesShown(alice.page)).toEqual([]);
    expect(await rawCodesShown(bob.page)).toEqual([]);
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
