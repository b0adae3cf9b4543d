/** Opaque 1 KiB "sealed" bodies and fresh envelope ids, as a client would produce them. */
import { randomBytes } from 'node:crypto';

const POOL = 64;

/** A few random bodies, reused: the relay must not care what is inside, and random bytes do not compress. */
export function bodyPool(bytes: number): Uint8Array[] {
  // Buffers: socket.io-msgpack-parser writes a Buffer as msgpack bin, but a bare Uint8Array as
  // an extension of its whole underlying ArrayBuffer; Socket.IO's stock parser treats both alike.
  return Array.from({ length: POOL }, () => randomBytes(bytes));
}

/** 16 random bytes, base64url, as the SDK makes envelope ids. */
export function envelopeId(): string {
  return randomBytes(16).toString('base64url');
}
