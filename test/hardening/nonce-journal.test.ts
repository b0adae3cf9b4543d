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
    expect(first.remember('s', 'a')).toBe('fresh');
    expect(first.remember('t', 'b')).toBe('fresh');
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(2);
    // Killed mid-write: a torn last line is skipped, the rest restored.
    appendFileSync(path, '["s", "c", 17');
    const next = new NonceCache(WINDOW);
    new NonceJournal(path, next, log);
    expect(next.remember('s', 'a')).toBe('replayed');
    expect(next.remember('t', 'b')).toBe('replayed');
    expect(next.remember('s', 'c')).toBe('fresh');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('reads the single list older relays wrote at a graceful stop, and drops expired nonces', () => {
    const path = file();
    writeFileSync(path, JSON.stringify([['old', Date.now() + WINDOW], ['gone', Date.now() - 1]]));
    const cache = new NonceCache(WINDOW);
    const journal = new NonceJournal(path, cache, log);
    expect(cache.fresh().map(([, nonce]) => nonce)).toEqual(['old']);
    // A nonce of no signer is refused for every signer until it expires.
    expect(cache.remember('anyone', 'old')).toBe('replayed');
    journal.close();
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(['', 'old', cache.fresh()[0]![2]])}\n`);
  });

  it('reads the [nonce, expiry] lines of older relays as nonces of no signer', () => {
    const path = file();
    writeFileSync(path, `${JSON.stringify(['request:x', Date.now() + WINDOW])}\n${JSON.stringify(['s', 'request:y', Date.now() + WINDOW])}\n`);
    const cache = new NonceCache(WINDOW);
    new NonceJournal(path, cache, log);
    expect(cache.remember('s', 'request:x')).toBe('replayed');
    expect(cache.remember('s', 'request:y')).toBe('replayed');
    expect(cache.remember('t', 'request:y')).toBe('fresh');
  });

  it("keeps each signer's cap across a restart: a signer at its cap stays refused, others are not", () => {
    const path = file();
    const cache = new NonceCache(WINDOW, 3);
    new NonceJournal(path, cache, log);
    for (const nonce of ['1', '2', '3']) expect(cache.remember('greedy', nonce)).toBe('fresh');
    expect(cache.remember('greedy', '4')).toBe('over_cap');
    const restored = new NonceCache(WINDOW, 3);
    new NonceJournal(path, restored, log);
    expect(restored.countOf('greedy')).toBe(3);
    expect(restored.remember('greedy', '5')).toBe('over_cap');
    expect(restored.remember('modest', '1')).toBe('fresh');
    // Once the window is over, the greedy signer may sign again.
    expect(restored.remember('greedy', '6', Date.now() + 3 * WINDOW)).toBe('fresh');
  });

  it('rewrites itself with only the fresh nonces once it has grown past them', () => {
    const path = file();
    const cache = new NonceCache(WINDOW);
    new NonceJournal(path, cache, log);
    expect(cache.remember('s', 'keep')).toBe('fresh');
    // Nonces remembered long ago (their window is over) until the journal passes 1 MiB.
    const longAgo = Date.now() - 10 * WINDOW;
    for (let i = 0; i < 40_000; i++) cache.remember(`signer-${i % 20}`, `expired-${i}`, longAgo);
    // 40,000 lines are over 1.2 MB: smaller means it was rewritten on the way.
    expect(statSync(path).size).toBeLessThan(1024 * 1024);
    expect(readFileSync(path, 'utf8')).toMatch(/^\["s","keep",\d+\]\n/);
    const restored = new NonceCache(WINDOW);
    new NonceJournal(path, restored, log);
    expect(restored.fresh().map(([, nonce]) => nonce)).toEqual(['keep']);
  });
});
