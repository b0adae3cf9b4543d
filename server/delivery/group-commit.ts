/**
 * Group commit: every envelope submitted while the previous commit settles (its WAL sync in
 * flight) or during the current event-loop tick is written in ONE store transaction with ONE
 * fsync: a burst of sends costs one of each instead of many.
 *
 * As DESIGN.md "Delivery semantics" says, a commit's submitters (who ack their senders) are
 * answered once `store.durable()` says the envelopes survive power loss, and only then are the
 * envelopes handed to `onStored` (the gateway pushes them to the recipients' rooms).
 *
 * Commits and sequenced reads run one at a time, in order, on one chain, and a commit's link
 * ends after its push. So a sequenced read sees exactly the envelopes already pushed — the
 * drain relies on this (delivery.ts).
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

/** Resolves in the check phase of this loop iteration: after every socket read of the poll phase. */
const checkPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class GroupCommit {
  #pending: Pending[] = [];
  #commitQueued = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly limits: QueueLimits,
    private readonly onStored: (stored: StoredEnvelope[]) => void,
  ) {}

  submit(items: readonly EnqueueItem[]): Promise<EnqueueOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ items, resolve, reject });
      if (this.#commitQueued) return;
      this.#commitQueued = true;
      this.#chain(async () => {
        await checkPhase();
        this.#commitQueued = false;
        await this.#commit();
      });
    });
  }

  /** Runs `read` after every commit submitted so far has been pushed, and before any later one. */
  sequenced<T>(read: () => Promise<T>): Promise<T> {
    return this.#chain(read);
  }

  /** Resolves once everything submitted so far is committed, pushed and durable (or its sync failed: its senders were told). */
  async flush(): Promise<void> {
    await this.#chain(async () => undefined);
    await this.store.durable().catch(() => undefined);
  }

  #chain<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #commit(): Promise<void> {
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const committed = this.store.enqueue(
      batch.flatMap((p) => p.items),
      this.limits,
    );
    // Asked at once: a store starts calls in order, so this sync covers the commit.
    const durable = this.store.durable();
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = await committed;
    } catch (error) {
      durable.catch(() => undefined);
      for (const p of batch) p.reject(error);
      return;
    }
    const stored: StoredEnvelope[] = [];
    const settle: (() => void)[] = [];
    let offset = 0;
    for (const p of batch) {
      const mine = outcomes.slice(offset, offset + p.items.length);
      mine.forEach((o, i) => {
        const item = p.items[i];
        if (o.status === 'stored' && item) stored.push({ item, seq: o.seq });
      });
      offset += p.items.length;
      settle.push(() => p.resolve(mine));
    }
    await durable.then(
      () => settle.forEach((resolve) => resolve()),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
    // Pushed even when the sync failed: the sender, answered `internal`, resends the same id,
    // which the store answers `duplicate` without pushing again — so this is the only push.
    this.onStored(stored);
  }
}
