import type { Snapshot, StoreWrite } from './records.js';

/**
 * The storage seam: load everything once, then apply atomic batches. LocalStore keeps the
 * working copy in memory, so a backend needs only these three methods.
 */
export interface Persistence {
  load(): Promise<Partial<Snapshot>>;
  /** Applies all writes or none. */
  write(writes: readonly StoreWrite[]): Promise<void>;
  close(): Promise<void>;
}

/** Keeps nothing across restarts: for throwaway clients and unit tests of the SDK's logic. */
export class MemoryPersistence implements Persistence {
  async load(): Promise<Partial<Snapshot>> {
    return {};
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {}
}
