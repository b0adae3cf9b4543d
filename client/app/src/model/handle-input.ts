/**
 * A handle as people type it: the app shows handles as "@alice", so "@Alice " must work too.
 * Checked here against the relay's own rule (protocol/http.ts `Handle`) before any request, so
 * a mistake is explained in words instead of coming back as the relay's schema error.
 */
import { SdkError, type ContactRecord, type SealpostClient } from '../../../sdk/index.js';

/** The relay's handle rule: 3 to 32 of a–z, 0–9, "_", "." and "-". */
export const HANDLE_PATTERN = /^[a-z0-9_.-]{3,32}$/;

export type HandleInput =
  | { ok: true; handle: string }
  | { ok: false; problem: 'empty' | 'too_short' | 'too_long' | 'characters'; bad?: string };

/** Strips spaces and one leading "@", lower-cases, then checks the rule. */
export function parseHandle(typed: string): HandleInput {
  const handle = typed.trim().replace(/^@/, '').toLowerCase();
  if (handle === '') return { ok: false, problem: 'empty' };
  const bad = [...new Set(handle.replace(/[a-z0-9_.-]/g, ''))].join('');
  if (bad) return { ok: false, problem: 'characters', bad };
  if (handle.length < 3) return { ok: false, problem: 'too_short' };
  if (handle.length > 32) return { ok: false, problem: 'too_long' };
  return HANDLE_PATTERN.test(handle) ? { ok: true, handle } : { ok: false, problem: 'characters', bad: '' };
}

/** Several handles separated by commas or spaces (a group's members), each parsed as above. */
export function parseHandles(typed: string): HandleInput[] {
  return typed.split(/[\s,]+/).filter((part) => part !== '').map(parseHandle);
}

/**
 * Looks a handle up; a refusal carries the handle it was about, so "no such account" can say
 * which of several members failed (the relay's answer does not name it).
 */
export async function lookupHandle(client: SealpostClient, handle: string): Promise<ContactRecord> {
  try {
    return await client.lookup(handle);
  } catch (error) {
    if (error instanceof SdkError && error.details.handle === undefined) {
      throw new SdkError(error.code, error.message, { ...error.details, handle, cause: error });
    }
    throw error;
  }
}
