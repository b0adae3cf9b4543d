/**
 * The one key-derivation construction of Sealpost: BLAKE2b (libsodium `crypto_generichash`),
 * keyed when there is a key, over a domain-separation label and length-prefixed fields.
 *
 *   derive(label, key, fields, n) = BLAKE2b-n(key, label ‖ 0x00 ‖ (u16 BE len ‖ field)*)
 *
 * BLAKE2b keyed mode is a PRF (and a MAC), so it serves where Signal uses HMAC-SHA256/HKDF;
 * the standard libsodium-wrappers build has no HMAC-SHA256. Labels are listed in
 * docs/PROTOCOL.md §"Key derivation"; each label is used for exactly one purpose.
 */
import { concatBytes, uintBE, utf8 } from './encoding.js';
import { sodium } from './sodium.js';

export const KDF_LABELS = {
  x3dh: 'sealpost/v2/x3dh',
  root: 'sealpost/v2/ratchet-root',
  chainMessage: 'sealpost/v2/ratchet-chain-message',
  chainNext: 'sealpost/v2/ratchet-chain-next',
  messageKey: 'sealpost/v2/message-key',
  headerKey: 'sealpost/v2/header-key',
  headerTag: 'sealpost/v2/header-tag',
  safetyNumber: 'sealpost/v2/safety-number',
  safetyFingerprint: 'sealpost/v2/safety-fingerprint',
  linkBundle: 'sealpost/v2/link-bundle',
  linkCode: 'sealpost/v2/link-code',
  deviceListHead: 'sealpost/v2/device-list-head',
  recoveryCheck: 'sealpost/v2/recovery-check',
} as const;

/** label ‖ 0x00 ‖ (u16 BE length ‖ field)* — the same framing as signed statements. */
export function frameFields(label: string, fields: readonly Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [utf8(label), new Uint8Array([0])];
  for (const field of fields) parts.push(uintBE(field.length, 2), field);
  return concatBytes(...parts);
}

/** BLAKE2b-`length` of the framed fields, keyed with `key` (16–64 bytes) or unkeyed (null). */
export function deriveKey(label: string, key: Uint8Array | null, fields: readonly Uint8Array[], length = 32): Uint8Array {
  const input = frameFields(label, fields);
  const out = sodium().crypto_generichash(length, input, key);
  sodium().memzero(input);
  return out;
}
