/**
 * The SDK's local store: an in-memory working copy (reads are synchronous, which the crypto
 * core's PrekeySource needs) over a Persistence backend. Writes go in atomic batches —
 * e.g. a decrypted message, its ratchet state, its dedup ids and a consumed one-time prekey
 * land together or not at all — applied in memory at once and persisted in order, with one
 * disk flush shared by the batches that arrive meanwhile (see `commit`).
 */
import { SdkError } from '../errors.js';
import type { Persistence } from './persistence.js';
import { COLLECTIONS, type CollectionName, type Collections, type Snapshot, type StoreWrite } from './records.js';

export class LocalStore {
  private readonly waiting: Array<{ writes: readonly StoreWrite[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  private flushing: Promise<void> | undefined;
  private failure: SdkError | undefined;
  private closed = false;

  private constructor(
    private readonly persistence: Persistence,
    private readonly data: { [C in CollectionName]: Map<string, Collections[C]> },
  ) {}

  static async open(persistence: Persistence): Promise<LocalStore> {
    const snapshot = await persistence.load();
    const data = {} as { [C in CollectionName]: Map<string, Collections[C]> };
    for (const name of COLLECTIONS) {
      (data as Record<CollectionName, Map<string, unknown>>)[name] = new Map(Object.entries(snapshot[name] ?? {}));
    }
    return new LocalStore(persistence, data);
  }

  get<C extends CollectionName>(collection: C, key: string): Collections[C] | undefined {
    return this.data[collection].get(key);
  }

  /** All records of a collection (order depends on the backend: sort by a field when it matters). */
  all<C extends CollectionName>(collection: C): Collections[C][] {
    return [...this.data[collection].values()];
  }

  entries<C extends CollectionName>(collection: C): Array<[string, Collections[C]]> {
    return [...this.data[collection].entries()];
  }

  count(collection: CollectionName): number {
    return this.data[collection].size;
  }

  batch(): StoreBatch {
    return new StoreBatch(this);
  }

  /**
   * Applies the writes in memory at once (later reads see them) and persists them atomically;
   * resolves once they are durable. Batches are applied and persisted in call order. Group
   * commit: batches that arrive while a write is in flight go to the backend together in the
   * next one (one disk flush for all of them), and each still lands whole or not at all.
   *
   * Callers that must not act before the disk has a batch — sending the envelopes it holds,
   * acknowledging what it records — await it, or `durable()`. If a write fails, the store
   * refuses every later batch (memory may now be ahead of the disk: reopen the profile), so
   * nothing is ever persisted on top of a hole.
   */
  commit(writes: readonly StoreWrite[]): Promise<void> {
    if (this.closed) return Promise.reject(new SdkError('closed', 'the local store is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    for (const write of writes) {
      const map = this.data[write.collection] as Map<string, unknown>;
      if (write.value === null) map.delete(write.key);
      else map.set(write.key, write.value);
    }
    const done = new Promise<void>((resolve, reject) => {
      this.waiting.push({ writes, resolve, reject });
      this.startFlush();
    });
    return done;
  }

  /** Resolves once every batch committed so far is durable (at once when closed); rejects if the store failed. */
  durable(): Promise<void> {
    if (this.closed) return this.flushing?.then(() => undefined, () => undefined) ?? Promise.resolve();
    return this.commit([]);
  }

  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing.catch(() => undefined);
    await this.persistence.close();
  }

  private startFlush(): void {
    if (this.flushing) return;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      // A batch that arrived after the loop's last check (its callers resumed first) still goes out.
      if (this.waiting.length > 0) this.startFlush();
    });
  }

  private async flush(): Promise<void> {
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0);
      const writes = group.flatMap((g) => g.writes);
      try {
        if (this.failure !== undefined) throw this.failure;
        if (writes.length > 0) await this.persistence.write(writes);
      } catch (error) {
        this.failure ??= new SdkError('store_failed', 'the profile could not be saved; reopen it', { cause: error });
        for (const g of group) g.reject(this.failure);
        continue;
      }
      for (const g of group) g.resolve();
    }
  }

  /** A JSON-ready copy of everything (the file backend's format). */
  snapshot(): Snapshot {
    const out = {} as Record<CollectionName, Record<string, unknown>>;
    for (const name of COLLECTIONS) out[name] = Object.fromEntries(this.data[name]);
    return out as Snapshot;
  }
}

export class StoreBatch {
  readonly writes: StoreWrite[] = [];
  constructor(private readonly store: LocalStore) {}

  put<C extends CollectionName>(collection: C, key: string, value: Collections[C]): this {
    this.writes.push({ collection, key, value } as StoreWrite);
    return this;
  }

  delete(collection: CollectionName, key: string): this {
    this.writes.push({ collection, key, value: null } as StoreWrite);
    return this;
  }

  /** Reads through the pending writes of this batch, so steps of one operation see each other. */
  get<C extends CollectionName>(collection: C, key: string): Collections[C] | undefined {
    for (let i = this.writes.length - 1; i >= 0; i--) {
      const write = this.writes[i]!;
      if (write.collection === collection && write.key === key) return (write.value ?? undefined) as Collections[C] | undefined;
    }
    return this.store.get(collection, key);
  }

  commit(): Promise<void> {
    return this.store.commit(this.writes);
  }
}
