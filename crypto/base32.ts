/**
 * Base32 with a choice of alphabet: Crockford's (https://www.crockford.com/base32.html) for the
 * typed form of link codes — digits and upper-case letters without I, L, O and U, any case, the
 * letters people confuse with 0 and 1 read as 0 and 1 — and RFC 4648's in lower case for the
 * recovery key. One bit-packing for both; no '=' padding.
 */
import { CryptoError } from './errors.js';

export interface Base32Alphabet {
  readonly chars: string;
  /** Character → value, aliases and accepted case variants included. */
  readonly values: ReadonlyMap<string, number>;
}

function alphabet(chars: string, more: Iterable<readonly [string, number]> = []): Base32Alphabet {
  return { chars, values: new Map([...[...chars].map((c, i) => [c, i] as const), ...more]) };
}

const CROCKFORD_CHARS = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Crockford's: any case; O, I and L read as 0, 1, 1 (mapped rather than refused). */
export const CROCKFORD = alphabet(CROCKFORD_CHARS, [
  ...[...CROCKFORD_CHARS].map((c, i) => [c.toLowerCase(), i] as const),
  ...(['O', 'o'] as const).map((c) => [c, 0] as const),
  ...(['I', 'i', 'L', 'l'] as const).map((c) => [c, 1] as const),
]);
/** RFC 4648's, lower case only (callers lower-case what they read). */
export const RFC4648_LOWER = alphabet('abcdefghijklmnopqrstuvwxyz234567');

/** Bytes to base32 characters; the last character is zero-padded. */
export function toBase32(bytes: Uint8Array, digits: Base32Alphabet = CROCKFORD): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += digits.chars[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += digits.chars[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Base32 characters to exactly `length` bytes. Callers strip separators first. Stray padding
 * bits must be zero, so one value has one text. `notADigit` words the error for a character
 * outside the alphabet.
 */
export function fromBase32(text: string, length: number, digits: Base32Alphabet = CROCKFORD, notADigit = (_char: string) => 'not base32'): Uint8Array {
  if (text.length !== Math.ceil((length * 8) / 5)) throw new CryptoError('invalid_encoding', `expected ${Math.ceil((length * 8) / 5)} base32 characters, got ${text.length}`);
  const out = new Uint8Array(length);
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const char of text) {
    const value = digits.values.get(char);
    if (value === undefined) throw new CryptoError('invalid_encoding', notADigit(char));
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      if (at < length) out[at++] = (buffer >>> (bits - 8)) & 255;
      bits -= 8;
      buffer &= (1 << bits) - 1;
    }
  }
  if (buffer !== 0) throw new CryptoError('invalid_encoding', 'non-canonical base32');
  return out;
}
