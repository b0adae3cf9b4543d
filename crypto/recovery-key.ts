/**
 * The recovery key: the account authority key's 32-byte Ed25519 seed, in a form a person can
 * write down and type back. Whoever holds it holds the account's authority (it can publish a
 * device list), so the app shows it once, asks the user to keep it offline, and never sends it.
 *
 *   bytes = 0x02 (version) ‖ seed (32) ‖ check (2)
 *   check = first 2 bytes of BLAKE2b-128(label "sealpost/v2/recovery-check", fields: 0x02 ‖ seed)
 *   text  = RFC 4648 base32 of bytes, lower case, no padding (56 characters), in 14 groups of 4
 *           joined by "-"
 *
 * Decoding ignores case, spaces and dashes, wants exactly 56 characters, and verifies the check
 * before the version; the check catches a mistyped character (1 in 65,536 slips through, and
 * then the derived key simply does not match the account's).
 */
import { RFC4648_LOWER, fromBase32, toBase32 } from './base32.js';
import { concatBytes } from './encoding.js';
import { CryptoError } from './errors.js';
import { KDF_LABELS, deriveKey } from './kdf.js';
import type { SigningKeyPair } from './keys.js';
import { sodium } from './sodium.js';

const VERSION = 2;
const SEED_BYTES = 32;
const CHECK_BYTES = 2;
/** (1 + 32 + 2) bytes × 8 / 5 bits per character. */
const TEXT_LENGTH = 56;

function check(versionAndSeed: Uint8Array): Uint8Array {
  return deriveKey(KDF_LABELS.recoveryCheck, null, [versionAndSeed], 16).slice(0, CHECK_BYTES);
}

/** The recovery key text for an authority key pair (libsodium's 64-byte secret key = seed ‖ public). */
export function encodeRecoveryKey(authority: SigningKeyPair): string {
  const versionAndSeed = concatBytes(new Uint8Array([VERSION]), authority.privateKey.slice(0, SEED_BYTES));
  const text = toBase32(concatBytes(versionAndSeed, check(versionAndSeed)), RFC4648_LOWER);
  return text.match(/.{1,4}/g)!.join('-');
}

/** The authority key pair from a recovery key text; `invalid_encoding` when it was mistyped. */
export function decodeRecoveryKey(text: string): SigningKeyPair {
  const normalized = String(text).toLowerCase().replace(/[\s-]+/g, '');
  // Exactly 56 characters: a 57th would round down to the same 35 bytes and go unchecked.
  if (normalized.length !== TEXT_LENGTH) throw new CryptoError('invalid_encoding', `a recovery key has ${TEXT_LENGTH} letters and digits`);
  const bytes = fromBase32(normalized, 1 + SEED_BYTES + CHECK_BYTES, RFC4648_LOWER, (char) => `"${char}" is not a letter or digit of a recovery key`);
  const versionAndSeed = bytes.slice(0, 1 + SEED_BYTES);
  // The check first: a typo in the first characters is a typo, not another version.
  if (!sodium().memcmp(check(versionAndSeed), bytes.slice(1 + SEED_BYTES))) {
    throw new CryptoError('invalid_encoding', 'the recovery key does not check out: a character is mistyped');
  }
  if (bytes[0] !== VERSION) throw new CryptoError('unsupported_version', `recovery key version ${bytes[0]}`);
  const { publicKey, privateKey } = sodium().crypto_sign_seed_keypair(versionAndSeed.slice(1));
  return { publicKey, privateKey };
}
