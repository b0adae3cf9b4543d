import { sodium, toBase64Url } from '../../crypto/index.js';

export function randomBytes(length: number): Uint8Array {
  return sodium().randombytes_buf(length);
}

/** 16 random bytes as base64url: envelope ids and message ids. */
export function randomId(): string {
  return toBase64Url(randomBytes(16));
}
