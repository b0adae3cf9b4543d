/**
 * Protocol v2 refuses v1 data with `unsupported_version` — never `decrypt_failed` or a crash —
 * so a client can tell "upgrade / re-link" from "tampered": messages (version byte 0x01), link
 * codes (`spl1.`), link bundles (0x01), session states (0x01).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  acceptSession, concatBytes, createLinkSecret, decodeLinkCode, decrypt, deserializeSession, deviceIdOf, encodeLinkCode,
  encrypt, generateSigningKeyPair, initiateSession, isPrekeyMessage, openLinkBundle, ready, serializeSession, sodium, utf8,
} from '../../crypto/index.js';
import { KDF_LABELS, deriveKey } from '../../crypto/kdf.js';
import { bundleOf, codeOf, makeParty, text } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const withFirstByte = (bytes: Uint8Array, byte: number): Uint8Array => {
  const out = Uint8Array.from(bytes);
  out[0] = byte;
  return out;
};

describe('v1 data is unsupported_version', () => {
  it('a v1 message (version byte 0x01), prekey or not, in acceptSession and decrypt', () => {
    const alice = makeParty();
    const bob = makeParty();
    const a = initiateSession(alice.local, bundleOf(bob, 1));
    const first = encrypt(a, text('hello'));
    expect(first[0]).toBe(0x02);
    const v1First = withFirstByte(first, 0x01);
    expect(isPrekeyMessage(v1First)).toBe(false);
    expect(codeOf(() => acceptSession(bob.local, alice.local.device.publicKey, v1First, bob.prekeys))).toBe('unsupported_version');
    const { session: b } = acceptSession(bob.local, alice.local.device.publicKey, first, bob.prekeys);
    const reply = encrypt(b, text('hi'));
    expect(codeOf(() => decrypt(a, withFirstByte(reply, 0x01)))).toBe('unsupported_version');
    // The sessions were not touched by the refused messages.
    expect(sodium().to_string(decrypt(a, reply))).toBe('hi');
    for (const version of [0x00, 0x03, 0xff]) expect(codeOf(() => decrypt(a, withFirstByte(reply, version)))).toBe('unsupported_version');
  });

  it('a spl1. link code', () => {
    const code = encodeLinkCode(deviceIdOf(generateSigningKeyPair().publicKey), createLinkSecret());
    expect(code.startsWith('spl2.')).toBe(true);
    expect(codeOf(() => decodeLinkCode(`spl1.${code.slice(5)}`))).toBe('unsupported_version');
    expect(codeOf(() => decodeLinkCode(`spl10.${code.slice(5)}`))).toBe('unsupported_version');
  });

  it('a link bundle of version 0x01', () => {
    const device = generateSigningKeyPair();
    const secret = createLinkSecret();
    // Built by hand the way v1 did: seal(0x01 ‖ nonce ‖ secretbox(bundle, nonce, key)).
    const key = deriveKey(KDF_LABELS.linkBundle, secret, [device.publicKey]);
    const nonce = sodium().randombytes_buf(24);
    const inner = concatBytes(new Uint8Array([0x01]), nonce, sodium().crypto_secretbox_easy(utf8('{}'), nonce, key));
    const sealed = sodium().crypto_box_seal(inner, sodium().crypto_sign_ed25519_pk_to_curve25519(device.publicKey));
    expect(codeOf(() => openLinkBundle(sealed, device, secret))).toBe('unsupported_version');
  });

  it('a session state of version 0x01', () => {
    const alice = makeParty();
    const bytes = serializeSession(initiateSession(alice.local, bundleOf(makeParty(), 1)));
    expect(bytes[0]).toBe(0x02);
    expect(() => deserializeSession(bytes)).not.toThrow();
    expect(codeOf(() => deserializeSession(withFirstByte(bytes, 0x01)))).toBe('unsupported_version');
  });
});
