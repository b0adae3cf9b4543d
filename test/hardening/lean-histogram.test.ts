/** The hot-path histogram (server/lean-histogram.ts) renders what a prom-client Histogram would. */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LeanHistogram } from '../../server/lean-histogram.js';

describe('LeanHistogram', () => {
  it('exposes the same buckets, sum and count as prom-client for the same observations', async () => {
    const values = [0, 0.5, 1, 1.0001, 2, 7, 100];
    const lean = new Registry();
    const histogram = new LeanHistogram('t_seconds', 'help', [0.5, 1, 5], lean);
    const [a, b] = [histogram.series({ event: 'a' }), histogram.series({ event: 'b' })];
    expect(histogram.series({ event: 'a' })).toBe(a);
    const stock = new Registry();
    const reference = new Histogram({ name: 't_seconds', help: 'help', labelNames: ['event'], buckets: [0.5, 1, 5], registers: [stock] });
    for (const v of values) {
      a.observe(v);
      reference.observe({ event: 'a' }, v);
    }
    b.observe(3);
    reference.observe({ event: 'b' }, 3);
    expect(await lean.metrics()).toBe(await stock.metrics());
    expect(await lean.metrics()).toContain('t_seconds_bucket{le="1",event="a"} 3');
    histogram.reset();
    expect(await lean.metrics()).toContain('t_seconds_count{event="a"} 0');
  });
});
