/**
 * Group commit at the fsync level, for one file: `barrier()` resolves once a sync that STARTED
 * AFTER the call has finished, so everything written before the call is on disk. Callers that
 * arrive while a sync runs share the next one. The sync itself (an fdatasync on libuv's thread
 * pool) never blocks the event loop.
 *
 * A failed sync fails every later barrier too: after an fsync error Linux may have dropped the
 * unwritten pages and reports the error once, so a later sync that succeeds proves nothing about
 * earlier writes. The store then refuses writes until the relay restarts and recovers from what
 * really reached the disk.
 */
import { fdatasync } from 'node:fs';

export type SyncFile = (fd: number) => Promise<void>;

export const fdatasyncFile: SyncFile = (fd) =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

export class SyncBarrier {
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #failure: Error | undefined;

  /** `what` names the file in the error every later barrier rejects with. */
  constructor(
    private readonly sync: () => Promise<void>,
    private readonly what: string,
  ) {}

  /** Set once a sync failed; from then on every barrier rejects with it. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  barrier(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const running = this.#running;
    if (running === undefined) return this.#start();
    // A sync already under way may have started before the caller's write: wait for the next one.
    this.#queued ??= running.then(
      () => this.#startQueued(),
      () => this.#startQueued(),
    );
    return this.#queued;
  }

  /** Resolves once no sync is running or queued (whatever their outcome). */
  async settled(): Promise<void> {
    await (this.#queued ?? this.#running)?.catch(() => undefined);
  }

  #startQueued(): Promise<void> {
    this.#queued = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    let started: Promise<void>;
    try {
      started = this.sync();
    } catch (error) {
      started = Promise.reject(error);
    }
    const sync = started
      .catch((error: unknown) => {
        this.#failure ??= new Error(`${this.what} sync failed; writes are refused until the relay restarts: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        throw this.#failure;
      })
      .finally(() => {
        if (this.#running === sync) this.#running = undefined;
      });
    this.#running = sync;
    return sync;
  }
}
