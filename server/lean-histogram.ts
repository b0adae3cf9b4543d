/**
 * A Prometheus histogram for the relay's per-event hot path. prom-client's Histogram builds
 * closures, validates and hashes the labels on every observation — about 1 % of the relay's CPU
 * at 15,000 events a second. Here each labelled series is resolved once, and an observation is a
 * bucket scan and three additions. It registers in a prom-client Registry like any other metric
 * and renders the same exposition: `_bucket` (cumulative, with `le`), `_sum` and `_count`.
 */
import type { Registry } from 'prom-client';

export class HistogramSeries {
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
}

export class LeanHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #series: HistogramSeries[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The series for `labels`, created on first use: keep it and observe through it. */
  series(labels: Readonly<Record<string, string>> = {}): HistogramSeries {
    const key = JSON.stringify(labels);
    const found = this.#series.find((s) => JSON.stringify(s.labels) === key);
    if (found) return found;
    const created = new HistogramSeries(labels, this.bounds);
    this.#series.push(created);
    return created;
  }

  reset(): void {
    for (const series of this.#series) series.reset();
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: Value[] } {
    const values: Value[] = [];
    for (const series of this.#series) {
      let cumulative = 0;
      series.counts.forEach((n, i) => {
        cumulative += n;
        values.push({ labels: { le: this.bounds[i] ?? '+Inf', ...series.labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}
