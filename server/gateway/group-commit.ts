/**
 * Group commit: every envelope submitted during one event-loop tick (or while the previous
 * commit was running) is written in ONE store transaction, and the commits of the time one WAL
 * sync takes share one fsync (wal-sync.ts): a burst of sends costs one transaction, not many.
 *
 * Each commit hands its stored envelopes to `onStored` at once — the gateway pushes them to the
 * recipients' rooms while the disk flush runs — and resolves its submitters (who then ack their
 * senders) only once `store.durable()` says the envelopes survive power loss. A recipient may
 * so hold an envelope whose sender is never acked (power lost mid-flush): the sender retries
 * with the same id and the recipient drops the copy. At-least-once, as DESIGN.md promises.
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

  /** Resolves once everything submitted so far is committed, pushed and durable. */
  async flush(): Promise<void> {
    await this.#chain(async () => undefined);
    await this.store.durable();
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
    // Asked at once, not after the commit: the store starts calls in order, so this sync
    // covers the commit, and a store in another thread gets both in one message.
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
    this.onStored(stored);
    durable.then(
      () => settle.forEach((resolve) => resolve()),
      (error: unknown) => batch.forEach((p) => p.reject(error)),
    );
  }
}
