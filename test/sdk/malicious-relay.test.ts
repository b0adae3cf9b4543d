/**
 * A relay that lies about an account is caught by the SDK. The lies are written straight into
 * the real relay's SQLite file (what an operator or an attacker with the file could do):
 * an injected device whose certificate does not verify, and a swapped identity key.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDhKeyPair, generateSigningKeyPair, toBase64Url } from '../../crypto/index.js';
import type { DeviceRefusal, IdentityChange } from '../../client/sdk/index.js';
import { SdkError } from '../../client/sdk/index.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';

describe('a malicious relay', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-evil-');
  let alice: TestDevice;
  let bob: TestDevice;
  let db: Database.Database;

  beforeAll(async () => {
    relay = await startRelay();
    alice = await registerDevice(profiles.path, relay.url, 'alice');
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    db = new Database(relay.dbPath);
    await (await alice.client.send('bob', 'before the attack')).stored;
    await waitFor(() => textsFrom(bob, 'alice').length === 1, 'bob gets the first message');
  });

  afterAll(async () => {
    db?.close();
    await alice?.client.close();
    await bob?.client.close();
    await relay?.close();
    profiles.remove();
  });

  it('refuses an injected device without a valid certificate and never encrypts to it', async () => {
    const evil = generateSigningKeyPair();
    const evilId = toBase64Url(evil.publicKey);
    const fakeSignature = toBase64Url(new Uint8Array(64).fill(7));
    db.prepare(
      `INSERT INTO devices (device_id, handle, cert_created_at, cert_signature, spk_key_id, spk_public_key, spk_signature)
       VALUES (?, 'bob', ?, ?, 1, ?, ?)`,
    ).run(evilId, Date.now(), fakeSignature, toBase64Url(generateDhKeyPair().publicKey), fakeSignature);

    const refusals: DeviceRefusal[] = [];
    alice.client.on('device_refused', (refusal) => refusals.push(refusal));
    const outgoing = await alice.client.send('bob', 'only to the real bob');
    await outgoing.stored;
    expect(refusals).toEqual([{ handle: 'bob', deviceId: evilId, reason: 'invalid_certificate' }]);
    expect((await alice.client.lookup('bob')).devices.map((d) => d.deviceId)).toEqual([bob.client.deviceId]);
    const queuedForEvil = db.prepare('SELECT COUNT(*) AS n FROM queue WHERE device_id = ?').get(evilId) as { n: number };
    expect(queuedForEvil.n).toBe(0);
    expect(alice.client.store.get('sessions', evilId)).toBeUndefined();
    await waitFor(() => textsFrom(bob, 'alice').length === 2, 'the real bob still gets it');
    db.prepare('DELETE FROM devices WHERE device_id = ?').run(evilId);
  });

  it('detects a changed identity key, blocks sending until accepted', async () => {
    const original = (db.prepare("SELECT identity_key FROM accounts WHERE handle = 'bob'").get() as { identity_key: string }).identity_key;
    const swapped = toBase64Url(generateSigningKeyPair().publicKey);
    db.prepare("UPDATE accounts SET identity_key = ? WHERE handle = 'bob'").run(swapped);

    const changes: IdentityChange[] = [];
    alice.client.on('identity_changed', (change) => changes.push(change));
    const attempt = alice.client.send('bob', 'must not be sent');
    await expect(attempt).rejects.toBeInstanceOf(SdkError);
    await expect(attempt).rejects.toMatchObject({ code: 'identity_changed' });
    expect(changes).toEqual([{ handle: 'bob', previousIdentityKey: original, newIdentityKey: swapped }]);
    expect(alice.client.contact('bob')?.changedIdentityKey).toBe(swapped);
    expect(alice.client.store.all('outbox')).toEqual([]);
    // Still blocked on a second try, without a second event.
    await expect(alice.client.send('bob', 'still not')).rejects.toMatchObject({ code: 'identity_changed' });
    expect(changes).toHaveLength(1);

    // Accepting the (forged) key lets sending proceed — but every device of that account is
    // now checked against the forged key, and bob's real certificate does not verify under it.
    const refusals: DeviceRefusal[] = [];
    alice.client.on('device_refused', (refusal) => refusals.push(refusal));
    await alice.client.acceptIdentity('bob');
    await expect(alice.client.send('bob', 'to whom?')).rejects.toMatchObject({ code: 'no_devices' });
    expect(refusals.map((r) => r.deviceId)).toEqual([bob.client.deviceId]);

    // The relay puts the real key back: a second change, raised and accepted, and all is well.
    db.prepare("UPDATE accounts SET identity_key = ? WHERE handle = 'bob'").run(original);
    await expect(alice.client.send('bob', 'back?')).rejects.toMatchObject({ code: 'identity_changed' });
    await alice.client.acceptIdentity('bob');
    await (await alice.client.send('bob', 'welcome back')).stored;
    await waitFor(() => textsFrom(bob, 'alice').at(-1) === 'welcome back', 'bob gets it');
    expect(textsFrom(bob, 'alice')).not.toContain('must not be sent');
  });
});
