/**
 * alice (two linked devices) and bob (one) converse through a real relay: every device of both
 * sees every message exactly once, in order per sender — also what was sent while a device
 * was offline. Typing is never queued, and nothing the relay wrote holds a text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoNeedles, relaySources } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { linkDevice, registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';

describe('a conversation between a two-device account and a one-device account', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-conv-');
  let alice1: TestDevice;
  let alice2: TestDevice;
  let bob: TestDevice;

  beforeAll(async () => {
    relay = await startRelay();
    alice1 = await registerDevice(profiles.path, relay.url, 'alice');
    alice2 = await linkDevice(profiles.path, relay.url, alice1, 'alice-phone');
    bob = await registerDevice(profiles.path, relay.url, 'bob');
  });

  afterAll(async () => {
    for (const device of [alice1, alice2, bob]) await device?.client.close();
    await relay?.close();
    profiles.remove();
  });

  it('links the second device to the same account identity', async () => {
    expect(alice2.client.handle).toBe('alice');
    expect(alice2.client.account?.identityKey).toBe(alice1.client.account?.identityKey);
    // v2: the linked device holds no account authority.
    expect(alice2.client.account?.authority).toBeUndefined();
    expect(alice2.client.hasAuthority).toBe(false);
    const devices = await alice1.client.devices();
    expect(devices.map((d) => d.deviceId).sort()).toEqual([alice1.client.deviceId, alice2.client.deviceId].sort());
  });

  it('delivers every message to every device of both accounts exactly once, in order per sender', async () => {
    const fromAlice = ['hi bob', 'it is alice', 'from my laptop'];
    for (const text of fromAlice) await (await alice1.client.send('bob', text)).stored;
    await (await bob.client.send('alice', 'hello alice')).stored;
    await (await alice2.client.send('bob', 'and from my phone')).stored;
    await (await bob.client.send('alice', 'got both')).stored;

    const aliceTexts = [...fromAlice, 'and from my phone'];
    const bobTexts = ['hello alice', 'got both'];
    await waitFor(() => textsFrom(bob, 'alice').length >= aliceTexts.length, 'bob has all of alice\'s');
    await waitFor(() => textsFrom(alice2, 'alice').length >= fromAlice.length, 'alice2 has the laptop copies');
    for (const device of [alice1, alice2]) await waitFor(() => textsFrom(device, 'bob').length >= bobTexts.length, `${device.name} has bob's`);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a duplicate to show up
    // alice1 wrote the laptop messages itself (no event for them); alice2 got copies.
    expect(textsFrom(bob, 'alice')).toEqual(aliceTexts);
    expect(textsFrom(alice1, 'alice')).toEqual(['and from my phone']);
    expect(textsFrom(alice2, 'alice')).toEqual(fromAlice);
    for (const device of [alice1, alice2]) expect(textsFrom(device, 'bob')).toEqual(bobTexts);
    expect(alice2.seen.filter((m) => m.outgoing).every((m) => m.conversation.kind === 'direct' && m.conversation.handle === 'bob')).toBe(true);
  });

  it('delivers what was sent while a device was offline, once, in order', async () => {
    await alice2.client.close();
    const sentOffline = ['are you there?', 'phone is off', 'third one'];
    for (const text of sentOffline) await (await bob.client.send('alice', text)).stored;
    await (await alice1.client.send('bob', 'yes, on the laptop')).stored;

    alice2 = await alice2.reopen();
    await waitFor(() => textsFrom(alice2, 'bob').length >= 2 + sentOffline.length, 'alice2 drained its backlog');
    await waitFor(() => textsFrom(alice2, 'alice').length >= 4, 'alice2 got the laptop copy');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(textsFrom(alice2, 'bob')).toEqual(['hello alice', 'got both', ...sentOffline]);
    expect(textsFrom(alice2, 'alice').at(-1)).toBe('yes, on the laptop');
    expect(textsFrom(alice1, 'bob')).toEqual(['hello alice', 'got both', ...sentOffline]);
  });

  it('moves message states to delivered and read through encrypted receipts', async () => {
    const states: string[] = [];
    const outgoing = await alice1.client.send('bob', 'please read');
    alice1.client.on('message_state', (change) => change.id === outgoing.id && states.push(change.state));
    await outgoing.stored;
    await waitFor(() => alice1.client.store.get('messages', outgoing.id)?.state === 'delivered', 'delivered receipt');
    await bob.client.markRead('alice', [outgoing.id]);
    await waitFor(() => alice1.client.store.get('messages', outgoing.id)?.state === 'read', 'read receipt');
    expect(states).toContain('read');
  });

  it('shows typing through ephemeral envelopes that the relay never queues', async () => {
    const seen: boolean[] = [];
    bob.client.on('typing', (event) => event.from === 'alice' && seen.push(event.typing));
    // Counted by the relay, not read from SQLite's queue table (which the queue log bypasses):
    // every accepted envelope is stored unless it is ephemeral, so accepted minus stored grows
    // only by ephemeral ones. Other traffic (late receipts) is stored and moves both.
    const counter = async (name: 'envelopesAccepted' | 'envelopesStored') => (await relay.app.relay.metrics[name].get()).values[0]?.value ?? 0;
    const unstored = async () => (await counter('envelopesAccepted')) - (await counter('envelopesStored'));
    const before = await unstored();
    await alice1.client.sendTyping({ handle: 'bob' }, true);
    await waitFor(() => seen.includes(true), 'bob sees alice typing');
    const deadline = Date.now() + 5000;
    while ((await unstored()) <= before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await unstored()).toBeGreaterThan(before);
  });

  it('leaves none of the texts in anything the relay wrote', async () => {
    // Everything sent above, some of it queued for the offline phone (test/support/privacy-scan.ts).
    const texts = [
      'hi bob', 'it is alice', 'from my laptop', 'hello alice', 'and from my phone', 'got both',
      'are you there?', 'phone is off', 'third one', 'yes, on the laptop', 'please read',
    ];
    await expectNoNeedles(relaySources(relay), texts);
  });

  it('computes the same safety number on both sides', async () => {
    const fromAlice = await alice1.client.safetyNumber('bob');
    expect(fromAlice).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(await bob.client.safetyNumber('alice')).toBe(fromAlice);
    expect(await alice2.client.safetyNumber('bob')).toBe(fromAlice);
  });
});
