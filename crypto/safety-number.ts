/**
 * Safety numbers: what two users compare (aloud or by QR) to know that no one sits between
 * their account identity keys. docs/PROTOCOL.md §"Safety numbers".
 *
 * Per party: D = BLAKE2b-512(label "sealpost/v2/safety-number", fields: identityKey, handle).
 * Its first 30 bytes, in six 5-byte big-endian chunks each reduced mod 100000, give 30 digits
 * (~99.7 bits: finding another key with the same digits is a 2^99 second preimage, so unlike
 * Signal's SHA-512 ×5200 we do not iterate). The two 30-digit halves are sorted and joined, so
 * both sides see the same 60 digits regardless of who is "a".
 */
import { toBase64Url, utf8 } from './encoding.js';
import { CryptoError } from './errors.js';
import { KDF_LABELS, deriveKey } from './kdf.js';
import { PUBLIC_KEY_BYTES } from './keys.js';

export interface SafetyParty {
  handle: string;
  identityKey: Uint8Array;
}

function partyDigest(party: SafetyParty): Uint8Array {
  if (party.identityKey.length !== PUBLIC_KEY_BYTES) throw new CryptoError('invalid_key', 'identity key must be 32 bytes');
  return deriveKey(KDF_LABELS.safetyNumber, null, [party.identityKey, utf8(party.handle)], 64);
}

function digitsOf(digest: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + (digest[chunk * 5 + i] as number);
    out += String(value % 100000).padStart(5, '0');
  }
  return out;
}

/** 60 digits as 12 groups of 5 separated by single spaces; the same on both sides. */
export function safetyNumber(a: SafetyParty, b: SafetyParty): string {
  const halves = [digitsOf(partyDigest(a)), digitsOf(partyDigest(b))].sort();
  const digits = halves.join('');
  return (digits.match(/.{5}/g) ?? []).join(' ');
}

/**
 * For QR codes: "sp1:" + base64url(BLAKE2b-256(label "sealpost/v2/safety-fingerprint",
 * fields: the two 64-byte party digests in ascending byte order)) — 47 characters. A scanner
 * computes its own and compares the strings; equal means both identity keys match.
 */
export function safetyFingerprint(a: SafetyParty, b: SafetyParty): string {
  const digests = [partyDigest(a), partyDigest(b)].sort(compareBytes);
  return `sp1:${toBase64Url(deriveKey(KDF_LABELS.safetyFingerprint, null, digests, 32))}`;
}

function compareBytes(x: Uint8Array, y: Uint8Array): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i] as number) - (y[i] as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
