/** The replay cache's journal (server/http/nonce-file.ts): what it restores, skips and rewrites. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { NonceCache } from '../../server/http/nonce-cache.js';
import { NonceJournal } from '../../server/http/nonce-file.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-nonces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}-nonces`);
const log = pino({ level: 'silent' });
const WINDOW = 60_000;

describe('NonceJournal', () => {
  it('appends each nonce as it is remembered, so a process that never closes hands them on', () => {
    const path = file();
    const first = new NonceCache(WINDOW);
    new NonceJournal(path, first, log);
    expect(first.remember('a')).toBe(true);
    expect(first.remember('b')).toBe(true);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
    // Killed mid-write: a torn last line is skipped, the rest restored.
    appendFileSync(path, '["c", 17');
    const next = new NonceCache(WINDOW);
    new NonceJournal(path, next, log);
    expect(next.remember('a')).toBe(false);
    expect(next.remember('b')).toBe(false);
    expect(next.remember('c')).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reads the single list older relays wrote at a graceful stop, and drops expired nonces', () => {
    const path = file();
    writeFileSync(path, JSON.stringify([['old', Date.now() + WINDOW], ['gone', Date.now() - 1]]));
    const cache = new NonceCache(WINDOW);
    const journal = new NonceJournal(path, cache, log);
    expect(cache.fresh().map(([nonce]) => nonce)).toEqual(['old']);
    journal.close();
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(['old', cache.fresh()[0]![1]])}\n`);
  });

  it('rewrites itself with only the fresh nonces once it has grown past them', () => {
    const path = file();
    const cache = new NonceCache(WINDOW);
    new NonceJournal(path, cache, log);
    expect(cache.remember('keep')).toBe(true);
    // Nonces remembered long ago (their window is over) until the journal passes 1 MiB.
    const longAgo = Date.now() - 10 * WINDOW;
    for (let i = 0; i < 40_000; i++) cache.remember(`expired-${i}`, longAgo);
    // 40,000 lines are over 1.2 MB: smaller means it was rewritten on the way.
    expect(statSync(path).size).toBeLessThan(1024 * 1024);
    expect(readFileSync(path, 'utf8')).toMatch(/^\["keep",\d+\]\n/);
    const restored = new NonceCache(WINDOW);
    new NonceJournal(path, restored, log);
    expect(restored.fresh().map(([nonce]) => nonce)).toEqual(['keep']);
  });
});
