/**
 * One tab per profile in the web client: two tabs of one browser context share one IndexedDB
 * profile, and only the tab holding the Web Lock "sealpost-profile" opens it. The contact, bob,
 * is an SDK client on the same real relay. The steps run in order and share state.
 */
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdkError } from '../../client/sdk/index.js';
import { registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from '../sdk/helpers.js';
import {
  bubbleState, forgiveNetworkErrors, openConversation, register, seeText, sendText, STEP_TIMEOUT, timelineTexts, waitConnected, type WatchedPage,
} from './helpers.js';
import { SHOTS, openStage, type Stage } from './stage.js';

const DURING = Array.from({ length: 8 }, (_, i) => `bob while switching ${i + 1}`);

/** Texts shown in `page`'s open conversation, each with how often it appears. */
async function counts(page: Page): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const text of await timelineTexts(page)) result.set(text, (result.get(text) ?? 0) + 1);
  return result;
}

/** Every outgoing bubble reaches delivered or read: none stays "Sending…" or "Sent". */
async function allDelivered(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelectorAll('.bubble.outgoing[data-state="sending"], .bubble.outgoing[data-state="stored"], .bubble.outgoing[data-state="failed"]').length === 0);
}

async function noDecryptFailures(page: Page): Promise<void> {
  const notices = await page.locator('.notice').allTextContents();
  expect(notices.join(' ')).not.toMatch(/decrypt_failed|could not be read|could not be decrypted/);
}

describe('one tab per profile (Chromium)', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-onetab-');
  const rejected: SdkError[] = [];
  let bob: TestDevice;
  let tabA: WatchedPage;
  let tabB: WatchedPage;
  let aliceDevice = '';

  /** How many live sockets alice's device has at the relay (one per tab that opened the client). */
  const aliceSockets = () => stage.relay.app.io.of('/').adapter.rooms.get(aliceDevice)?.size ?? 0;

  /** How many times the relay has answered a request for version.json (the app's version check). */
  const versionChecks = () => stage.relay.logs.filter((line) => line.includes('"route":"/version.json"')).length;

  beforeAll(async () => {
    stage = await openStage();
    bob = await registerDevice(profiles.path, stage.relay.url, 'bob');
    bob.client.on('rejected', (error) => rejected.push(error));
  });

  afterAll(async () => {
    await bob?.client.close();
    await stage?.close();
    profiles.remove();
  });

  it('a second tab on the profile opens nothing and offers “Use here”', async () => {
    tabA = await stage.page('tab A');
    await register(tabA.page, 'alice');
    const db = new Database(stage.relay.dbPath, { readonly: true });
    try {
      aliceDevice = (db.prepare('SELECT device_id FROM devices WHERE handle = ?').get('alice') as { device_id: string }).device_id;
    } finally {
      db.close();
    }
    await tabA.page.getByLabel('Start a conversation').fill('bob');
    await tabA.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(tabA.page, 'alice before the switch');
    await bubbleState(tabA.page, 'alice before the switch', 'delivered');
    await (await bob.client.send('alice', 'bob before the switch')).stored;
    await seeText(tabA.page, 'bob before the switch');

    // Tab B's sockets, seen as the page creates them (not only once the relay has let one in).
    const tabBSockets: string[] = [];
    const watchSockets = (opened: Page) => opened.on('websocket', (socket) => tabBSockets.push(socket.url()));
    tabA.page.context().on('page', watchSockets);
    const checksBefore = versionChecks();
    tabB = await stage.tab(tabA, 'tab B');
    tabA.page.context().off('page', watchSockets);
    await tabB.page.getByRole('heading', { name: 'Sealpost is open in another tab' }).waitFor();
    const useHere = tabB.page.getByRole('button', { name: 'Use here' });
    expect(await useHere.evaluate((el) => el === document.activeElement)).toBe(true);
    // Neither the app nor its first run: the client was never opened here.
    expect(await tabB.page.locator('.connection, .shell, #handle-input').count()).toBe(0);
    await tabB.page.screenshot({ path: resolve(SHOTS, 'one-tab-open-elsewhere.png') });
    // "Still one socket" means something only once tab B is done starting. Its page asks the
    // service worker to check the relay's version.json only after boot() has settled, whichever
    // way it went (main.tsx), and tab A's next check is an hour away: that request is the sign.
    await expect.poll(versionChecks, { timeout: STEP_TIMEOUT }).toBeGreaterThan(checksBefore);
    expect(tabBSockets).toEqual([]);
    expect(aliceSockets()).toBe(1);
    await waitConnected(tabA.page);
  }, 60_000);

  it('“Use here” moves the app: the first tab stops, nothing is lost or doubled', async () => {
    // bob keeps writing while alice switches tabs.
    const bobWrites = (async () => {
      for (const text of DURING) {
        await bob.client.send('alice', text);
        await new Promise((r) => setTimeout(r, 120));
      }
    })();
    await tabB.page.getByRole('button', { name: 'Use here' }).click();
    await tabA.page.getByRole('heading', { name: 'Sealpost was opened in another tab' }).waitFor();
    expect(await tabA.page.getByRole('button', { name: 'Use here' }).evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await tabA.page.locator('#composer-text, .shell').count()).toBe(0);
    await tabA.page.screenshot({ path: resolve(SHOTS, 'one-tab-moved.png') });
    await waitConnected(tabB.page);
    await bobWrites;

    await openConversation(tabB.page, 'd:bob');
    await seeText(tabB.page, DURING.at(-1)!);
    const seen = await counts(tabB.page);
    for (const text of ['alice before the switch', 'bob before the switch', ...DURING]) expect(seen.get(text), text).toBe(1);

    await sendText(tabB.page, 'alice from the second tab');
    await waitFor(() => textsFrom(bob, 'alice').includes('alice from the second tab'), 'bob receives the second tab’s message');
    await allDelivered(tabB.page);
    expect(aliceSockets()).toBe(1);
    expect(textsFrom(bob, 'alice')).toEqual(['alice before the switch', 'alice from the second tab']);
    await noDecryptFailures(tabB.page);
    expect(rejected).toEqual([]);
  }, 60_000);

  it('a message queued while the relay is down goes out from the tab that takes the profile back', async () => {
    await forgiveNetworkErrors(stage.pages, async () => {
      await stage.restartRelay(async () => {
        await tabB.page.locator('.connection[data-state="connecting"]').waitFor();
        await sendText(tabB.page, 'queued in the second tab');
        await tabB.page.locator('.bubble.outgoing[data-state="sending"]').filter({ hasText: 'queued in the second tab' }).waitFor();

        // Back to the first tab ("Use here" there takes it back) while the relay is still down.
        await tabA.page.getByRole('button', { name: 'Use here' }).click();
        await tabB.page.getByRole('heading', { name: 'Sealpost was opened in another tab' }).waitFor();
        await tabA.page.locator('.connection[data-state="connecting"]').waitFor();
      });
      await waitConnected(tabA.page);
      await waitFor(() => bob.client.connectionState === 'connected', 'bob reconnects');
    });
    await waitFor(() => textsFrom(bob, 'alice').includes('queued in the second tab'), 'bob receives the queued message');
    await (await bob.client.send('alice', 'bob after switching back')).stored;

    await openConversation(tabA.page, 'd:bob');
    await seeText(tabA.page, 'bob after switching back');
    await allDelivered(tabA.page);
    const seen = await counts(tabA.page);
    for (const text of ['alice before the switch', 'bob before the switch', ...DURING, 'alice from the second tab', 'queued in the second tab', 'bob after switching back']) {
      expect(seen.get(text), text).toBe(1);
    }
    expect(textsFrom(bob, 'alice')).toEqual(['alice before the switch', 'alice from the second tab', 'queued in the second tab']);
    expect(aliceSockets()).toBe(1);
    await noDecryptFailures(tabA.page);
    expect(rejected).toEqual([]);
  }, 60_000);

  it('left no console or page errors and no dialogs', () => {
    for (const page of stage.pages) {
      expect(page.problems, page.name).toEqual([]);
      expect(page.dialogs, page.name).toEqual([]);
    }
  });
});
