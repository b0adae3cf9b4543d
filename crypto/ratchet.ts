/**
 * Double Ratchet steps (Signal's specification, §3) over a SessionState. `ratchetDecrypt`
 * mutates the state it is given; session.ts hands it a copy and commits only on success.
 */
import { computeDh } from './dh.js';
import { concatBytes, equalBytes } from './encoding.js';
import { CryptoError } from './errors.js';
import { assertDhPublicKey, generateDhKeyPair } from './keys.js';
import type { ParsedMessage } from './message-format.js';
import { NONCE_BYTES, encodeHeader } from './message-format.js';
import { deriveChainKeys, deriveMessageKey, deriveRootKeys, headerTag } from './ratchet-kdf.js';
import type { SessionState } from './session-state.js';
import { MAX_PREVIOUS_RECEIVING_KEYS, associatedData } from './session-state.js';
import { sodium } from './sodium.js';

const MAX_INDEX = 0xffffffff;

function wipe(b: Uint8Array | undefined): void {
  if (b) sodium().memzero(b);
}

/**
 * Encrypts already-padded content with the next sending message key under a fresh random nonce
 * (fixed only for test vectors); returns header ‖ header tag ‖ ciphertext.
 */
export function ratchetEncrypt(s: SessionState, padded: Uint8Array, nonce: Uint8Array = sodium().randombytes_buf(NONCE_BYTES)): Uint8Array {
  if (!s.sendChain) throw new CryptoError('invalid_key', 'session has no sending chain yet');
  if (s.sendIndex >= MAX_INDEX) throw new CryptoError('invalid_encoding', 'sending chain exhausted');
  if (nonce.length !== NONCE_BYTES) throw new CryptoError('invalid_encoding', 'a nonce is 24 bytes');
  const { chainKey, seed } = deriveChainKeys(s.sendChain);
  const header = encodeHeader(s.pendingPrekey, s.sendRatchet.publicKey, s.previousSendCount, s.sendIndex, nonce);
  const key = deriveMessageKey(seed, associatedData(s), header);
  const ciphertext = sodium().crypto_secretbox_easy(padded, nonce, key);
  wipe(seed);
  wipe(key);
  wipe(s.sendChain);
  s.sendChain = chainKey;
  s.sendIndex += 1;
  return concatBytes(header, headerTag(s.headerKey, header), ciphertext);
}

/** Throws decrypt_failed unless the header tag is the session's: one keyed hash, no ratchet work. */
export function checkHeaderTag(s: SessionState, m: ParsedMessage): void {
  if (!equalBytes(headerTag(s.headerKey, m.header), m.headerTag)) {
    throw new CryptoError('decrypt_failed', 'message header does not authenticate in this session');
  }
}

function openWithSeed(s: SessionState, seed: Uint8Array, m: ParsedMessage): Uint8Array {
  const key = deriveMessageKey(seed, associatedData(s), m.header);
  try {
    return sodium().crypto_secretbox_open_easy(m.ciphertext, m.nonce, key);
  } catch (cause) {
    throw new CryptoError('decrypt_failed', 'message does not authenticate', { cause });
  } finally {
    wipe(key);
  }
}

/** Stores the keys of messages [recvIndex, until) of the current receiving chain. */
function skipMessageKeys(s: SessionState, until: number): void {
  if (!s.recvChain || !s.recvRatchetKey) return;
  if (until - s.recvIndex > s.maxSkip) {
    throw new CryptoError('too_many_skipped', `message is more than ${s.maxSkip} messages ahead of the chain`);
  }
  while (s.recvIndex < until) {
    const { chainKey, seed } = deriveChainKeys(s.recvChain);
    s.skipped.push({ ratchetKey: Uint8Array.from(s.recvRatchetKey), index: s.recvIndex, seed });
    wipe(s.recvChain);
    s.recvChain = chainKey;
    s.recvIndex += 1;
  }
  // Bound memory: keep the newest maxSkip keys; the oldest are wiped and their messages become undecryptable.
  while (s.skipped.length > s.maxSkip) wipe(s.skipped.shift()?.seed);
}

function stepDhRatchet(s: SessionState, remoteKey: Uint8Array): void {
  if (s.recvRatchetKey) {
    s.previousRecvKeys.push(s.recvRatchetKey);
    if (s.previousRecvKeys.length > MAX_PREVIOUS_RECEIVING_KEYS) s.previousRecvKeys.shift();
  }
  s.previousSendCount = s.sendIndex;
  s.sendIndex = 0;
  s.recvIndex = 0;
  s.recvRatchetKey = Uint8Array.from(remoteKey);
  const receiving = deriveRootKeys(s.rootKey, computeDh(s.sendRatchet.privateKey, remoteKey));
  wipe(s.recvChain);
  s.recvChain = receiving.chainKey;
  const next = generateDhKeyPair();
  const sending = deriveRootKeys(receiving.rootKey, computeDh(next.privateKey, remoteKey));
  wipe(receiving.rootKey);
  wipe(s.rootKey);
  wipe(s.sendRatchet.privateKey);
  wipe(s.sendChain);
  s.rootKey = sending.rootKey;
  s.sendChain = sending.chainKey;
  s.sendRatchet = next;
}

/** Returns the padded plaintext; throws CryptoError. Mutates `s` (a copy the caller may discard). */
export function ratchetDecrypt(s: SessionState, m: ParsedMessage): Uint8Array {
  checkHeaderTag(s, m);
  assertDhPublicKey(m.ratchetKey);
  if (m.index >= MAX_INDEX || m.previousCount >= MAX_INDEX) throw new CryptoError('invalid_encoding', 'message number out of range');
  const skippedAt = s.skipped.findIndex((k) => k.index === m.index && equalBytes(k.ratchetKey, m.ratchetKey));
  if (skippedAt >= 0) {
    const [entry] = s.skipped.splice(skippedAt, 1);
    const seed = (entry as { seed: Uint8Array }).seed;
    try {
      return openWithSeed(s, seed, m);
    } finally {
      wipe(seed);
    }
  }
  if (s.recvRatchetKey && equalBytes(m.ratchetKey, s.recvRatchetKey)) {
    if (!s.recvChain) throw new CryptoError('decrypt_failed', 'message on a chain this session never received');
    if (m.index < s.recvIndex) throw new CryptoError('replay', 'message already decrypted (or its key expired)');
  } else {
    if (s.previousRecvKeys.some((k) => equalBytes(k, m.ratchetKey))) {
      throw new CryptoError('replay', 'message on a finished chain already decrypted (or its key expired)');
    }
    skipMessageKeys(s, m.previousCount);
    stepDhRatchet(s, m.ratchetKey);
  }
  skipMessageKeys(s, m.index);
  if (!s.recvChain) throw new CryptoError('decrypt_failed', 'no receiving chain');
  const { chainKey, seed } = deriveChainKeys(s.recvChain);
  try {
    const padded = openWithSeed(s, seed, m);
    wipe(s.recvChain);
    s.recvChain = chainKey;
    s.recvIndex = m.index + 1;
    return padded;
  } finally {
    wipe(seed);
  }
}
