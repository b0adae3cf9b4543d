/**
 * The recovery key (crypto/recovery-key.ts): the authority key's seed as 56 base32 characters
 * in 14 dashed groups. It must give back exactly the same key pair, forgive case, spaces and
 * dashes, and refuse a mistyped or truncated text instead of deriving some other key.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { KDF_LABELS, deriveKey } from '../../crypto/kdf.js';
import { decodeRecoveryKey, encodeRecoveryKey, generateSigningKeyPair, ready, sodium } from '../../crypto/index.js';
import { codeOf } from './helpers.js';

beforeAll(async () => {
  await ready();
});

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, no padding: written here independently of the code under test. */
function base32(bytes: Uint8Array): string {
  let bits = '';
  for (const byte of bytes) bits += byte.toString(2).padStart(8, '0');
  while (bits.length % 5 !== 0) bits += '0';
  let out = '';
  for (let i = 0; i < bits.length; i += 5) out += ALPHABET[parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

/** A recovery key text for any version byte, with a correct check for that version and seed. */
function recoveryText(version: number, seed: Uint8Array): string {
  const versionAndSeed = new Uint8Array([version, ...seed]);
  const check = deriveKey(KDF_LABELS.recoveryCheck, null, [versionAndSeed], 16).slice(0, 2);
  return base32(new Uint8Array([...versionAndSeed, ...check])).match(/.{1,4}/g)!.join('-');
}

const fixed = () => {
  const { publicKey, privateKey } = sodium().crypto_sign_seed_keypair(new Uint8Array(32).fill(1));
  return { publicKey, privateKey };
};

describe('recovery key', () => {
  it('round trips to the same key pair (same seed), in 14 groups of 4', () => {
    for (const authority of [fixed(), generateSigningKeyPair(), generateSigningKeyPair()]) {
      const text = encodeRecoveryKey(authority);
      expect(text).toMatch(/^[a-z2-7]{4}(-[a-z2-7]{4}){13}$/);
      const back = decodeRecoveryKey(text);
      expect(back.publicKey).toEqual(authority.publicKey);
      expect(back.privateKey).toEqual(authority.privateKey);
      expect(back.privateKey.slice(0, 32)).toEqual(authority.privateKey.slice(0, 32));
    }
  });

  it('matches an independent encoding of 0x02 ‖ seed ‖ check', () => {
    const authority = generateSigningKeyPair();
    expect(encodeRecoveryKey(authority)).toBe(recoveryText(2, authority.privateKey.slice(0, 32)));
  });

  it('ignores case, spaces and dashes', () => {
    const authority = generateSigningKeyPair();
    const text = encodeRecoveryKey(authority);
    const plain = text.replace(/-/g, '');
    const variants = [
      text.toUpperCase(),
      plain,
      plain.toUpperCase(),
      text.replace(/-/g, ' '),
      `  ${text.replace(/-/g, ' - ')}\n`,
      plain.match(/.{1,8}/g)!.join('\t'),
      text.split('').map((c, i) => (i % 2 ? c.toUpperCase() : c)).join(''),
    ];
    for (const variant of variants) expect(decodeRecoveryKey(variant).publicKey).toEqual(authority.publicKey);
  });

  it('one mistyped character is refused, never turned into another key', () => {
    const plain = encodeRecoveryKey(fixed()).replace(/-/g, '');
    let tried = 0;
    for (let i = 0; i < plain.length; i++) {
      for (const c of ALPHABET) {
        if (c === plain[i]) continue;
        const typo = plain.slice(0, i) + c + plain.slice(i + 1);
        // The check is verified before the version, so a typo anywhere (the version's bits too) reads as a typo.
        expect(codeOf(() => decodeRecoveryKey(typo))).toBe('invalid_encoding');
        tried++;
      }
    }
    expect(tried).toBe(56 * 31);
  });

  it('a character outside the alphabet is invalid_encoding', () => {
    const plain = encodeRecoveryKey(fixed()).replace(/-/g, '');
    for (const bad of ['0', '1', '8', '9', '_', '=', 'é']) {
      expect(codeOf(() => decodeRecoveryKey(plain.slice(0, 20) + bad + plain.slice(21)))).toBe('invalid_encoding');
    }
  });

  it('a wrong length is invalid_encoding', () => {
    const plain = encodeRecoveryKey(fixed()).replace(/-/g, '');
    for (const text of ['', 'a', plain.slice(0, 55), plain.slice(0, 48), plain + 'aa', plain + plain, plain.slice(1)]) {
      expect(codeOf(() => decodeRecoveryKey(text))).toBe('invalid_encoding');
    }
  });

  // 57 characters are 285 bits, which still floor to 35 bytes: without the length check one extra
  // trailing character would be silently dropped and the key accepted.
  it('one extra trailing character is invalid_encoding', () => {
    const plain = encodeRecoveryKey(fixed()).replace(/-/g, '');
    expect(codeOf(() => decodeRecoveryKey(plain + 'a'))).toBe('invalid_encoding');
  });

  it('another version byte is unsupported_version (even with a valid check for it)', () => {
    const seed = fixed().privateKey.slice(0, 32);
    expect(decodeRecoveryKey(recoveryText(2, seed)).publicKey).toEqual(fixed().publicKey);
    for (const version of [0, 1, 3, 0xff]) {
      expect(codeOf(() => decodeRecoveryKey(recoveryText(version, seed)))).toBe('unsupported_version');
    }
  });
});

