/** Per-IP buckets for refused handshakes: refill, forgetting refilled keys, and a bounded key count. */
import { describe, expect, it } from 'vitest';
import { KeyedBuckets } from '../../server/limits/token-bucket.js';

describe('KeyedBuckets', () => {
  it('empties per key and refills with time', () => {
    const buckets = new KeyedBuckets({ ratePerSecond: 1, burst: 2 });
    const t = 1_000_000;
    buckets.take('a', t);
    buckets.take('a', t);
    expect(buckets.has('a', t)).toBe(false);
    expect(buckets.has('b', t)).toBe(true);
    expect(buckets.has('a', t + 1000)).toBe(true);
  });

  it('forgets the oldest key past maxKeys, so a flood of addresses cannot grow it without bound', () => {
    const buckets = new KeyedBuckets({ ratePerSecond: 0.001, burst: 1 }, 3);
    const t = 1_000_000;
    for (const ip of ['a', 'b', 'c']) buckets.take(ip, t);
    expect(['a', 'b', 'c'].map((ip) => buckets.has(ip, t))).toEqual([false, false, false]);
    buckets.take('d', t);
    // 'a' was dropped to make room: it starts over with a full bucket.
    expect(['a', 'b', 'c', 'd'].map((ip) => buckets.has(ip, t))).toEqual([true, false, false, false]);
  });
});
