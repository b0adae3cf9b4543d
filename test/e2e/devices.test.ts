/**
 * Own devices and contacts' devices in the web client (protocol v2), in Chromium against a real
 * relay, with Node SDK clients as the other side:
 *  - approving a link reports success only once the new device confirmed;
 *  - device names set in the browser reach the account's other devices, and back;
 *  - a newly linked browser lists the account's conversations without any new message;
 *  - a contact linking (and removing) a device shows as a note in the conversation.
 * Steps share state and run in order; each is bounded, and everything is closed at the end.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkDevice, openDevice, registerDevice, tempDir, waitFor, type TestDevice } from '../sdk/helpers.js';
import {
  currentDeviceId, deviceRow, openConversation, openDevices, register, seeText, sendText, waitConnected, type WatchedPage,
} from './helpers.js';
import { openStage, type Stage } from './stage.js';


describe('devices in the web client', () => {
  let stage: Stage;
  const profiles = tempDir('sealpost-e2e-devices-');
  const sdkDevices: TestDevice[] = [];
  let alice: WatchedPage;
  let alicePhone: TestDevice;
  let carol: TestDevice;

  const newPage = (name: string) => stage.page(name);

  beforeAll(async () => {
    stage = await openStage();
  });

  afterAll(async () => {
    for (const device of sdkDevices) await device.client.close().catch(() => undefined);
    await stage?.close();
    profiles.remove();
  });

  it('reports a link as done only after the new device confirmed it', async () => {
    carol = await registerDevice(profiles.path, stage.relay.url, 'carol');
    sdkDevices.push(carol);
    alice = await newPage('alice');
    await register(alice.page, 'alice');
    // A conversation the phone linked later should list without any new message.
    await alice.page.getByLabel('Start a conversation').fill('carol');
    await alice.page.getByRole('button', { name: 'Start', exact: true }).click();
    await sendText(alice.page, 'Hello carol');
    await waitFor(() => carol.seen.some((m) => m.text === 'Hello carol'), 'carol reads alice');

    await openDevices(alice.page);
    expect(await alice.page.locator('.devices li').count()).toBe(1);
    await alice.page.locator('.devices li[data-current="true"]').getByText('This device').waitFor();

    // A new device that registers but is not connected yet cannot confirm.
    alicePhone = await openDevice('alice-phone', join(profiles.path, 'alice-phone'));
    sdkDevices.push(alicePhone);
    const pending = alicePhone.client.startLink(stage.relay.url, { pollMs: 100 });
    expect(pending.code.startsWith('spl2.')).toBe(true);
    await alice.page.getByLabel('Link code').fill(pending.code);
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await alice.page.getByTestId('link-waiting').getByText('Waiting for the new device to confirm…').waitFor();
    await pending.completed;
    await alice.page.waitForTimeout(1500);
    expect(await alice.page.getByTestId('link-success').count()).toBe(0);
    expect(await alice.page.getByTestId('link-waiting').isVisible()).toBe(true);

    alicePhone.client.connect();
    await alice.page.getByTestId('link-success').waitFor();
    await deviceRow(alice.page, pending.deviceId).waitFor();
    expect(await alice.page.locator('.devices li').count()).toBe(2);
    // The confirmation is answered with a sync: the phone knows the conversation with carol.
    await waitFor(() => alicePhone.client.conversations().some((c) => c.conversation.kind === 'direct' && c.conversation.handle === 'carol'), 'the phone gets the sync');
  }, 60_000);

  it('shares device names among the account’s own devices, both ways', async () => {
    const desktopId = await currentDeviceId(alice.page);
    const phoneId = alicePhone.client.deviceId!;
    await deviceRow(alice.page, phoneId).getByText(`Unnamed device · ${phoneId.slice(0, 8)}`).waitFor();

    await deviceRow(alice.page, desktopId).getByRole('button', { name: /^Rename/ }).click();
    await alice.page.getByLabel('Device name').fill('Desk computer');
    await alice.page.getByRole('button', { name: 'Save name' }).click();
    await deviceRow(alice.page, desktopId).locator('.device-name').getByText('Desk computer').waitFor();
    await waitFor(() => alicePhone.client.store.get('deviceNames', desktopId)?.name === 'Desk computer', 'the phone learns the desktop’s name');
    const onPhone = await alicePhone.client.devices();
    expect(onPhone.find((d) => d.deviceId === desktopId)?.name).toBe('Desk computer');

    await alicePhone.client.setDeviceName(phoneId, 'Pocket phone');
    await deviceRow(alice.page, phoneId).locator('.device-name').getByText('Pocket phone').waitFor();
  }, 30_000);

  it('lists the account’s conversations on a newly linked browser, before any new message', async () => {
    const tablet = await newPage('alice tablet');
    await tablet.page.getByRole('button', { name: 'Link to an existing account' }).click();
    const code = (await tablet.page.getByTestId('link-code').textContent())?.trim() ?? '';
    await tablet.page.getByTestId('link-code-expiry').getByText(/expires at .*, in (10|9) minutes/).waitFor();
    await alice.page.getByLabel('Link code').fill(code);
    await alice.page.getByRole('button', { name: 'Link device' }).click();
    await waitConnected(tablet.page);
    await alice.page.getByTestId('link-success').waitFor();
    await tablet.page.locator('[data-conversation="d:carol"]').waitFor();

    // A linked device can name devices but not approve links or remove devices.
    await openDevices(tablet.page);
    await tablet.page.getByTestId('link-needs-authority').getByText('Approve this on the device that created the account').waitFor();
    expect(await tablet.page.getByRole('button', { name: /^Remove/ }).count()).toBe(0);
    await tablet.page.locator('.devices li').getByText('Desk computer').waitFor();
    expect(await tablet.page.getByRole('button', { name: 'Show recovery key' }).count()).toBe(0);
  }, 40_000);

  it('shows a note in the conversation when a contact links or removes a device', async () => {
    const bob = await newPage('bob');
    await register(bob.page, 'bob');
    await (await carol.client.send('bob', 'Hi bob, carol here')).stored;
    await openConversation(bob.page, 'd:carol');
    await seeText(bob.page, 'Hi bob, carol here');

    const carolPhone = await linkDevice(profiles.path, stage.relay.url, carol, 'carol-phone');
    sdkDevices.push(carolPhone);
    await (await carolPhone.client.send('bob', 'Now from my new phone')).stored;
    await seeText(bob.page, 'Now from my new phone');
    await bob.page.locator('.note').getByText('carol linked a new device').waitFor();

    await carol.client.removeDevice(carolPhone.client.deviceId!);
    await (await carol.client.send('bob', 'Phone is gone')).stored;
    await seeText(bob.page, 'Phone is gone');
    await bob.page.locator('.note').getByText('carol removed a device').waitFor();
  }, 45_000);

  it('left no console or page errors', () => {
    for (const page of stage.pages) expect(page.problems, page.name).toEqual([]);
    for (const page of stage.pages) expect(page.dialogs, page.name).toEqual([]);
  });
});
