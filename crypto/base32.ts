/**
 * Crockford's base32 (https://www.crockford.com/base32.html): digits and upper-case letters
 * without I, L, O and U, so a code read aloud or typed by hand survives case, and the letters
 * people confuse with 0 and 1 are read as 0 and 1. Used for the typed form of link codes.
 */
import { CryptoError } from './errors.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const VALUES = new Map<string, number>([...ALPHABET].map((c, i) => [c, i]));
// The confusable letters Crockford maps rather than refuses.
VALUES.set('O', 0);
VALUES.set('I', 1);
VALUES.set('L', 1);

/** Bytes to base32 characters; the last character is zero-padded (no '=' padding). */
export function toBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Base32 characters (any case; O, I and L read as 0, 1, 1) to exactly `length` bytes. Callers
 * strip separators first. Stray padding bits must be zero, so one value has one text.
 */
export function fromBase32(text: string, length: number): Uint8Array {
  if (text.length !== Math.ceil((length * 8) / 5)) throw new CryptoError('invalid_encoding', `expected ${Math.ceil((length * 8) / 5)} base32 characters, got ${text.length}`);
  const out = new Uint8Array(length);
  let buffer = 0;
  let bits = 0;
  let at = 0;
  for (const char of text.toUpperCase()) {
    const value = VALUES.get(char);
    if (value === undefined) throw new CryptoError('invalid_encoding', 'not base32');
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
