/**
 * The recovery key in the web client (protocol v2), in Chromium against a real relay: the key is
 * shown on request on the authority device, erasing the account's only device warns first and
 * needs a second confirmation, and a fresh browser recovers the account with the key and keeps
 * receiving messages. A Node SDK client plays the contact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDevice, tempDir, type TestDevice } from '../sdk/helpers.js';
import { currentDeviceId, forgiveNetworkErrors, openConversation, openDevices, seeText, waitConnected, type WatchedPage } from './helpers.js';
import { openStage, type Stage } from './stage.js';

const WRONG_KEY = 'That recovery key does not belong to this account, or a character is mistyped.';

describe('recovering an account in the web client', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-recovery-');
  let dora: WatchedPage;
  let ed: TestDevice;
  let recoveryKey = '';
  let lostDeviceId = '';

  beforeAll(async () => {
    stage = await openStage();
  });

  afterAll(async () => {
    await ed?.client.close().catch(() => undefined);
    await stage?.close();
    profiles.remove();
  });

  it('shows the recovery key only on request, with a reminder until then, and copies it', async () => {
    ed = await registerDevice(profiles.path, stage.relay.url, 'edgar');
    // The relay's page is the only origin in the context, so granting to every origin is the same.
    dora = await stage.person('dora', { permissions: ['clipboard-read', 'clipboard-write'] });
    await (await ed.client.send('dora', 'Before the loss')).stored;
    await openConversation(dora.page, 'd:edgar');
    await seeText(dora.page, 'Before the loss');

    await dora.page.getByRole('button', { name: 'Write down your recovery key' }).click();
    await dora.page.getByText('You have not viewed your recovery key yet.').waitFor();
    expect(await dora.page.getByTestId('recovery-key').count()).toBe(0);
    await dora.page.getByRole('button', { name: 'Show recovery key' }).click();
    recoveryKey = ((await dora.page.getByTestId('recovery-key').textContent()) ?? '').trim();
    expect(recoveryKey).toMatch(/^([a-z2-7]{4}-){13}[a-z2-7]{4}$/);
    await dora.page.getByText('Write it down on paper and keep it offline').waitFor();
    await dora.page.getByRole('button', { name: 'Copy recovery key' }).click();
    await dora.page.locator('.recovery').getByText('Copied.').waitFor();
    expect(await dora.page.evaluate(() => navigator.clipboard.readText())).toBe(recoveryKey);
    // Seen: the reminder in the top bar is gone.
    expect(await dora.page.getByRole('button', { name: 'Write down your recovery key' }).count()).toBe(0);
    await dora.page.getByRole('button', { name: 'Hide' }).click();
    await dora.page.getByText(/You last viewed it on/).waitFor();
  }, 40_000);

  it('warns before erasing the account’s only device, offers the key, and erases only on a second confirmation', async () => {
    await openDevices(dora.page);
    lostDeviceId = await currentDeviceId(dora.page);
    await dora.page.getByRole('button', { name: 'Erase this device' }).click();
    const warning = dora.page.getByTestId('erase-warning');
    await warning.getByText('This is the only device of @dora.').waitFor();
    await warning.getByText(/loses the handle “dora” for good/).waitFor();
    expect(await dora.page.getByRole('button', { name: 'Erase for good' }).count()).toBe(0);

    await warning.getByRole('button', { name: 'Show recovery key' }).click();
    expect(((await dora.page.getByTestId('recovery-key').textContent()) ?? '').trim()).toBe(recoveryKey);

    await warning.getByRole('button', { name: 'I have the recovery key, continue' }).click();
    await dora.page.getByRole('button', { name: 'Erase for good' }).click();
    await dora.page.getByRole('button', { name: 'Create account' }).waitFor();
    expect(await dora.page.getByRole('button', { name: 'Recover an account' }).isVisible()).toBe(true);
  }, 30_000);

  it('recovers the account with the key in a fresh browser, refusing a wrong key in words', async () => {
    const fresh = await stage.page('dora (recovered)');
    await fresh.page.getByRole('button', { name: 'Recover an account' }).click();
    // Focus lands on the form's first field (set in an effect, so shortly after the click).
    await fresh.page.waitForFunction(() => document.activeElement?.id === 'recover-handle');
    await fresh.page.getByLabel('Handle').fill('dora');

    // Another account's key: the relay refuses the signed device-list read (401), which Chromium
    // logs as a failed resource load — expected here, and nothing else may be logged.
    await forgiveNetworkErrors([fresh], async () => {
      await fresh.page.getByLabel('Recovery key').fill(ed.client.recoveryKey());
      await fresh.page.getByRole('button', { name: 'Recover account' }).click();
      await fresh.page.getByRole('alert').getByText(WRONG_KEY).waitFor();
    }, /Failed to load resource: the server responded with a status of 401/);
    const typo = recoveryKey.slice(0, 10) + (recoveryKey[10] === 'a' ? 'b' : 'a') + recoveryKey.slice(11);
    await fresh.page.getByLabel('Recovery key').fill(typo);
    await fresh.page.getByRole('button', { name: 'Recover account' }).click();
    await fresh.page.getByRole('alert').getByText(WRONG_KEY).waitFor();

    await fresh.page.getByLabel('Recovery key').fill(recoveryKey.toUpperCase().replaceAll('-', ' '));
    await fresh.page.getByRole('button', { name: 'Recover account' }).click();
    await waitConnected(fresh.page);
    // The key was typed in, so the app does not nag about writing it down.
    expect(await fresh.page.getByRole('button', { name: 'Write down your recovery key' }).count()).toBe(0);

    await openDevices(fresh.page);
    expect(await fresh.page.locator('.devices li').count()).toBe(1);
    expect(await currentDeviceId(fresh.page)).not.toBe(lostDeviceId);
    await fresh.page.getByRole('button', { name: 'Show recovery key' }).waitFor();

    await (await ed.client.send('dora', 'After the recovery')).stored;
    await fresh.page.locator('[data-conversation="d:edgar"]').click();
    await seeText(fresh.page, 'After the recovery');
  }, 45_000);

  it('offers to erase a profile made by protocol v1, after a confirmation', async () => {
    const old = await stage.page('v1 profile');
    await old.page.getByRole('button', { name: 'Create account' }).waitFor();
    await old.page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((done, fail) => {
        const request = indexedDB.open('sealpost');
        request.onsuccess = () => done(request.result);
        request.onerror = () => fail(request.error);
      });
      const tx = db.transaction('account', 'readwrite');
      tx.objectStore('account').put({ v: 1, handle: 'oldtimer' }, 'self');
      await new Promise((done) => (tx.oncomplete = done));
      db.close();
    });
    await old.page.reload();
    await old.page.getByRole('alert').getByText('made by an older version of Sealpost').waitFor();
    await old.page.getByRole('button', { name: 'Erase the old data' }).click();
    await old.page.getByRole('button', { name: 'Erase for good' }).click();
    await old.page.getByRole('button', { name: 'Create account' }).waitFor();
  }, 30_000);

  it('left no console or page errors', () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
    for (const page of stage.pages) expect(page.dialogs, page.name).toEqual([]);
  });
});
