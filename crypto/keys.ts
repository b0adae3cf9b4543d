import { fromBase64Url, toBase64Url } from './encoding.js';
import { CryptoError } from './errors.js';
import { sodium } from './sodium.js';

export const PUBLIC_KEY_BYTES = 32;
export const SIGNATURE_BYTES = 64;

export interface SigningKeyPair {
  /** Ed25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** Ed25519 secret key in libsodium's 64-byte form (seed ‖ public key). */
  privateKey: Uint8Array;
}

export interface DhKeyPair {
  /** X25519 public key, 32 bytes. */
  publicKey: Uint8Array;
  /** X25519 private scalar, 32 bytes. */
  privateKey: Uint8Array;
}

export function generateSigningKeyPair(): SigningKeyPair {
  const { publicKey, privateKey } = sodium().crypto_sign_keypair();
  return { publicKey, privateKey };
}

export function generateDhKeyPair(): DhKeyPair {
  const { publicKey, privateKey } = sodium().crypto_box_keypair();
  return { publicKey, privateKey };
}

/**
 * Converted public keys, at most CONVERSIONS_KEPT (the oldest go first). The conversion (a point
 * decompression and a field inversion in WebAssembly) costs ~140 µs and the same few keys —
 * our own device, a contact's devices — are converted for every message: 36–39 % of a client's
 * busy CPU in the SDK burst benchmark (docs/performance.md). Public values only, and the result
 * of a deterministic function, so remembering them changes no outcome; invalid keys are not
 * remembered and fail every time.
 */
const CONVERSIONS_KEPT = 1024;
const conversions = new Map<string, Uint8Array>();

/**
 * Checks that 32 bytes are a usable Ed25519 public key: on the curve, in the prime-order
 * subgroup, not of small order. libsodium's Ed25519→X25519 conversion performs exactly
 * these checks, and its result is the key's X25519 form.
 */
export function signingKeyToDh(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new CryptoError('invalid_key', 'Ed25519 public key must be 32 bytes');
  const key = toBase64Url(publicKey);
  const known = conversions.get(key);
  if (known) return Uint8Array.from(known);
  let converted: Uint8Array;
  try {
    converted = sodium().crypto_sign_ed25519_pk_to_curve25519(publicKey);
  } catch (cause) {
    throw new CryptoError('invalid_key', 'not a valid Ed25519 public key', { cause });
  }
  conversions.set(key, Uint8Array.from(converted));
  if (conversions.size > CONVERSIONS_KEPT) conversions.delete(conversions.keys().next().value as string);
  return converted;
}

export function assertSigningPublicKey(publicKey: Uint8Array): void {
  signingKeyToDh(publicKey);
}

/** The X25519 form of an Ed25519 secret key, for DH with an identity or device key. */
export function signingPrivateKeyToDh(privateKey: Uint8Array): Uint8Array {
  return sodium().crypto_sign_ed25519_sk_to_curve25519(privateKey);
}

/** A device id is the base64url of the device's Ed25519 public key. */
export function deviceIdOf(devicePublicKey: Uint8Array): string {
  return toBase64Url(devicePublicKey);
}

/** Parses and validates a device id (or any base64url Ed25519 public key). */
export function parseSigningPublicKey(text: string): Uint8Array {
  const key = fromBase64Url(text, PUBLIC_KEY_BYTES);
  assertSigningPublicKey(key);
  return key;
}

/** Parses a base64url X25519 public key, rejecting the all-zero and other low-order points. */
export function parseDhPublicKey(text: string): Uint8Array {
  const key = fromBase64Url(text, PUBLIC_KEY_BYTES);
  assertDhPublicKey(key);
  return key;
}

// The X25519 points of small order (RFC 7748 §7, libsodium's blocklist), little-endian, with
// the bit-255-set variants handled by masking. Any DH with these yields a predictable secret.
const LOW_ORDER_POINTS = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

export function assertDhPublicKey(publicKey: Uint8Array): void {
  if (publicKey.length !== PUBLIC_KEY_BYTES) throw new CryptoError('invalid_key', 'X25519 public key must be 32 bytes');
  const masked = Uint8Array.from(publicKey);
  masked[31] = (masked[31] ?? 0) & 0x7f;
  const hex = sodium().to_hex(masked);
  if (LOW_ORDER_POINTS.includes(hex)) throw new CryptoError('low_order_point', 'X25519 public key has small order');
}
