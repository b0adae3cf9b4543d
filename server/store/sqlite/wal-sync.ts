/**
 * Durability of SQLite's writes without blocking the event loop. SQLite runs with
 * synchronous=NORMAL, so a commit writes its WAL frames but does not fsync them (better-sqlite3 is
 * synchronous: an fsync inside COMMIT would stall every socket for the length of a disk flush).
 * A write that must survive power loss then awaits `barrier()`: an fdatasync of the WAL that
 * started after the commit (sync-barrier.ts).
 *
 * Why this is as durable as synchronous=FULL for what we acknowledge: in WAL mode FULL differs
 * from NORMAL only by an fsync of the WAL at each commit; NORMAL still syncs the WAL before each
 * checkpoint, the database after it, and the WAL header when the file is reused. Our fdatasync
 * flushes every frame written so far, so when it returns the committed transaction is on disk,
 * exactly as FULL would have left it. docs/self-hosting.md ("Durability") says the same.
 */
import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { syncDirectory } from './files.js';
import { fdatasyncFile, SyncBarrier, type SyncFile } from './sync-barrier.js';

export class WalSync {
  #fd: number | undefined;
  readonly #barrier: SyncBarrier;

  constructor(
    private readonly dbPath: string,
    syncFile: SyncFile = fdatasyncFile,
  ) {
    this.#barrier = new SyncBarrier(() => syncFile(this.#walFd()), 'WAL');
  }

  get failure(): Error | undefined {
    return this.#barrier.failure;
  }

  /** Resolves when everything committed before this call is on disk. */
  barrier(): Promise<void> {
    return this.#barrier.barrier();
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
    await this.#barrier.settled();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
