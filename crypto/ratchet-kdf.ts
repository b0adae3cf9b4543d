/**
 * The three KDFs of the Double Ratchet (Signal's KDF_RK, KDF_CK, and the message-key step),
 * on keyed BLAKE2b (kdf.ts). Labels and vectors: docs/PROTOCOL.md §"Key derivation".
 */
import { KDF_LABELS, deriveKey } from './kdf.js';

/** KDF_RK: 64 bytes = BLAKE2b-512(key = root key, label, fields: DH output) → new root key ‖ chain key. */
export function deriveRootKeys(rootKey: Uint8Array, dhOutput: Uint8Array): { rootKey: Uint8Array; chainKey: Uint8Array } {
  const out = deriveKey(KDF_LABELS.root, rootKey, [dhOutput], 64);
  return { rootKey: out.slice(0, 32), chainKey: out.slice(32, 64) };
}

/** KDF_CK: two independent PRF outputs keyed by the chain key — the next chain key and this message's key seed. */
export function deriveChainKeys(chainKey: Uint8Array): { chainKey: Uint8Array; seed: Uint8Array } {
  return {
    chainKey: deriveKey(KDF_LABELS.chainNext, chainKey, []),
    seed: deriveKey(KDF_LABELS.chainMessage, chainKey, []),
  };
}

/**
 * secretbox has no associated data, so the AD (both identity keys, both device keys) and the
 * exact header bytes (the random nonce included) go into the key: 32 bytes = BLAKE2b-256(key =
 * seed, label, fields: AD, header). Any change to the AD or header gives another key and the
 * Poly1305 tag fails. The nonce is random and part of the header, so even two encryptions from
 * the same chain key (a rolled-back or duplicated state) use different keys and nonces.
 */
export function deriveMessageKey(seed: Uint8Array, ad: Uint8Array, header: Uint8Array): Uint8Array {
  return deriveKey(KDF_LABELS.messageKey, seed, [ad, header], 32);
}

/** The session's header key, fixed for its lifetime: BLAKE2b-256(key = SK, label, no fields). */
export function deriveHeaderKey(sharedSecret: Uint8Array): Uint8Array {
  return deriveKey(KDF_LABELS.headerKey, sharedSecret, []);
}

/** 16-byte keyed BLAKE2b of the header: checked before any ratchet work, so a forgery costs one hash. */
export function headerTag(headerKey: Uint8Array, header: Uint8Array): Uint8Array {
  return deriveKey(KDF_LABELS.headerTag, headerKey, [header], 16);
}
