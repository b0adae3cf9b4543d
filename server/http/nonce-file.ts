/**
 * Hands the replay cache from one relay process to the next: saved on a graceful close next to
 * the database (`<db>-nonces`, 0600, written to a temporary file and renamed), read back on
 * start. It holds only random nonces and their expiry times — nothing about users — and only
 * for the freshness window.
 */
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { NonceCache } from './nonce-cache.js';

export function noncesPath(db: string): string | undefined {
  return db === ':memory:' || db === '' ? undefined : `${db}-nonces`;
}

export function loadNonces(path: string, cache: NonceCache, log: FastifyBaseLogger): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return; // first start, or the last stop was not graceful
  }
  try {
    const entries: unknown = JSON.parse(text);
    if (!Array.isArray(entries)) throw new Error('not a list');
    cache.restore(entries.filter((e): e is [string, number] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number'));
  } catch (error) {
    log.warn({ err: error }, 'ignoring an unreadable nonce file');
  }
  rmSync(path, { force: true });
}

export function saveNonces(path: string, cache: NonceCache): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(cache.fresh()), { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}
