import { CryptoError } from './errors.js';
import { sodium } from './sodium.js';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Unpadded base64url: the one text encoding of bytes in Sealpost (ids, keys, signatures). */
export function toBase64Url(bytes: Uint8Array): string {
  return sodium().to_base64(bytes, sodium().base64_variants.URLSAFE_NO_PADDING);
}

/** Decodes unpadded base64url; with `length`, also checks the decoded size. */
export function fromBase64Url(text: string, length?: number): Uint8Array {
  if (typeof text !== 'string' || !BASE64URL.test(text) || text.length % 4 === 1) {
    throw new CryptoError('invalid_encoding', 'not unpadded base64url');
  }
  let bytes: Uint8Array;
  try {
    bytes = sodium().from_base64(text, sodium().base64_variants.URLSAFE_NO_PADDING);
  } catch (cause) {
    throw new CryptoError('invalid_encoding', 'not unpadded base64url', { cause });
  }
  if (length !== undefined && bytes.length !== length) {
    throw new CryptoError('invalid_encoding', `expected ${length} bytes, got ${bytes.length}`);
  }
  // Reject non-canonical encodings (stray low bits in the last character) so one value has one text.
  if (toBase64Url(bytes) !== text) throw new CryptoError('invalid_encoding', 'non-canonical base64url');
  return bytes;
}

export function utf8(text: string): Uint8Array {
  return sodium().from_string(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return sodium().to_string(bytes);
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Big-endian unsigned integer of `width` bytes (width ≤ 8; values ≤ 2^53 − 1). */
export function uintBE(value: number, width: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new CryptoError('invalid_encoding', 'not a safe unsigned integer');
  const out = new Uint8Array(width);
  let rest = value;
  for (let i = width - 1; i >= 0; i--) {
    out[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  if (rest !== 0) throw new CryptoError('invalid_encoding', `integer does not fit in ${width} bytes`);
  return out;
}

/** Constant-time equality of two byte strings (lengths are not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium().memcmp(a, b);
}
