/** X25519 Diffie–Hellman that refuses small-order inputs and all-zero outputs. */
import { CryptoError } from './errors.js';
import { assertDhPublicKey } from './keys.js';
import { sodium } from './sodium.js';

/**
 * DH(privateKey, publicKey) with crypto_scalarmult. A low-order peer key would make the
 * shared secret predictable (contributory behaviour matters for X3DH and the ratchet), so
 * both the blocklist check and libsodium's all-zero-output check raise `low_order_point`.
 */
export function computeDh(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  assertDhPublicKey(publicKey);
  if (privateKey.length !== 32) throw new CryptoError('invalid_key', 'X25519 private key must be 32 bytes');
  let shared: Uint8Array;
  try {
    shared = sodium().crypto_scalarmult(privateKey, publicKey);
  } catch (cause) {
    // libsodium refuses when the result is all zeros (a small-order point not on our list).
    throw new CryptoError('low_order_point', 'X25519 result is all zeros', { cause });
  }
  if (sodium().is_zero(shared)) throw new CryptoError('low_order_point', 'X25519 result is all zeros');
  return shared;
}
