/**
 * Group commit: every envelope submitted during one event-loop tick is written in ONE store
 * transaction (flushed on setImmediate), so a burst of sends costs one fsync instead of many.
 * Each submitter then gets its own outcomes; afterwards each committed transaction's stored
 * envelopes are handed to `onStored` (the gateway pushes them to the recipients' rooms, after the senders' acks).
 */
import type { EnqueueItem, EnqueueOutcome, QueueLimits, Store } from '../store/store.js';

interface Pending {
  items: readonly EnqueueItem[];
  resolve: (outcomes: EnqueueOutcome[]) => void;
  reject: (error: unknown) => void;
}

export interface StoredEnvelope {
  item: EnqueueItem;
  seq: number;
}

export class GroupCommit {
  #pending: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #inFlight: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly limits: QueueLimits,
    private readonly onStored: (stored: StoredEnvelope[]) => void,
  ) {}

  submit(items: readonly EnqueueItem[]): Promise<EnqueueOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      this.#scheduled ??= setImmediate(() => void this.flush());
    });
  }

  /** Writes everything pending now; resolves when it (and any earlier flush) is committed. */
  flush(): Promise<void> {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const batch = this.#pending;
    this.#pending = [];
    // Flushes are chained so per-device sequence numbers follow submission order.
    this.#inFlight = this.#inFlight.then(() => this.#commit(batch));
    return this.#inFlight;
  }

  async #commit(batch: Pending[]): Promise<void> {
    if (batch.length === 0) return;
    const all = batch.flatMap((p) => p.items);
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await this.store.enqueue(all, this.limits);
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    const stored: StoredEnvelope[] = [];
    let offset = 0;
    for (const p of batch) {
      const mine = outcomes.slice(offset, offset + p.items.length);
      mine.forEach((o, i) => {
        const item = p.items[i];
        if (o.status === 'stored' && item) stored.push({ item, seq: o.seq });
      });
      offset += p.items.length;
      p.resolve(mine);
    }
    // setImmediate: the submitters' ack continuations (microtasks) run before the push.
    setImmediate(() => this.onStored(stored));
  }
}
