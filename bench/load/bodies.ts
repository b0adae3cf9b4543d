/** Opaque 1 KiB "sealed" bodies and fresh envelope ids, as a client would produce them. */
import { randomBytes } from 'node:crypto';

const POOL = 64;

/** A few random bodies, reused: the relay must not care what is inside, and random bytes do not compress. */
export function bodyPool(bytes: number): Uint8Array[] {
  return Array.from({ length: POOL }, () => new Uint8Array(randomBytes(bytes)));
}

/** 16 random bytes, base64url, as the SDK makes envelope ids. */
export function envelopeId(): string {
  return randomBytes(16).toString('base64url');
}
