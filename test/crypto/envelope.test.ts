/** Sealed sender, safety numbers and device linking. */
import { describe, expect, it } from 'vitest';
import {
  createLinkSecret, decodeLinkCode, deviceIdOf, encodeLinkCode, generateSigningKeyPair, openEnvelope,
  openLinkBundle, ready, safetyFingerprint, safetyNumber, sealEnvelope, sealLinkBundle, utf8,
} from '../../crypto/index.js';
import { codeOf } from './helpers.js';

await ready();

describe('sealed sender', () => {
  it('round trips sender ids and message; only the recipient device opens it', () => {
    const recipient = generateSigningKeyPair();
    const sender = generateSigningKeyPair();
    const content = { senderHandle: 'alice', senderDeviceId: deviceIdOf(sender.publicKey), message: utf8('ratchet message') };
    const body = sealEnvelope(content, recipient.publicKey);
    expect(openEnvelope(body, recipient)).toEqual(content);
    expect(codeOf(() => openEnvelope(body, generateSigningKeyPair()))).toBe('decrypt_failed');
  });

  it('every flipped bit fails cleanly', () => {
    const recipient = generateSigningKeyPair();
    const content = { senderHandle: 'bob', senderDeviceId: deviceIdOf(generateSigningKeyPair().publicKey), message: utf8('x') };
    const body = sealEnvelope(content, recipient.publicKey);
    for (let bit = 0; bit < body.length * 8; bit += 7) {
      const bad = Uint8Array.from(body);
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7));
      expect(codeOf(() => openEnvelope(bad, recipient))).toBe('decrypt_failed');
    }
  });

  it('refuses invalid sender ids when sealing', () => {
    const recipient = generateSigningKeyPair();
    expect(codeOf(() => sealEnvelope({ senderHandle: 'A!', senderDeviceId: deviceIdOf(recipient.publicKey), message: utf8('') }, recipient.publicKey))).toBe('invalid_encoding');
    expect(codeOf(() => sealEnvelope({ senderHandle: 'alice', senderDeviceId: 'nope', message: utf8('') }, recipient.publicKey))).toBe('invalid_encoding');
  });
});

describe('safety numbers', () => {
  const alice = { handle: 'alice', identityKey: generateSigningKeyPair().publicKey };
  const bob = { handle: 'bob', identityKey: generateSigningKeyPair().publicKey };

  it('are 60 digits in 12 groups of 5, the same on both sides', () => {
    const number = safetyNumber(alice, bob);
    expect(number).toMatch(/^\d{5}( \d{5}){11}$/);
    expect(safetyNumber(bob, alice)).toBe(number);
    expect(safetyFingerprint(alice, bob)).toBe(safetyFingerprint(bob, alice));
    expect(safetyFingerprint(alice, bob)).toMatch(/^sp1:[A-Za-z0-9_-]{43}$/);
  });

  it('change when either key changes', () => {
    const number = safetyNumber(alice, bob);
    const fingerprint = safetyFingerprint(alice, bob);
    const bob2 = { ...bob, identityKey: generateSigningKeyPair().publicKey };
    const alice2 = { ...alice, identityKey: generateSigningKeyPair().publicKey };
    expect(safetyNumber(alice, bob2)).not.toBe(number);
    expect(safetyNumber(alice2, bob)).not.toBe(number);
    expect(safetyFingerprint(alice, bob2)).not.toBe(fingerprint);
    expect(safetyFingerprint(alice2, bob)).not.toBe(fingerprint);
  });
});

describe('device linking', () => {
  it('round trips a bundle; a wrong secret or wrong device fails', () => {
    const newDevice = generateSigningKeyPair();
    const secret = createLinkSecret();
    expect(secret.length).toBe(16);
    const bundle = utf8('{"v":2,"handle":"alice"}');
    const sealed = sealLinkBundle(bundle, newDevice.publicKey, secret);
    expect(openLinkBundle(sealed, newDevice, secret)).toEqual(bundle);
    expect(codeOf(() => openLinkBundle(sealed, newDevice, createLinkSecret()))).toBe('decrypt_failed');
    expect(codeOf(() => openLinkBundle(sealed, generateSigningKeyPair(), secret))).toBe('decrypt_failed');
    // A relay that knows the new device's public key but not the secret cannot make a bundle it accepts.
    const forged = sealLinkBundle(utf8('evil'), newDevice.publicKey, createLinkSecret());
    expect(codeOf(() => openLinkBundle(forged, newDevice, secret))).toBe('decrypt_failed');
  });

  it('link codes are short, versioned and checked', () => {
    const device = generateSigningKeyPair();
    const secret = createLinkSecret();
    const code = encodeLinkCode(deviceIdOf(device.publicKey), secret);
    expect(code).toMatch(/^spl2\.[A-Za-z0-9_-]{67}$/);
    expect(code.length).toBe(72);
    expect(decodeLinkCode(` ${code}\n`)).toEqual({ deviceId: deviceIdOf(device.publicKey), linkSecret: secret });
    const damaged = code.slice(0, 10) + (code[10] === 'A' ? 'B' : 'A') + code.slice(11);
    expect(codeOf(() => decodeLinkCode(damaged))).toBe('invalid_encoding');
    expect(codeOf(() => decodeLinkCode(code.slice(0, -1)))).toBe('invalid_encoding');
    expect(codeOf(() => decodeLinkCode('spl3.' + code.slice(5)))).toBe('unsupported_version');
    expect(codeOf(() => decodeLinkCode('hello'))).toBe('invalid_encoding');
  });
});
