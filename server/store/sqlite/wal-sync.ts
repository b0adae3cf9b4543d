/**
 * Durability without blocking the event loop. SQLite runs with synchronous=NORMAL, so a commit
 * writes its WAL frames but does not fsync them (better-sqlite3 is synchronous: an fsync inside
 * COMMIT would stall every socket for the length of a disk flush). A write that must survive
 * power loss then awaits `barrier()`, which resolves once an fdatasync of the WAL that STARTED
 * AFTER the commit has finished — on libuv's thread pool, while the loop keeps serving sockets.
 * Commits made while a sync is running share the next one (group commit at the fsync level).
 *
 * Why this is as durable as synchronous=FULL for what we acknowledge: in WAL mode FULL differs
 * from NORMAL only by an fsync of the WAL at each commit; NORMAL still syncs the WAL before each
 * checkpoint, the database after it, and the WAL header when the file is reused. Our fdatasync
 * flushes every frame written so far, so when it returns the committed transaction is on disk,
 * exactly as FULL would have left it. docs/self-hosting.md ("Durability") says the same.
 *
 * A failed sync fails every later barrier too: after an fsync error Linux may have dropped the
 * unwritten pages and reports the error once, so a later sync that succeeds proves nothing
 * about earlier commits. The relay then refuses writes (and /readyz says so) until restarted,
 * when SQLite recovers from what really reached the disk.
 */
import { closeSync, fdatasync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export type SyncFile = (fd: number) => Promise<void>;

export const fdatasyncFile: SyncFile = (fd) =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

export class WalSync {
  #fd: number | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #failure: Error | undefined;

  constructor(
    private readonly dbPath: string,
    private readonly syncFile: SyncFile = fdatasyncFile,
  ) {}

  /** Set once a sync failed; from then on every barrier rejects with it. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** Resolves when everything committed before this call is on disk. */
  barrier(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const running = this.#running;
    if (running === undefined) return this.#start();
    // A sync already under way may have started before our commit: wait for the next one.
    this.#queued ??= running.then(
      () => this.#startQueued(),
      () => this.#startQueued(),
    );
    return this.#queued;
  }

  #startQueued(): Promise<void> {
    this.#queued = undefined;
    return this.#start();
  }

  #start(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    const sync = this.syncFile(this.#walFd())
      .catch((error: unknown) => {
        this.#failure ??= new Error(`WAL sync failed; writes are refused until the relay restarts: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        throw this.#failure;
      })
      .finally(() => {
        if (this.#running === sync) this.#running = undefined;
      });
    this.#running = sync;
    return sync;
  }

  /** Opened on first use (SQLite creates the WAL lazily), then its directory entry made durable once. */
  #walFd(): number {
    if (this.#fd === undefined) {
      this.#fd = openSync(`${this.dbPath}-wal`, 'r');
      syncDirectory(dirname(this.dbPath));
    }
    return this.#fd;
  }

  /** After the last barrier: waits for syncs under way, then releases the descriptor. */
  async close(): Promise<void> {
    await (this.#queued ?? this.#running)?.catch(() => undefined);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL); the WAL's own data sync still holds.
  } finally {
    closeSync(fd);
  }
}
