/**
 * Attachment ids and upload tokens: 32 random bytes each, base64url. The id is the download
 * capability (anyone holding it may fetch the complete blob, as on Signal's CDN); the token is the
 * upload capability, of which the relay keeps only a SHA-256 (a stolen blobs.db or database dump
 * lets nobody write into an unfinished upload). Tokens have 256 bits of entropy, so an unsalted
 * hash is enough; comparisons are of equal-length digests, in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;

/** The token of an `Authorization: Bearer <token>` header, if it has that shape. */
export function bearerToken(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

export function tokenMatches(token: string, storedHash: Buffer): boolean {
  const hash = tokenHash(token);
  return storedHash.length === hash.length && timingSafeEqual(hash, storedHash);
}
