/**
 * The replay cache on disk, so that no restart, graceful or not, reopens the replay window:
 * `<db>-nonces` (0600) next to the database, one JSON line `[signer, nonce, expiry]` appended as
 * each nonce is remembered (the signer is the public key that signed, so each signer's cap holds
 * after a restart too; lines `[nonce, expiry]` of older relays are read as nonces of no signer). The appends are not synced: a killed or crashed process leaves them in
 * the page cache, so only a power loss within the window can forget any. It holds random nonces
 * and expiry times only, nothing about users, and only for the freshness window: it is rewritten
 * with just the fresh ones at start, whenever it has grown well past them, and at a graceful stop.
 */
import { chmodSync, closeSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import type { NonceCache, NonceEntry } from './nonce-cache.js';

/** A rewrite happens past this size, or past four times what the last rewrite kept. */
const REWRITE_BYTES = 1024 * 1024;

export function noncesPath(db: string): string | undefined {
  return db === ':memory:' || db === '' ? undefined : `${db}-nonces`;
}

const line = (entry: NonceEntry): string => `${JSON.stringify(entry)}\n`;

/**
 * The entries of a journal (`[signer, nonce, expiry]` lines, or `[nonce, expiry]` lines and the
 * single JSON list of older relays, whose nonces name no signer); torn or foreign lines are skipped.
 */
function parseEntries(text: string): NonceEntry[] {
  const entryOf = (e: unknown): NonceEntry | undefined => {
    if (!Array.isArray(e)) return undefined;
    if (e.length === 3 && typeof e[0] === 'string' && typeof e[1] === 'string' && typeof e[2] === 'number') return [e[0], e[1], e[2]];
    if (e.length === 2 && typeof e[0] === 'string' && typeof e[1] === 'number') return ['', e[0], e[1]];
    return undefined;
  };
  const parse = (json: string): unknown => {
    try {
      return JSON.parse(json);
    } catch {
      return undefined;
    }
  };
  const entries = (values: unknown[]): NonceEntry[] => values.map(entryOf).filter((e): e is NonceEntry => e !== undefined);
  const whole = parse(text);
  if (Array.isArray(whole) && whole.length > 0 && whole.every((e) => entryOf(e) !== undefined)) return entries(whole);
  return entries(text.split('\n').map(parse));
}

export class NonceJournal {
  #fd: number;
  #bytes = 0;
  #rewriteAt = REWRITE_BYTES;

  /** Restores what the last process remembered into `cache`, then records every nonce it remembers from now on. */
  constructor(
    private readonly path: string,
    private readonly cache: NonceCache,
    private readonly log: FastifyBaseLogger,
  ) {
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      // First start on this database.
    }
    const entries = parseEntries(text);
    if (text.trim() !== '' && entries.length === 0) this.log.warn({ event: 'nonce_file_unreadable' }, 'ignoring an unreadable nonce file');
    cache.restore(entries);
    try {
      this.#fd = this.#rewrite();
    } catch (error) {
      // A full disk must not stop the relay from starting: keep appending to the journal as it is
      // (its nonces are restored above; a failed append only warns, see #append).
      this.log.warn({ err: error, event: 'nonce_file_not_rewritten' }, 'could not rewrite the replay cache; appending to it as it is');
      try {
        unlinkSync(`${path}.tmp`);
      } catch {
        // Not created.
      }
      this.#fd = openSync(path, 'a', 0o600);
    }
    cache.onRemember = (entry) => this.#append(entry);
  }

  /** At a graceful stop: keeps only the fresh nonces. */
  close(): void {
    this.cache.onRemember = undefined;
    closeSync(this.#fd);
    closeSync(this.#rewrite());
  }

  #append(entry: NonceEntry): void {
    try {
      this.#bytes += writeSync(this.#fd, line(entry));
      if (this.#bytes > this.#rewriteAt) {
        closeSync(this.#fd);
        this.#fd = this.#rewrite();
      }
    } catch (error) {
      // The cache itself still refuses replays; only a restart would forget them.
      this.cache.onRemember = undefined;
      this.log.warn({ err: error }, 'could not write the replay cache; a restart will begin with an empty one');
    }
  }

  /** Writes the fresh nonces to a new file that replaces the journal; returns it open for appending. */
  #rewrite(): number {
    const text = this.cache.fresh().map(line).join('');
    const temporary = `${this.path}.tmp`;
    writeFileSync(temporary, text, { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, this.path);
    this.#bytes = Buffer.byteLength(text);
    this.#rewriteAt = Math.max(REWRITE_BYTES, 4 * this.#bytes);
    return openSync(this.path, 'a', 0o600);
  }
}
