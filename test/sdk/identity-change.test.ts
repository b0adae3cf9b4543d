/**
 * A contact reinstalls (a real identity change): what they send under the new key before the
 * user has accepted it is neither shown nor lost — it is held, sealed, and shown once the user
 * accepts the new key.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Url, safetyNumber } from '../../crypto/index.js';
import type { IdentityChange } from '../../client/sdk/index.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';

describe('messages from a changed identity', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-idchange-');
  const reinstalled = tempDir('sealpost-sdk-idchange-new-');
  let alice: TestDevice;
  let bob: TestDevice;
  let newBob: TestDevice;

  beforeAll(async () => {
    relay = await startRelay();
    alice = await registerDevice(profiles.path, relay.url, 'alice');
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    await (await bob.client.send('alice', 'first, from the old phone')).stored;
    await waitFor(() => textsFrom(alice, 'bob').length === 1, 'alice pins bob');
  });

  afterAll(async () => {
    for (const device of [alice, bob, newBob]) await device?.client.close();
    await relay?.close();
    profiles.remove();
    reinstalled.remove();
  });

  it('keeps a verified mark on the pinned key only', async () => {
    await alice.client.setVerified('bob', true);
    expect(alice.client.contact('bob')?.verified).toBe(true);
    await alice.client.setVerified('bob', false);
    expect(alice.client.contact('bob')?.verified).toBeUndefined();
    await alice.client.setVerified('bob', true);
    await expect(alice.client.setVerified('nobody', true)).rejects.toMatchObject({ code: 'unknown_contact' });
  });

  it('holds them until the new key is accepted, then shows them in order', async () => {
    // bob loses his phone; the relay forgets the account and he registers the handle again.
    await bob.client.close();
    const db = new Database(relay.dbPath);
    try {
      db.pragma('foreign_keys = ON');
      db.prepare("DELETE FROM accounts WHERE handle = 'bob'").run();
    } finally {
      db.close();
    }
    newBob = await registerDevice(reinstalled.path, relay.url, 'bob');

    const changes: IdentityChange[] = [];
    alice.client.on('identity_changed', (change) => changes.push(change));
    for (const text of ['new phone, same bob', 'please accept my new key']) await (await newBob.client.send('alice', text)).stored;
    await waitFor(() => alice.client.store.all('heldEnvelopes').length === 2, 'alice holds both');
    expect(changes.map((c) => c.newIdentityKey)).toEqual([newBob.client.account!.identityKey]);
    expect(textsFrom(alice, 'bob')).toEqual(['first, from the old phone']);
    await expect(alice.client.setVerified('bob', true)).rejects.toMatchObject({ code: 'identity_changed' });
    // While the change is pending, the number to compare is the NEW key's: the one being accepted.
    const newKey = { handle: 'bob', identityKey: fromBase64Url(newBob.client.account!.identityKey) };
    const aliceKey = { handle: 'alice', identityKey: fromBase64Url(alice.client.account!.identityKey) };
    expect(await alice.client.safetyNumber('bob')).toBe(safetyNumber(aliceKey, newKey));
    expect(await newBob.client.safetyNumber('alice')).toBe(safetyNumber(aliceKey, newKey));

    await alice.client.acceptIdentity('bob');
    expect(textsFrom(alice, 'bob')).toEqual(['first, from the old phone', 'new phone, same bob', 'please accept my new key']);
    expect(alice.client.store.all('heldEnvelopes')).toEqual([]);
    expect(alice.client.contact('bob')?.verified).toBeFalsy(); // the new key is not the one she verified
    // The conversation goes on both ways under the new key.
    await (await alice.client.send('bob', 'accepted')).stored;
    await waitFor(() => textsFrom(newBob, 'alice').includes('accepted'), 'new bob reads alice');
  });
});
