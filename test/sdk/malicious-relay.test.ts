/**
 * A relay that lies about an account's identity key is caught by the SDK: the key is pinned on
 * first use, a different one blocks sending until the user accepts it, and even an accepted
 * forged key opens nothing, because the account's signed device list does not verify under it.
 * The lies are served through LyingRelay (HTTP answers a malicious operator could give); device
 * list forgeries and rollbacks are in device-authority.test.ts. Nothing the relay wrote holds a
 * text, sent or refused (test/support/privacy-scan.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair, toBase64Url } from '../../crypto/index.js';
import type { DeviceListRefusal, IdentityChange } from '../../client/sdk/index.js';
import { SdkError } from '../../client/sdk/index.js';
import { expectNoNeedles, relaySources } from '../support/privacy-scan.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { registerDevice, tempDir, textsFrom, waitFor, type TestDevice } from './helpers.js';
import { LyingRelay } from './lying-relay.js';

describe('a malicious relay', () => {
  let relay: RelayHandle;
  const profiles = tempDir('sealpost-sdk-evil-');
  const liar = new LyingRelay();
  let alice: TestDevice;
  let bob: TestDevice;

  beforeAll(async () => {
    relay = await startRelay();
    alice = await registerDevice(profiles.path, relay.url, 'alice', { fetch: liar.fetch });
    bob = await registerDevice(profiles.path, relay.url, 'bob');
    await (await alice.client.send('bob', 'before the attack')).stored;
    await waitFor(() => textsFrom(bob, 'alice').length === 1, 'bob gets the first message');
  });

  afterAll(async () => {
    await alice?.client.close();
    await bob?.client.close();
    await relay?.close();
    profiles.remove();
  });

  it('detects a changed identity key, blocks sending until accepted, and a forged key opens nothing', async () => {
    const original = bob.client.account!.identityKey;
    const swapped = toBase64Url(generateSigningKeyPair().publicKey);
    liar.lieAbout('bob', (view) => ({ ...view, identityKey: swapped }));

    const changes: IdentityChange[] = [];
    alice.client.on('identity_changed', (change) => changes.push(change));
    // Sending uses the cached verified list; the change shows at the next lookup (a daily refresh,
    // an unknown device, a newer list in a message, or the user opening the contact).
    await expect(alice.client.lookup('bob')).rejects.toMatchObject({ code: 'identity_changed' });
    const attempt = alice.client.send('bob', 'must not be sent');
    await expect(attempt).rejects.toBeInstanceOf(SdkError);
    await expect(attempt).rejects.toMatchObject({ code: 'identity_changed' });
    expect(changes).toEqual([{ handle: 'bob', previousIdentityKey: original, newIdentityKey: swapped }]);
    expect(alice.client.contact('bob')?.changedIdentityKey).toBe(swapped);
    expect(alice.client.store.all('outbox')).toEqual([]);
    // Still blocked on a second try, without a second event.
    await expect(alice.client.send('bob', 'still not')).rejects.toMatchObject({ code: 'identity_changed' });
    expect(changes).toHaveLength(1);

    // Accepting the forged key lets nothing through: bob's real device list is not signed by it.
    const refusals: DeviceListRefusal[] = [];
    alice.client.on('device_list_refused', (refusal) => refusals.push(refusal));
    await alice.client.acceptIdentity('bob');
    await expect(alice.client.send('bob', 'to whom?')).rejects.toMatchObject({ code: 'untrusted_device_list' });
    await expect(alice.client.lookup('bob')).rejects.toMatchObject({ code: 'untrusted_device_list' });
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals.every((r) => r.handle === 'bob' && r.reason === 'unsigned')).toBe(true);
    expect(alice.client.store.all('outbox')).toEqual([]);

    // The relay serves the real key again: a second change, raised and accepted, and all is well.
    liar.honest();
    await expect(alice.client.lookup('bob')).rejects.toMatchObject({ code: 'identity_changed' });
    await expect(alice.client.send('bob', 'back?')).rejects.toMatchObject({ code: 'identity_changed' });
    await alice.client.acceptIdentity('bob');
    await (await alice.client.send('bob', 'welcome back')).stored;
    await waitFor(() => textsFrom(bob, 'alice').at(-1) === 'welcome back', 'bob gets it');
    expect(textsFrom(bob, 'alice')).not.toContain('must not be sent');
  });

  it('leaves no text in anything the relay wrote, sent or refused', async () => {
    await expectNoNeedles(relaySources(relay), ['before the attack', 'welcome back', 'must not be sent', 'still not', 'to whom?']);
  });
});
