/**
 * The SDK's IndexedDB persistence behind a fence: once this tab loses the profile to another
 * tab, `fence()` makes every later write fail at once, so nothing this tab still had in flight
 * (a ratchet step, an outbox entry) can land on top of what the new tab loaded. Writes already
 * handed to IndexedDB finish first: the new tab's load is queued behind them.
 */
import { IndexedDbPersistence, SdkError, type Persistence } from '../../../sdk/index.js';

type Snapshot = Awaited<ReturnType<Persistence['load']>>;
type Writes = Parameters<Persistence['write']>[0];

export class FencedPersistence implements Persistence {
  private readonly inner: Persistence;
  private fenced = false;

  constructor(name: string) {
    this.inner = new IndexedDbPersistence(name);
  }

  fence(): void {
    this.fenced = true;
  }

  load(): Promise<Snapshot> {
    return this.inner.load();
  }

  write(writes: Writes): Promise<void> {
    if (this.fenced) return Promise.reject(new SdkError('closed', 'this profile is open in another tab now'));
    return this.inner.write(writes);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
