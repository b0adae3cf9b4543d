/**
 * Protocol v2's promise, tried as an attacker would: only the account's own devices read its
 * messages, and the relay cannot change that unseen. A linked device holds no authority; a
 * removed one (with a full copy of its profile) reads nothing sent afterwards and can change
 * nothing; a relay that re-lists it, rolls a list back, forges one or shows different lists to
 * different people is caught. Real relay on port 0, real SDK, real libsodium; the lies are
 * served through LyingRelay (the HTTP answers a malicious operator could give).
 */
import { cpSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLinkSecret, deviceIdOf, encodeLinkCode, fromBase64Url, fromUtf8, generateDhKeyPair, generateSigningKeyPair, openLinkBundle,
  signDeviceList, signSignedPrekey, toBase64Url,
} from '../../crypto/index.js';
import { RelayHttp } from '../../client/sdk/relay-http.js';
import type { DeviceListMismatch, DeviceListRefusal, DeviceRefusal, DevicesChanged } from '../../client/sdk/index.js';
import type { AccountViewJson, SignedDeviceListJson } from '../../protocol/http.js';
import { lookupHeaders, registeredDevice } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { linkDevice, openDevice, registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';
import { LyingRelay } from './lying-relay.js';

describe('account authority and device lists (protocol v2)', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-authority-');
  const liars = { alice: new LyingRelay(), bob: new LyingRelay(), dave: new LyingRelay() };
  let alice: TestDevice;
  let alice2: TestDevice;
  let bob: TestDevice;
  let groupId: string;
  /** The relay's answer for alice while alice2 was still a device: a genuine, signed, older list. */
  let aliceBeforeRemoval: AccountViewJson;
  const opened: TestDevice[] = [];

  /** A registered device of its own account, to sign raw lookups with (lookups are signed requests). */
  let reader: Awaited<ReturnType<typeof registeredDevice>>;
  const lookupRaw = async (handle: string) =>
    (await (await fetch(`${relay.url}/v2/accounts/${handle}`, { headers: lookupHeaders(relay.url, reader, handle) })).json()) as AccountViewJson;

  beforeAll(async () => {
    relay = await startRelay();
    reader = await registeredDevice(relay.url);
    alice = await registerDevice(profiles.path, relay.url, 'alice', { fetch: liars.alice.fetch });
    bob = await registerDevice(profiles.path, relay.url, 'bob', { fetch: liars.bob.fetch });
    opened.push(alice, bob);
  });

  afterAll(async () => {
    for (const device of opened) await device.client.close().catch(() => undefined);
    await relay?.close();
    profiles.remove();
  });

  it('links a device that gets the groups, contacts and verified marks and can send to the group at once; it holds no authority', async () => {
    const group = await alice.client.createGroup('trip', ['bob']);
    groupId = group.groupId;
    await (await alice.client.send('bob', 'hi bob')).stored;
    await waitFor(() => textsFrom(bob, 'alice').includes('hi bob'), 'bob gets hi');
    await alice.client.setVerified('bob', true);

    alice2 = await linkDevice(profiles.path, relay.url, alice, 'alice-laptop');
    opened.push(alice2);
    expect(alice2.client.hasAuthority).toBe(false);
    expect(alice2.client.account?.authority).toBeUndefined();
    await waitFor(() => alice2.client.groups().some((g) => g.groupId === groupId), 'the group reaches the new device');
    expect(alice2.client.groups().find((g) => g.groupId === groupId)?.members.sort()).toEqual(['alice', 'bob']);
    expect(alice2.client.contact('bob')).toMatchObject({ identityKey: bob.client.account!.identityKey, verified: true });
    expect(alice2.client.conversations().map((c) => c.conversation)).toContainEqual({ kind: 'direct', handle: 'bob' });

    await (await alice2.client.sendToGroup(groupId, 'from the laptop')).stored;
    await waitFor(() => textsFrom(bob, 'alice').includes('from the laptop'), 'bob gets the laptop message');
    await expect(alice2.client.recoveryKey.bind(alice2.client)).toThrow(/only the device that created the account/);
  });

  it('shares device names among own devices only', async () => {
    await alice.client.setDeviceName(alice2.client.deviceId!, 'Laptop');
    await waitFor(() => alice2.client.store.get('deviceNames', alice2.client.deviceId!)?.name === 'Laptop', 'the laptop learns its name');
    expect((await alice2.client.devices()).find((d) => d.current)?.name).toBe('Laptop');
    expect(bob.client.store.count('deviceNames')).toBe(0);
  });

  it('reports link approval as a success only after the new device confirmed', async () => {
    const silent = await openDevice('alice-silent', join(profiles.path, 'alice-silent'));
    const pending = silent.client.startLink(relay.url, { pollMs: 50 });
    const approval = alice.client.approveLink(pending.code, { timeoutMs: 1_500 });
    // The new device registers but its confirmation never reaches alice (it never connects).
    await pending.completed;
    await expect(approval).rejects.toMatchObject({ code: 'link_timeout' });
    // The unconfirmed link is revoked: the device is out of the list and the relay refuses it.
    expect((await alice.client.devices()).map((d) => d.deviceId)).not.toContain(pending.deviceId);
    const states: string[] = [];
    silent.client.on('state', (s) => states.push(`${s.state}:${s.reason ?? ''}`));
    silent.client.connect();
    await waitFor(() => states.includes('offline:unknown_device'), 'the relay refuses the revoked device');
    await silent.client.close();

    // A code approved but picked up only after the approval gave up: its signed list can no
    // longer be registered (the authority published a newer one).
    const late = generateSigningKeyPair();
    const lateId = deviceIdOf(late.publicKey);
    const secret = createLinkSecret();
    await expect(alice.client.approveLink(encodeLinkCode(lateId, secret), { timeoutMs: 300 })).rejects.toMatchObject({ code: 'link_timeout' });
    const http = new RelayHttp(relay.url);
    const signer = { deviceId: lateId, privateKey: late.privateKey };
    const { bodies } = await http.claimProvisioning(lateId, signer);
    const bundle = JSON.parse(fromUtf8(openLinkBundle(fromBase64Url(bodies[0]!), late, secret))) as { deviceList: SignedDeviceListJson };
    const spk = generateDhKeyPair();
    const signedPrekey = { keyId: 1, publicKey: toBase64Url(spk.publicKey), signature: toBase64Url(signSignedPrekey({ devicePublicKey: late.publicKey, keyId: 1, publicKey: spk.publicKey }, late.privateKey)) };
    await expect(http.addDevice('alice', { device: { deviceId: lateId, signedPrekey, oneTimePrekeys: [] }, deviceList: bundle.deviceList }, signer))
      .rejects.toMatchObject({ details: { relayCode: 'conflict' } });
  });

  it('reports a failed link when the relay drops the new device\'s confirmation', async () => {
    // The new device talks to the relay through a proxy that passes its HTTP requests (it can
    // register) but drops its socket (its confirmation never reaches alice): a relay that drops it.
    // Like a reverse proxy, it keeps the Host header the client signed.
    const target = new URL(relay.url);
    const proxy = createServer((request, response) => {
      const forwarded = httpRequest({ host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      });
      forwarded.on('error', () => response.destroy());
      request.pipe(forwarded);
    });
    proxy.on('upgrade', (_request, socket) => socket.destroy());
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const dropped = await openDevice('alice-dropped', join(profiles.path, 'alice-dropped'));
      opened.push(dropped);
      const pending = dropped.client.startLink(proxyUrl, { pollMs: 50 });
      const approval = alice.client.approveLink(pending.code, { timeoutMs: 2_000 });
      await pending.completed; // registered through the proxy
      dropped.client.connect(); // its socket, and so its confirmation, is dropped
      await expect(approval).rejects.toMatchObject({ code: 'link_timeout' });
      expect((await alice.client.devices()).map((d) => d.deviceId)).not.toContain(pending.deviceId);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('a removed device, even with a full copy of its profile, reads nothing sent after its removal and can change nothing', async () => {
    await (await bob.client.send('alice', 'before removal')).stored;
    await waitFor(() => textsFrom(alice2, 'bob').includes('before removal'), 'the laptop reads it while still a device');
    aliceBeforeRemoval = await lookupRaw('alice');
    const removedId = alice2.client.deviceId!;
    await alice2.client.close();
    const copyPath = join(profiles.path, 'alice-laptop-copy');
    cpSync(alice2.profile, copyPath, { recursive: true });
    const bobChanges: DevicesChanged[] = [];
    bob.client.on('devices_changed', (change) => bobChanges.push(change));

    await alice.client.removeDevice(removedId);

    await (await bob.client.send('alice', 'after removal')).stored;
    await (await alice.client.send('bob', 'alice after removal')).stored;
    await waitFor(() => textsFrom(alice, 'bob').includes('after removal'), 'alice reads it');
    expect(bobChanges).toContainEqual(expect.objectContaining({ handle: 'alice', removed: [removedId], own: false }));
    expect(bob.client.store.get('sessions', removedId)).toBeUndefined();
    expect(alice.client.store.get('sessions', removedId)).toBeUndefined();

    for (const profile of [alice2.profile, copyPath]) {
      const removed = await openDevice('removed', profile);
      opened.push(removed);
      const states: string[] = [];
      removed.client.on('state', (s) => states.push(`${s.state}:${s.reason ?? ''}`));
      removed.client.connect();
      await waitFor(() => states.includes('offline:unknown_device'), 'the relay refuses the removed device');
      expect(removed.seen.map((m) => m.text)).not.toContain('after removal');
      expect(removed.seen.map((m) => m.text)).not.toContain('alice after removal');
      await expect(removed.client.removeDevice(alice.client.deviceId!)).rejects.toMatchObject({ code: 'no_authority' });
      await expect(removed.client.approveLink('spl2.whatever')).rejects.toMatchObject({ code: 'no_authority' });
      await removed.client.close();
    }

    // At the relay: the removed device's own key is no authority. A list it signs is refused.
    const keys = await openDevice('keys', copyPath);
    opened.push(keys);
    const removedKey = fromBase64Url(keys.client.account!.device.privateKey);
    const current = await lookupRaw('alice');
    const forged = signDeviceList({ handle: 'alice', version: current.deviceList.version + 1, time: Date.now(), devices: [{ deviceId: removedId, createdAt: Date.now() - 1 }] }, removedKey);
    const refused = await fetch(`${relay.url}/v2/accounts/alice/device-list`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deviceList: forged }),
    });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('bad_signature');
  });

  it('refuses a rolled-back list that re-lists the removed device, to a contact and to the owner, and seals nothing to it', async () => {
    const removedId = alice2.client.deviceId!;
    const refusals: DeviceListRefusal[] = [];
    bob.client.on('device_list_refused', (r) => refusals.push(r));
    liars.bob.lieAbout('alice', () => aliceBeforeRemoval);
    await expect(bob.client.lookup('alice')).rejects.toMatchObject({ code: 'untrusted_device_list' });
    expect(refusals).toContainEqual(expect.objectContaining({ handle: 'alice', reason: 'rollback' }));
    // Sending goes on under the newest verified list: nothing is sealed to the removed device.
    await (await bob.client.send('alice', 'to the verified list')).stored;
    await waitFor(() => textsFrom(alice, 'bob').includes('to the verified list'), 'alice gets it');
    expect(bob.client.store.get('sessions', removedId)).toBeUndefined();

    // The owner's own devices check their list on every connect (self-monitoring).
    const own: DeviceListRefusal[] = [];
    liars.alice.lieAbout('alice', () => aliceBeforeRemoval);
    await alice.client.close();
    alice = await alice.reopen();
    alice.client.on('device_list_refused', (r) => own.push(r));
    opened.push(alice);
    await waitFor(() => own.some((r) => r.handle === 'alice' && r.reason === 'rollback'), 'alice catches the rollback of her own list');
    await (await alice.client.send('bob', 'own copies?')).stored;
    expect(alice.client.store.get('sessions', removedId)).toBeUndefined();
    liars.alice.honest();
    liars.bob.honest();
  });

  it('refuses an unsigned list, skips devices outside the list and malformed entries, and still reaches the real devices', async () => {
    const removedId = alice2.client.deviceId!;
    const refusals: DeviceListRefusal[] = [];
    const skipped: DeviceRefusal[] = [];
    bob.client.on('device_list_refused', (r) => refusals.push(r));
    bob.client.on('device_refused', (r) => skipped.push(r));

    liars.bob.lieAbout('alice', (view) => ({ ...view, deviceList: { ...view.deviceList, devices: [...view.deviceList.devices, { deviceId: removedId, createdAt: 1 }] } }));
    await expect(bob.client.lookup('alice')).rejects.toMatchObject({ code: 'untrusted_device_list' });
    expect(refusals.at(-1)).toMatchObject({ handle: 'alice', reason: 'unsigned' });

    const stale = aliceBeforeRemoval.devices.find((d) => d.deviceId === removedId)!;
    liars.bob.lieAbout('alice', (view) => ({ ...view, devices: [...view.devices, stale, { deviceId: 'not-a-key' }] }));
    await bob.client.lookup('alice');
    await (await bob.client.send('alice', 'past the junk')).stored;
    await waitFor(() => textsFrom(alice, 'bob').includes('past the junk'), 'alice still gets it');
    expect(skipped).toEqual(expect.arrayContaining([
      { handle: 'alice', deviceId: removedId, reason: 'not_in_device_list' },
      { handle: 'alice', deviceId: 'not-a-key', reason: 'malformed' },
    ]));
    expect(bob.client.store.all('outbox').filter((e) => e.to === removedId)).toEqual([]);
    liars.bob.honest();
  });

  it('catches a split view (a new contact shown an old list): the relay refuses what is sealed to it, and the next message shows it', async () => {
    const dave = await registerDevice(profiles.path, relay.url, 'dave', { fetch: liars.dave.fetch });
    opened.push(dave);
    liars.dave.lieAbout('alice', () => aliceBeforeRemoval);
    const seenByDave: DeviceListMismatch[] = [];
    dave.client.on('device_list_mismatch', (m) => seenByDave.push(m));

    // dave has never seen alice: he cannot know the list is old, and seals to it. The relay's own
    // send check refuses every envelope sealed under the old list (stale_devices), the lookups
    // keep serving the old list, and after a bounded number of tries the send fails: nothing
    // sealed to the removed device is stored.
    const problems: string[] = [];
    dave.client.on('send_problem', (p) => problems.push(p.code));
    await expect((await dave.client.send('alice', 'hello alice')).stored).rejects.toMatchObject({ details: { relayCode: 'stale_devices' } });
    expect(textsFrom(alice, 'dave')).toEqual([]);
    expect(problems).toContain('stale_devices');

    // alice's message tells dave that her list is newer than what his relay serves him.
    await (await alice.client.send('dave', 'hi dave')).stored;
    await waitFor(() => textsFrom(dave, 'alice').includes('hi dave'), 'dave gets the reply');
    expect(seenByDave).toContainEqual(expect.objectContaining({ handle: 'alice', kind: 'sender', from: 'alice' }));
    liars.dave.honest();
  });

  it('recovers an account whose only device is lost: authority back, other devices dropped, contacts see a device change', async () => {
    const carol = await registerDevice(profiles.path, relay.url, 'carol');
    opened.push(carol);
    const recoveryKey = carol.client.recoveryKey();
    expect(recoveryKey).toMatch(/^([a-z2-7]{4}-){13}[a-z2-7]{4}$/);
    await (await bob.client.send('carol', 'before the loss')).stored;
    await waitFor(() => textsFrom(carol, 'bob').length === 1, 'carol gets it');
    const lostId = carol.client.deviceId!;
    await carol.client.close();

    const wrong = await openDevice('carol-wrong', join(profiles.path, 'carol-wrong'));
    opened.push(wrong);
    await expect(wrong.client.recover(relay.url, 'carol', alice.client.recoveryKey())).rejects.toMatchObject({ code: 'wrong_recovery_key' });
    const typo = recoveryKey.slice(0, 10) + (recoveryKey[10] === 'a' ? 'b' : 'a') + recoveryKey.slice(11);
    await expect(wrong.client.recover(relay.url, 'carol', typo)).rejects.toMatchObject({ code: 'wrong_recovery_key' });

    const changes: DevicesChanged[] = [];
    const identityChanges: unknown[] = [];
    bob.client.on('devices_changed', (c) => changes.push(c));
    bob.client.on('identity_changed', (c) => identityChanges.push(c));
    const recovered = await openDevice('carol-new', join(profiles.path, 'carol-new'));
    opened.push(recovered);
    await recovered.client.recover(relay.url, 'carol', recoveryKey.toUpperCase().replaceAll('-', ' '));
    expect(recovered.client.hasAuthority).toBe(true);
    recovered.client.connect();
    await (await bob.client.send('carol', 'after recovery')).stored;
    await waitFor(() => textsFrom(recovered, 'bob').includes('after recovery'), 'the recovered device reads it');
    expect(changes).toContainEqual(expect.objectContaining({ handle: 'carol', removed: [lostId], added: [recovered.client.deviceId] }));
    expect(identityChanges).toEqual([]);
  });

  it('refuses anonymous prekey bundle claims', async () => {
    const anonymous = await fetch(`${relay.url}/v2/devices/${alice.client.deviceId}/bundle`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
  });
});
