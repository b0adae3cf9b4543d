/** The in-memory queues of the queue log (server/store/sqlite/hot-queues.ts), short and long. */
import { describe, expect, it } from 'vitest';
import { HotQueues, type HotEnvelope } from '../../server/store/sqlite/hot-queues.js';

const envelope = (seq: number, expiresAt = Number.MAX_SAFE_INTEGER): HotEnvelope => ({ seq, id: `id${seq}`, body: new Uint8Array(seq), expiresAt });
const seqs = (list: readonly HotEnvelope[]) => list.map((e) => e.seq);

describe('HotQueues', () => {
  it('fills and empties a device queue again and again, keeping totals exact', () => {
    const hot = new HotQueues();
    for (let seq = 1; seq <= 50; seq++) {
      hot.add('d', envelope(seq));
      expect(hot.has('d', `id${seq}`)).toBe(true);
      expect(seqs(hot.removeUpTo('d', seq))).toEqual([seq]);
      expect(hot.has('d', `id${seq}`)).toBe(false);
    }
    expect(hot.totals).toEqual({ count: 0, bytes: 0 });
    expect(hot.totalsOf('d')).toEqual({ count: 0, bytes: 0 });
    // An emptied queue stays until the checkpoint, which skips it.
    expect(hot.entries()).toEqual([]);
  });

  it('reads, acknowledges and expires a long queue (indexed by id) in seq order', () => {
    const hot = new HotQueues();
    for (let seq = 1; seq <= 40; seq++) hot.add('d', envelope(seq, seq % 10 === 0 ? 100 : Number.MAX_SAFE_INTEGER));
    hot.add('e', envelope(7));
    expect(hot.has('d', 'id33')).toBe(true);
    expect(hot.has('d', 'nope')).toBe(false);
    expect(seqs(hot.read('d', 5, 3, 0))).toEqual([6, 7, 8]);
    // Expired envelopes are skipped by reads.
    expect(seqs(hot.read('d', 8, 3, 100))).toEqual([9, 11, 12]);
    expect(seqs(hot.removeUpTo('d', 25))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(hot.has('d', 'id20')).toBe(false);
    expect(seqs(hot.removeIds('d', ['id30', 'id26', 'id30', 'id3', 'id31']))).toEqual([26, 30, 31]);
    expect(seqs(hot.read('d', 0, 100, 0))).toEqual([27, 28, 29, ...Array.from({ length: 9 }, (_, i) => i + 32)]);
    expect(seqs(hot.removeExpired(100).get('d') ?? [])).toEqual([40]);
    const left = [27, 28, 29, 32, 33, 34, 35, 36, 37, 38, 39];
    expect(hot.totalsOf('d')).toEqual({ count: left.length, bytes: left.reduce((n, s) => n + s, 0) });
    expect(hot.totals).toEqual({ count: left.length + 1, bytes: left.reduce((n, s) => n + s, 0) + 7 });
    expect(hot.entries().map(([device, list]) => [device, seqs(list)])).toEqual([
      ['d', left],
      ['e', [7]],
    ]);
    expect(seqs(hot.removeDevice('d'))).toEqual(left);
    expect(hot.totals).toEqual({ count: 1, bytes: 7 });
    hot.clear();
    expect(hot.totals).toEqual({ count: 0, bytes: 0 });
    expect(hot.read('e', 0, 10, 0)).toEqual([]);
  });
});
