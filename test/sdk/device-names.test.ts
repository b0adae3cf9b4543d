/**
 * Device names (client/sdk/device-names.ts, docs/PROTOCOL.md §14.6): chosen on any of the
 * account's devices, carried only in end-to-end encrypted `sync` contents to its own devices,
 * converging when two devices rename at once, and never readable by the relay — not in its
 * files, not in its log, even while a rename waits in the queue for a device that is offline.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../crypto/index.js';
import { decodeContent } from '../../client/sdk/content.js';
import { isNewerName, nameRecord, normalizeDeviceName } from '../../client/sdk/device-names.js';
import { SdkError } from '../../client/sdk/errors.js';
import { expectNoNeedles, relaySources } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { linkDevice, registerDevice, tempDir, waitFor, type TestDevice } from './helpers.js';

describe('device names', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-device-names-');
  let desk: TestDevice;
  let laptop: TestDevice;
  let bob: TestDevice;
  const opened: TestDevice[] = [];

  beforeAll(async () => {
    relay = await startRelay();
    desk = await registerDevice(profiles.path, relay.url, 'alice');
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    laptop = await linkDevice(profiles.path, relay.url, desk, 'alice-laptop');
    opened.push(desk, bob, laptop);
  });

  afterAll(async () => {
    for (const device of opened) await device.client.close().catch(() => undefined);
    await relay?.close();
    profiles.remove();
  });

  const nameOn = (device: TestDevice, deviceId: string) => device.client.store.get('deviceNames', deviceId)?.name;

  it('normalizes names and refuses empty, long, control-character and other accounts’ devices', async () => {
    expect(normalizeDeviceName('  Work   laptop\n')).toBe('Work laptop');
    expect(() => normalizeDeviceName('   ')).toThrow(SdkError);
    expect(() => normalizeDeviceName('x'.repeat(65))).toThrow(/1 to 64/);
    expect(() => normalizeDeviceName('bell\u0007')).toThrow(/control/);
    await expect(desk.client.setDeviceName(bob.client.deviceId!, 'Not mine')).rejects.toThrow(/not one of this account/);
    expect(nameOn(desk, bob.client.deviceId!)).toBeUndefined();
  });

  it('the names-only sync shown in docs/PROTOCOL.md §14.6 is a valid content', () => {
    const doc = readFileSync('docs/PROTOCOL.md', 'utf8');
    const example = doc.match(/^\{"v":2,"type":"sync".*"full":false.*$/m)?.[0];
    expect(example).toBeDefined();
    // The document elides list-head hashes as "…"; any 43-character key stands in for them.
    const content = decodeContent(utf8(example!.replaceAll('"…"', `"${'A'.repeat(43)}"`)));
    expect(content).toMatchObject({ type: 'sync', full: false, deviceNames: [{ name: 'Work laptop' }] });
  });

  it('takes the newer name, and on the same time the same one on every device', () => {
    const a = { deviceId: 'd', name: 'Alpha', at: 5 };
    expect(isNewerName(undefined, a)).toBe(true);
    expect(isNewerName(a, { ...a, name: 'Older', at: 4 })).toBe(false);
    expect(isNewerName(a, { ...a, name: 'Newer', at: 6 })).toBe(true);
    // A tie is broken by the name, so both devices keep "Beta" whatever order the syncs arrive in.
    expect(isNewerName(a, { ...a, name: 'Beta' })).toBe(true);
    expect(isNewerName({ ...a, name: 'Beta' }, a)).toBe(false);
  });

  it('reaches the account’s other devices both ways and never bob', async () => {
    const laptopId = laptop.client.deviceId!;
    const deskId = desk.client.deviceId!;
    await laptop.client.setDeviceName(laptopId, 'Chromium on Linux');
    await waitFor(() => nameOn(desk, laptopId) === 'Chromium on Linux', 'the desk learns the laptop’s own name');
    await desk.client.setDeviceName(laptopId, 'Kitchen laptop');
    await desk.client.setDeviceName(deskId, 'Desk computer');
    await waitFor(() => nameOn(laptop, laptopId) === 'Kitchen laptop' && nameOn(laptop, deskId) === 'Desk computer', 'the laptop learns both');
    expect((await laptop.client.devices()).map((d) => d.name).sort()).toEqual(['Desk computer', 'Kitchen laptop']);
    expect(bob.client.store.count('deviceNames')).toBe(0);
    // A device whose clock is behind (here: at 0) still moves a name forward.
    const held = desk.client.store.get('deviceNames', laptopId)!;
    expect(nameRecord(desk.client.store, desk.client.account!, laptopId, 'x', 0).at).toBe(held.at + 1);
  });

  it('is never in what the relay writes, even while a rename waits in the queue', async () => {
    const laptopId = laptop.client.deviceId!;
    await laptop.client.close();
    opened.splice(opened.indexOf(laptop), 1);
    const secretName = 'Grandmother’s attic tablet';
    await desk.client.setDeviceName(laptopId, secretName);
    await desk.client.outboxDrained();
    // Scanned while the relay holds the rename for the offline laptop, and again after delivery.
    await expectNoNeedles(relaySources(relay), [secretName, 'Desk computer', 'Kitchen laptop', 'Chromium on Linux']);
    laptop = await laptop.reopen();
    opened.push(laptop);
    await waitFor(() => nameOn(laptop, laptopId) === secretName, 'the laptop gets the rename from the queue');
    await expectNoNeedles(relaySources(relay), [secretName]);
  });
});
