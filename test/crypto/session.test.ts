import { beforeAll, describe, expect, it } from 'vitest';
import {
  acceptSession, decrypt, deserializeSession, encrypt, initiateSession, isPrekeyMessage, ready,
  serializeSession, sessionRemoteDeviceKey, sessionRemoteIdentityKey,
} from '../../crypto/index.js';
import { bundleOf, codeOf, makeParty, text, untext } from './helpers.js';

beforeAll(async () => {
  await ready();
});

function establish(oneTimeId: number | null = 1) {
  const alice = makeParty();
  const bob = makeParty();
  const aliceSession = initiateSession(alice.local, bundleOf(bob, oneTimeId ?? undefined));
  const first = encrypt(aliceSession, text('hello bob'));
  const accepted = acceptSession(bob.local, alice.local.device.publicKey, first, bob.prekeys);
  return { alice, bob, aliceSession, bobSession: accepted.session, accepted, first };
}

describe('session establishment', () => {
  it('accepts the first prekey message and reports the one-time prekey to delete', () => {
    const { alice, bob, accepted, first } = establish(2);
    expect(isPrekeyMessage(first)).toBe(true);
    expect(untext(accepted.plaintext)).toBe('hello bob');
    expect(accepted.usedOneTimePrekeyId).toBe(2);
    expect(accepted.remoteIdentityKey).toEqual(alice.local.identityKey);
    expect(sessionRemoteIdentityKey(accepted.session)).toEqual(alice.local.identityKey);
    expect(sessionRemoteDeviceKey(accepted.session)).toEqual(alice.local.device.publicKey);
    expect(bob.oneTimePrekeys.has(2)).toBe(true); // acceptSession consumed nothing
  });

  it('works without a one-time prekey', () => {
    const { accepted } = establish(null);
    expect(untext(accepted.plaintext)).toBe('hello bob');
    expect(accepted.usedOneTimePrekeyId).toBeUndefined();
  });

  it('keeps sending prekey messages until the first reply, then plain ones', () => {
    const { aliceSession, bobSession } = establish();
    const second = encrypt(aliceSession, text('still prekey'));
    expect(isPrekeyMessage(second)).toBe(true);
    expect(untext(decrypt(bobSession, second))).toBe('still prekey');
    const reply = encrypt(bobSession, text('hi alice'));
    expect(isPrekeyMessage(reply)).toBe(false);
    expect(untext(decrypt(aliceSession, reply))).toBe('hi alice');
    const third = encrypt(aliceSession, text('now plain'));
    expect(isPrekeyMessage(third)).toBe(false);
    expect(untext(decrypt(bobSession, third))).toBe('now plain');
  });

  it('rejects a sender device that did not make the X3DH', () => {
    const { bob, first } = establish();
    const impostor = makeParty();
    expect(codeOf(() => acceptSession(bob.local, impostor.local.device.publicKey, first, bob.prekeys))).toBe('decrypt_failed');
  });

  it('binds the receiving DEVICE key (v2 DH2): a sibling device of the same account cannot accept the message', () => {
    const { bob, first } = establish(1);
    const alice = makeParty();
    // Same account key and even the same prekeys; only the device key differs.
    const sibling = { ...bob, local: { identityKey: bob.local.identityKey, device: makeParty().local.device } };
    expect(codeOf(() => acceptSession(sibling.local, alice.local.device.publicKey, first, bob.prekeys))).toBe('decrypt_failed');
  });

  it('needs only the account key\'s PUBLIC half: the session binds it, a different one fails', () => {
    const { alice, bob, first } = establish(1);
    // Bob's side expects Alice's device; the prekey message names Alice's account key, which goes into the AD.
    const ok = acceptSession(bob.local, alice.local.device.publicKey, first, bob.prekeys);
    expect(ok.remoteIdentityKey).toEqual(alice.local.identityKey);
    // Bob under another account key computes another AD, so the first message does not open.
    const otherAccount = { ...bob.local, identityKey: makeParty().local.identityKey };
    expect(codeOf(() => acceptSession(otherAccount, alice.local.device.publicKey, first, bob.prekeys))).toBe('decrypt_failed');
  });

  it('reports an unknown prekey with a typed error', () => {
    const { bob, first } = establish(1);
    const noOneTime = { signedPrekey: bob.prekeys.signedPrekey, oneTimePrekey: () => undefined };
    const makeAlice = makeParty();
    expect(codeOf(() => acceptSession(bob.local, makeAlice.local.device.publicKey, first, noOneTime))).toBe('unknown_prekey');
  });

  it('refuses a prekey message from another session in decrypt', () => {
    const { bob, bobSession } = establish();
    const other = makeParty();
    const fresh = encrypt(initiateSession(other.local, bundleOf(bob, 2)), text('x'));
    expect(codeOf(() => decrypt(bobSession, fresh))).toBe('decrypt_failed');
  });
});

describe('ratchet', () => {
  it('survives a long conversation with serialization at every step', () => {
    let { aliceSession: a, bobSession: b } = establish();
    for (let i = 0; i < 30; i++) {
      const fromA = encrypt(a, text(`a${i}`));
      b = deserializeSession(serializeSession(b));
      expect(untext(decrypt(b, fromA))).toBe(`a${i}`);
      if (i % 3 === 0) {
        const fromB = encrypt(b, text(`b${i}`));
        a = deserializeSession(serializeSession(a));
        expect(untext(decrypt(a, fromB))).toBe(`b${i}`);
      }
    }
  });

  it('decrypts out of order and rejects replays', () => {
    const { aliceSession, bobSession } = establish();
    const messages = [0, 1, 2, 3].map((i) => encrypt(aliceSession, text(`m${i}`)));
    expect(untext(decrypt(bobSession, messages[3] as Uint8Array))).toBe('m3');
    expect(untext(decrypt(bobSession, messages[1] as Uint8Array))).toBe('m1');
    expect(codeOf(() => decrypt(bobSession, messages[1] as Uint8Array))).toBe('replay');
    expect(codeOf(() => decrypt(bobSession, messages[3] as Uint8Array))).toBe('replay');
    expect(untext(decrypt(bobSession, messages[0] as Uint8Array))).toBe('m0');
    expect(untext(decrypt(bobSession, messages[2] as Uint8Array))).toBe('m2');
  });

  it('refuses to skip beyond the window with a clear error, and stays usable', () => {
    const alice = makeParty();
    const bob = makeParty();
    const a = initiateSession(alice.local, bundleOf(bob, 1), { maxSkip: 5 });
    const first = encrypt(a, text('first'));
    const { session: b } = acceptSession(bob.local, alice.local.device.publicKey, first, bob.prekeys, { maxSkip: 5 });
    const burst = Array.from({ length: 8 }, (_, i) => encrypt(a, text(`m${i}`)));
    expect(codeOf(() => decrypt(b, burst[6] as Uint8Array))).toBe('too_many_skipped');
    expect(untext(decrypt(b, burst[4] as Uint8Array))).toBe('m4');
    expect(untext(decrypt(b, burst[7] as Uint8Array))).toBe('m7');
  });
});
