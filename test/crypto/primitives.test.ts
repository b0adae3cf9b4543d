/** Known answers for the primitives under the protocol: RFC 7748 X25519 and libsodium's seal/secretbox. */
import { beforeAll, describe, expect, it } from 'vitest';
import { computeDh } from '../../crypto/dh.js';
import {
  assertDhPublicKey, generateDhKeyPair, generateSigningKeyPair, initiateSession, padContent,
  parseDhPublicKey, ready, signingKeyToDh, signingPrivateKeyToDh, sodium, toBase64Url, unpadContent,
} from '../../crypto/index.js';
import { bundleOf, codeOf, makeParty } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const hex = (h: string): Uint8Array => sodium().from_hex(h);
const toHex = (b: Uint8Array): string => sodium().to_hex(b);

describe('X25519 (RFC 7748) through crypto_scalarmult', () => {
  it('§5.2 test vectors', () => {
    expect(toHex(sodium().crypto_scalarmult(
      hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
      hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'),
    ))).toBe('c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
    expect(toHex(sodium().crypto_scalarmult(
      hex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
      hex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'),
    ))).toBe('95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  });

  it('§5.2 iterated: 1 and 1000 iterations', () => {
    let k: Uint8Array = hex('0900000000000000000000000000000000000000000000000000000000000000');
    let u: Uint8Array = Uint8Array.from(k);
    for (let i = 1; i <= 1000; i++) {
      const next = sodium().crypto_scalarmult(k, u);
      u = k;
      k = next;
      if (i === 1) expect(toHex(k)).toBe('422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
    }
    expect(toHex(k)).toBe('684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
  });

  it('§6.1 Diffie–Hellman, also through computeDh', () => {
    const alicePrivate = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    const bobPrivate = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
    const alicePublic = sodium().crypto_scalarmult_base(alicePrivate);
    const bobPublic = sodium().crypto_scalarmult_base(bobPrivate);
    expect(toHex(alicePublic)).toBe('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    expect(toHex(bobPublic)).toBe('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
    expect(toHex(computeDh(alicePrivate, bobPublic))).toBe(shared);
    expect(toHex(computeDh(bobPrivate, alicePublic))).toBe(shared);
  });
});

describe('low-order points', () => {
  const lowOrder = [
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880', // bit 255 set
  ];

  it('are refused by the key check and by DH with low_order_point', () => {
    const mine = generateDhKeyPair();
    for (const point of lowOrder) {
      expect(codeOf(() => assertDhPublicKey(hex(point)))).toBe('low_order_point');
      expect(codeOf(() => computeDh(mine.privateKey, hex(point)))).toBe('low_order_point');
      expect(codeOf(() => parseDhPublicKey(toBase64Url(hex(point))))).toBe('low_order_point');
    }
  });

  it('a bundle with a low-order signed or one-time prekey is refused', () => {
    const alice = makeParty();
    const bob = makeParty();
    const bad = hex(lowOrder[2] as string);
    const withBadSigned = { ...bundleOf(bob), signedPrekey: { keyId: 7, publicKey: bad } };
    expect(codeOf(() => initiateSession(alice.local, withBadSigned))).toBe('low_order_point');
    const withBadOneTime = { ...bundleOf(bob), oneTimePrekey: { keyId: 1, publicKey: hex(lowOrder[0] as string) } };
    expect(codeOf(() => initiateSession(alice.local, withBadOneTime))).toBe('low_order_point');
  });

  it('an invalid Ed25519 identity key is refused with invalid_key', () => {
    const alice = makeParty();
    const bob = makeParty();
    const bundle = { ...bundleOf(bob), identityKey: new Uint8Array(32) };
    expect(codeOf(() => initiateSession(alice.local, bundle))).toBe('invalid_key');
  });
});

describe('libsodium seal and secretbox round trips', () => {
  it('crypto_box_seal to the X25519 form of an Ed25519 device key', () => {
    const device = generateSigningKeyPair();
    const message = sodium().from_string('sealed to a device');
    const sealed = sodium().crypto_box_seal(message, signingKeyToDh(device.publicKey));
    expect(sealed.length).toBe(message.length + sodium().crypto_box_SEALBYTES);
    const opened = sodium().crypto_box_seal_open(sealed, signingKeyToDh(device.publicKey), signingPrivateKeyToDh(device.privateKey));
    expect(opened).toEqual(message);
    sealed[5] = (sealed[5] as number) ^ 1;
    expect(() => sodium().crypto_box_seal_open(sealed, signingKeyToDh(device.publicKey), signingPrivateKeyToDh(device.privateKey))).toThrow();
  });

  it('crypto_secretbox_easy is deterministic for a key and nonce, and authenticates', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const nonce = hex('000102030405060708090a0b0c0d0e0f1011121314151617');
    const message = sodium().from_string('secretbox');
    const boxed = sodium().crypto_secretbox_easy(message, nonce, key);
    expect(boxed).toEqual(sodium().crypto_secretbox_easy(message, nonce, key));
    expect(boxed.length).toBe(message.length + 16);
    expect(sodium().crypto_secretbox_open_easy(boxed, nonce, key)).toEqual(message);
    boxed[0] = (boxed[0] as number) ^ 0x80;
    expect(() => sodium().crypto_secretbox_open_easy(boxed, nonce, key)).toThrow();
  });
});

describe('padding', () => {
  it('pads to 256-byte buckets and back', () => {
    for (const length of [0, 1, 200, 255, 256, 257, 1000]) {
      const content = sodium().randombytes_buf(length);
      const padded = padContent(content);
      expect(padded.length % 256).toBe(0);
      expect(padded.length).toBe((Math.floor(length / 256) + 1) * 256);
      expect(unpadContent(padded)).toEqual(content);
    }
  });

  it('bad padding is a typed error, not a crash', () => {
    expect(codeOf(() => unpadContent(new Uint8Array(256)))).toBe('bad_padding');
    expect(codeOf(() => unpadContent(new Uint8Array(0)))).toBe('bad_padding');
    expect(codeOf(() => unpadContent(new Uint8Array(100)))).toBe('bad_padding');
  });
});
