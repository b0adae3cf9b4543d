/**
 * axe-core on every main screen of the web client, in the light and the dark colour scheme:
 * first run, a conversation of 100 messages (sent and received), a group and its members, the
 * safety number, the devices screen, and the phone layout (390×844) of the list and of a
 * conversation. No serious or critical finding may remain; the full results (every impact) go
 * to test-results/accessibility.json for docs/accessibility.md.
 *
 * alice uses Chromium against the real relay; bob and carol are SDK clients in Node, so 100
 * messages and a group take seconds instead of a minute of typing.
 */
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, tempDir, waitFor, type TestDevice } from '../sdk/helpers.js';
import { blocking, checkBothSchemes, writeReport, type ScreenResult } from './axe.js';
import { bubbleState, openConversation, openDevices, register, seeText, type WatchedPage } from './helpers.js';
import { PHONE, openStage, type Stage } from './stage.js';

const REPORT = resolve('test-results/accessibility.json');
const SENT = 30;
const RECEIVED = 70;

describe('accessibility of every main screen (axe-core, light and dark)', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-axe-');
  let bob: TestDevice;
  let carol: TestDevice;
  let alice: WatchedPage;
  const results: ScreenResult[] = [];

  beforeAll(async () => {
    stage = await openStage();
    bob = await registerDevice(profiles.path, stage.relay.url, 'bob');
    carol = await registerDevice(profiles.path, stage.relay.url, 'carol');
  });

  afterAll(async () => {
    writeReport(REPORT, results);
    for (const device of [bob, carol]) await device?.client.close().catch(() => undefined);
    await stage?.close();
    profiles.remove();
  });

  it('first run', async () => {
    alice = await stage.page('alice');
    await alice.page.getByRole('button', { name: 'Create account' }).waitFor();
    await checkBothSchemes(alice.page, 'first run', results);
    await register(alice.page, 'alice');
  }, 30_000);

  it('a conversation with 100 messages', async () => {
    const page = alice.page;
    await page.getByLabel('Start a conversation').fill('bob');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    const box = page.locator('#composer-text');
    await box.waitFor();
    // Typed without waiting for each bubble: the composer clears at once and the outbox keeps order.
    for (let i = 1; i <= SENT; i++) {
      await box.fill(`From alice, number ${i}`);
      await box.press('Enter');
    }
    await bubbleState(page, `From alice, number ${SENT}`, 'delivered');
    for (let i = 1; i <= RECEIVED; i++) await bob.client.send('alice', `${'A longer line of text, '.repeat(i % 4)}from bob, number ${i}`);
    await seeText(page, `${'A longer line of text, '.repeat(RECEIVED % 4)}from bob, number ${RECEIVED}`);
    expect(await page.locator('.bubble').count()).toBe(SENT + RECEIVED);
    await checkBothSchemes(page, 'conversation (100 messages)', results);
  }, 60_000);

  it('the safety number', async () => {
    await alice.page.getByRole('button', { name: 'Safety number' }).click();
    await alice.page.getByTestId('safety-number').waitFor();
    await alice.page.locator('img.qr').waitFor();
    await checkBothSchemes(alice.page, 'safety number', results);
  }, 30_000);

  it('a group and its members', async () => {
    const group = await carol.client.createGroup('Weekend plans', ['alice', 'bob']);
    await carol.client.sendToGroup(group.groupId, 'Shall we meet on Saturday?');
    await waitFor(() => bob.client.groups().length === 1, 'bob knows the group');
    await bob.client.sendToGroup(group.groupId, 'Saturday works for me');
    await openConversation(alice.page, `g:${group.groupId}`);
    await seeText(alice.page, 'Saturday works for me');
    await checkBothSchemes(alice.page, 'group', results);
    await alice.page.getByRole('button', { name: /^Members/ }).click();
    await alice.page.locator('.members li').nth(2).waitFor();
    await checkBothSchemes(alice.page, 'group members', results);
  }, 30_000);

  it('the devices screen', async () => {
    await openDevices(alice.page);
    await checkBothSchemes(alice.page, 'devices', results);
  }, 30_000);

  it('the phone layout: the list and a conversation', async () => {
    const page = alice.page;
    await page.setViewportSize(PHONE);
    await page.goto(`${stage.relay.url}/#/`);
    await page.locator('[data-conversation="d:bob"]').waitFor();
    await checkBothSchemes(page, 'phone: conversation list', results);
    await openConversation(page, 'd:bob');
    await seeText(page, `From alice, number ${SENT}`);
    await checkBothSchemes(page, 'phone: conversation', results);
  }, 30_000);

  it('has no serious or critical finding on any screen, in either scheme', () => {
    expect(results.map((r) => `${r.screen} (${r.scheme})`)).toHaveLength(16);
    expect(blocking(results)).toEqual([]);
    // The dark checks are worth something only if the dark scheme is what was drawn.
    for (const screen of new Set(results.map((r) => r.screen))) {
      const [dark, light] = [results.find((r) => r.screen === screen && r.scheme === 'dark'), results.find((r) => r.screen === screen && r.scheme === 'light')];
      expect(dark?.background, screen).toBe('rgb(15, 20, 25)');
      expect(light?.background, screen).toBe('rgb(244, 245, 247)');
    }
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
  });
});
