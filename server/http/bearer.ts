/** Constant-time check of an `Authorization: Bearer <token>` header (the /metrics token). */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export function hasBearerToken(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false;
  // Hashing first gives equal-length inputs, so the comparison leaks neither content nor length.
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}
