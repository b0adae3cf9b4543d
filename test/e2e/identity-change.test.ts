/**
 * A pending identity change in the web client: the relay reports a new identity key for carol
 * (a malicious relay, played by editing its database as chat.test.ts does). The safety number
 * screen shows the NEW key's number — the one the SDK's crypto computes for that key — with a
 * warning to compare it before accepting, and accepting takes an explicit second step.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, ready, safetyNumber } from '../../crypto/index.js';
import { registerDevice, tempDir, type TestDevice } from '../sdk/helpers.js';
import { STEP_TIMEOUT, type WatchedPage } from './helpers.js';
import { SHOTS, openStage, type Stage } from './stage.js';

function identityKeyOf(dbPath: string, handle: string): string {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT identity_key FROM accounts WHERE handle = ?').get(handle) as { identity_key: string }).identity_key;
  } finally {
    db.close();
  }
}

describe('safety number during a pending identity change (Chromium)', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-idchange-');
  let carol: TestDevice;
  let alice: WatchedPage;
  const swappedKey = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    stage = await openStage();
    await ready();
    carol = await registerDevice(profiles.path, stage.relay.url, 'carol');
  });

  afterAll(async () => {
    await carol?.client.close();
    await stage?.close();
    profiles.remove();
  });

  it('shows the new key’s number with a warning, and accepting needs a confirmation', async () => {
    alice = await stage.person('alice');
    await alice.page.getByLabel('Start a conversation').fill('carol');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    const box = alice.page.locator('#composer-text');
    await box.waitFor();

    const ours = { handle: 'alice', identityKey: fromBase64Url(identityKeyOf(stage.relay.dbPath, 'alice')) };
    const oldNumber = safetyNumber(ours, { handle: 'carol', identityKey: fromBase64Url(carol.client.account!.identityKey) });
    const newNumber = safetyNumber(ours, { handle: 'carol', identityKey: fromBase64Url(swappedKey) });
    expect(newNumber).not.toBe(oldNumber);

    const db = new Database(stage.relay.dbPath);
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE accounts SET identity_key = ? WHERE handle = ?').run(swappedKey, 'carol');
    } finally {
      db.close();
    }
    // Looking carol up again (starting the conversation anew) finds the changed key.
    await alice.page.getByLabel('Start a conversation').fill('carol');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await alice.page.locator('.identity-warning').getByText('carol’s safety number changed.').waitFor();
    // The conversation offers no one-click accept: only the way to the comparison.
    expect(await alice.page.getByRole('button', { name: /^Accept/ }).count()).toBe(0);
    await alice.page.getByRole('button', { name: 'Compare and accept the new key' }).click();

    const warning = alice.page.getByTestId('pending-key-warning');
    await warning.getByText('This is the safety number for their NEW key.', { exact: false }).waitFor();
    await warning.getByText('in person or on a call', { exact: false }).waitFor();
    const shown = (await alice.page.getByTestId('safety-number').innerText()).replace(/\s+/g, ' ').trim();
    expect(shown).toBe(newNumber);
    expect(shown).not.toBe(oldNumber);
    // Focus lands on the screen, not on the accept button.
    expect(await alice.page.evaluate(() => document.activeElement?.tagName)).toBe('H2');

    // Step one opens the confirmation; it cannot be confirmed until the comparison is ticked.
    await warning.getByRole('button', { name: 'Accept the new key' }).click();
    const checkbox = warning.getByLabel('I compared the numbers with carol and they match');
    const confirm = warning.getByRole('button', { name: 'Confirm: accept carol’s new key' });
    await checkbox.waitFor();
    expect(await checkbox.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await confirm.isDisabled()).toBe(true);
    // A click forced on it (past Playwright's own "is it enabled" check) must reach the button and
    // still do nothing: record, on window, which element each pointer event and click got to.
    type Reached = { reached: Array<{ type: string; confirm: boolean }> };
    await alice.page.evaluate(() => {
      const reached: Reached['reached'] = [];
      (window as unknown as Reached).reached = reached;
      for (const type of ['pointerdown', 'pointerup', 'click']) {
        window.addEventListener(type, (event) => {
          const target = event.target instanceof Element ? event.target.closest('button') : null;
          reached.push({ type, confirm: target?.textContent?.startsWith('Confirm: accept') ?? false });
        }, true);
      }
    });
    await confirm.click({ force: true });
    const reached = () => alice.page.evaluate(() => (window as unknown as Reached).reached);
    // The press went through on the button itself (the pointer's up comes last in it)...
    await expect.poll(async () => (await reached()).filter((r) => r.confirm).map((r) => r.type).includes('pointerup'), { timeout: STEP_TIMEOUT }).toBe(true);
    // ...and, the button being disabled, no click came of it.
    expect((await reached()).filter((r) => r.type === 'click')).toEqual([]);
    expect(await confirm.isDisabled()).toBe(true);
    expect(await checkbox.isChecked()).toBe(false);
    expect(await warning.isVisible()).toBe(true);
    // Escape steps back without accepting.
    await checkbox.press('Escape');
    await warning.getByRole('button', { name: 'Accept the new key' }).waitFor();
    expect(await warning.isVisible()).toBe(true);

    await warning.getByRole('button', { name: 'Accept the new key' }).click();
    await checkbox.check();
    expect(await confirm.isDisabled()).toBe(false);
    await alice.page.screenshot({ path: resolve(SHOTS, 'safety-pending-confirm.png') });
    await confirm.click();
    await warning.waitFor({ state: 'detached' });
    await alice.page.getByText('You accepted carol’s new key.', { exact: false }).waitFor();
    // Now the pinned key is the new one: the same number, no longer a pending change.
    const after = (await alice.page.getByTestId('safety-number').innerText()).replace(/\s+/g, ' ').trim();
    expect(after).toBe(newNumber);
    await alice.page.getByRole('button', { name: 'Mark as verified' }).waitFor();

    await alice.page.getByRole('button', { name: 'Back to the conversation' }).click();
    await box.waitFor();
    expect(await box.isDisabled()).toBe(false);
    await alice.page.locator('.identity-warning').waitFor({ state: 'detached' });
    expect(alice.problems).toEqual([]);
    expect(alice.dialogs).toEqual([]);
  }, 60_000);
});
