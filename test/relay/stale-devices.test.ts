/**
 * `stale_devices` (Signal's mismatched-devices answer): an envelope sealed under an older device
 * list than the relay holds for its recipient's account is refused, with the current version, so
 * the sender refreshes the list and reaches the devices it could not know about. Envelopes that
 * name the current version, or none, go through as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeTo, send } from '../support/envelopes.js';
import { addDevice, connectDevice, makeAccount, makeDevice, registerAll } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => relay.close());

describe('envelopes sealed under an old device list', () => {
  it('are refused stale_devices with the current version; current and unversioned ones are stored', async () => {
    const sender = await makeAccount();
    const recipient = await makeAccount();
    await registerAll(relay.url, sender);
    await registerAll(relay.url, recipient);
    const [phone] = recipient.devices;
    const laptop = makeDevice(recipient);
    expect((await addDevice(relay.url, recipient, laptop)).status).toBe(201);
    recipient.devices.push(laptop);
    const socket = await connectDevice(relay.url, sender.devices[0]!);
    try {
      const old = envelopeTo(phone!, 'sealed for the list without the laptop', { list: 1 });
      const current = envelopeTo(phone!, 'sealed for the current list', { list: 2 });
      const unversioned = envelopeTo(phone!, 'an older client');
      const ack = await send(socket, [old, current, unversioned]);
      expect(ack).toEqual({
        ok: true,
        failed: [{ id: old.id, to: phone!.id, error: { code: 'stale_devices', message: "the recipient's device list is at version 2" } }],
      });
      // A single stale envelope is refused as a whole send.
      expect(await send(socket, envelopeTo(laptop, 'alone', { list: 1 }))).toMatchObject({ ok: false, error: { code: 'stale_devices' } });
      expect(await send(socket, envelopeTo(laptop, 'alone, current', { list: 2 }))).toEqual({ ok: true, failed: [] });
    } finally {
      socket.disconnect();
    }
  });
});
