/**
 * The queue log: an append-only file of stored and removed envelopes in front of SQLite
 * (docs/self-hosting.md "Durability"). A batch of envelopes costs one write and one shared
 * fdatasync here instead of B-tree inserts, and an envelope acknowledged before the next
 * checkpoint never reaches SQLite at all — in chat, almost every envelope. The store's queue log
 * layer (logged-store.ts) moves what is still queued into SQLite at a checkpoint, then retires
 * the file; at open it replays any file left by a crash (queue-replay.ts).
 *
 * Files (log-files.ts) are written in generation order and appended to only.
 * A retired file is reused as the next generation's file: renamed, then overwritten from its
 * start. Its blocks are already allocated, so a batch's fdatasync flushes data only, and nothing
 * has to be zero-filled and flushed alongside the batches' own syncs. Records are sealed with
 * their file's generation (log-records.ts), so the older records further on never replay.
 */
import { closeSync, openSync, writeSync, writevSync } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StoreUnavailableError } from '../store.js';
import { isDiskFull, type DiskSpace } from './disk-space.js';
import { fsyncDirectory } from './files.js';
import { isMissing, LogFile, logFilePath, preallocated, removeFile } from './log-files.js';
import { seal } from './log-records.js';
import type { SyncFile } from './sync-barrier.js';

/**
 * How long a removal record may wait for a batch to ride with before it is written alone. Under
 * load it always rides (one system call fewer per loop iteration); a crash loses at most this
 * much of them, and a lost removal only delivers that envelope again.
 */
export const LATER_FLUSH_MS = 50;

/** Buffers per writev call (Linux accepts at most 1024). */
const IOV_MAX = 1024;

interface Spare {
  generation: number;
  /** Set once prepared. */
  ready: LogFile | undefined;
  prepared: Promise<void>;
}

export interface QueueLogOptions {
  /** Where the database is; undefined for an in-memory database: nothing is written. */
  dbPath: string | undefined;
  /** The first generation to write (above any file already replayed). */
  generation: number;
  /** How a file is flushed; undefined in synchronous=NORMAL mode (never flushed). */
  syncFile: SyncFile | undefined;
  /** Bytes of zeros each new file starts with (the store's checkpoint size); a larger retired file is not reused. */
  preallocate: number;
  /** Free space and its reserve: a file is preallocated only when that leaves the reserve free. */
  space?: DiskSpace;
}

export class QueueLog {
  #generation: number;
  #current: LogFile | undefined;
  /** Rotated out, waiting for the checkpoint that moved their envelopes to be durable. */
  #retiring = new Set<LogFile>();
  /** Records that need not be durable (removals): written with the next append, or soon. */
  #later: Buffer[] = [];
  #laterScheduled: NodeJS.Timeout | undefined;
  #writeFailure: Error | undefined;
  /** The next generation's file, prepared in the background so a rotation never waits for it. */
  #spare: Spare | undefined;
  #closing = false;

  constructor(private readonly options: QueueLogOptions) {
    this.#generation = options.generation;
    const { dbPath, syncFile } = options;
    // The first file grows as it is written; every later one is a prepared spare.
    if (dbPath !== undefined) {
      const path = logFilePath(dbPath, this.#generation);
      this.#current = new LogFile(this.#generation, path, openSync(path, 'wx', 0o600), syncFile && this.#withDirectorySync(path, syncFile));
    }
    this.#prepareSpare();
  }

  /** The first file's name reaches the disk with its first sync (a spare's did when prepared). */
  #withDirectorySync(path: string, syncFile: SyncFile): SyncFile {
    let directory: Promise<void> | undefined;
    return async (fd) => {
      directory ??= fsyncDirectory(dirname(path));
      await Promise.all([syncFile(fd), directory]);
    };
  }

  #prepareSpare(): void {
    const { dbPath, syncFile, preallocate } = this.options;
    if (dbPath === undefined || this.#closing || this.#spare) return;
    const generation = this.#generation + 1;
    const path = logFilePath(dbPath, generation);
    const spare: Spare = { generation, ready: undefined, prepared: Promise.resolve() };
    if (syncFile === undefined) {
      spare.ready = new LogFile(generation, path, openSync(path, 'wx', 0o600), undefined);
    } else {
      // No room for the zeros: no spare for now; a rotation then starts a plain file (canRotate).
      if (this.options.space && !this.options.space.room(preallocate)) return;
      spare.prepared = preallocated(path, preallocate, this.options.space).then(
        (fd) => void (spare.ready = new LogFile(generation, path, fd, syncFile)),
        // No spare (a full disk?): rotations wait, the current file keeps growing; tried again at the next one.
        () => void (this.#spare === spare && (this.#spare = undefined)),
      );
    }
    this.#spare = spare;
  }

  /** True when `rotate` can start the next file at once; otherwise makes sure one is being prepared. */
  canRotate(): boolean {
    if (this.options.dbPath === undefined || this.#spare?.ready) return true;
    this.#prepareSpare();
    if (this.#spare?.ready) return true;
    // Preparing one was refused at once (no room for its zeros): a plain file that grows as it is
    // written, like the first one, so checkpoints go on while the disk is nearly full.
    if (this.#spare === undefined) return this.#plainSpare();
    return false;
  }

  #plainSpare(): boolean {
    const { dbPath, syncFile } = this.options;
    if (dbPath === undefined || this.#closing) return false;
    const generation = this.#generation + 1;
    const path = logFilePath(dbPath, generation);
    try {
      const file = new LogFile(generation, path, openSync(path, 'wx', 0o600), syncFile && this.#withDirectorySync(path, syncFile));
      this.#spare = { generation, ready: file, prepared: Promise.resolve() };
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once the spare is ready (or failed). */
  async rotatable(): Promise<void> {
    this.#prepareSpare();
    await this.#spare?.prepared;
  }

  /** A failed write or sync: every later write is refused. */
  get failure(): Error | undefined {
    return this.#writeFailure ?? this.#current?.sync?.failure ?? [...this.#retiring].find((f) => f.sync?.failure)?.sync?.failure;
  }

  /** Bytes in the current file: the store checkpoints when it grows large. */
  get size(): number {
    return this.#current?.size ?? 0;
  }

  /**
   * Writes `records` (after any pending removals) in one system call; throws if the log failed,
   * or a StoreUnavailableError when the disk is full (then nothing was written, and later
   * appends are tried again).
   */
  append(records: readonly Buffer[]): void {
    if (this.failure) throw this.failure;
    this.#write([...this.#takeLater(), ...records]);
  }

  /** Queues a record that need not be durable; it is written with the next append, or alone after LATER_FLUSH_MS. */
  later(record: Buffer): void {
    if (this.#current === undefined) return;
    this.#later.push(record);
    this.#laterScheduled ??= setTimeout(() => this.flushLater(), LATER_FLUSH_MS).unref();
  }

  flushLater(): void {
    const records = this.#takeLater();
    if (records.length > 0 && !this.failure) this.#write(records, false);
  }

  /** Resolves once everything appended before the call is on disk. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const current = this.#current?.sync?.barrier();
    if (this.#retiring.size === 0) return current ?? Promise.resolve();
    // A retired file is never synced again: its final sync already covers all it holds.
    const retired = [...this.#retiring].map((f) => f.final).filter((p) => p !== undefined);
    return Promise.all([current, ...retired]).then(() => undefined);
  }

  /**
   * Starts the next generation: from now on appends go to a new file. Returns the old one, which
   * the caller deletes with `retire` once what it holds is durable elsewhere.
   */
  rotate(): LogFile | undefined {
    this.flushLater();
    const old = this.#current;
    const next = this.#spare?.ready;
    if (old === undefined || next === undefined) return undefined;
    this.#generation = next.generation;
    this.#current = next;
    this.#spare = undefined;
    // An empty file has nothing to sync: only the syncs already under way are waited for.
    old.final = old.size === 0 ? old.sync?.settled() : old.sync?.barrier();
    // Observed by retire and durable(); a failure also shows in `failure` while the file retires.
    old.final?.catch(() => undefined);
    this.#retiring.add(old);
    // The next spare is this file, once retired (or zeros, if it cannot be reused).
    return old;
  }

  /**
   * Once a rotated file's content is durable elsewhere: reuses it as the next spare, or deletes it
   * (while closing, with a spare already there, without durability, or when it grew too large).
   */
  async retire(file: LogFile | undefined): Promise<void> {
    if (file === undefined) return;
    // No sync starts after this one (durable() waits for it rather than starting another), so
    // once it settled the descriptor can be closed or handed on.
    await file.final?.catch(() => undefined);
    try {
      const { dbPath, syncFile, preallocate } = this.options;
      if (dbPath !== undefined && syncFile !== undefined && !this.#closing && this.#spare === undefined && file.size <= 2 * preallocate) return await this.#reuse(file, dbPath, syncFile);
      closeSync(file.fd);
      // Off the event loop: freeing a large file's blocks takes a while.
      await unlink(file.path).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      this.#prepareSpare();
    } finally {
      this.#retiring.delete(file);
    }
  }

  /** Renames a retired file to the next generation and makes it the spare. */
  async #reuse(file: LogFile, dbPath: string, syncFile: SyncFile): Promise<void> {
    const generation = this.#generation + 1;
    const path = logFilePath(dbPath, generation);
    const spare: Spare = { generation, ready: undefined, prepared: Promise.resolve() };
    this.#spare = spare;
    // The new name must be on disk before a record sealed for it is: after a crash, a file
    // under its old name with new records at its start would replay nothing.
    spare.prepared = rename(file.path, path)
      .then(() => fsyncDirectory(dirname(path)))
      .then(
        () => void (spare.ready = new LogFile(generation, path, file.fd, syncFile)),
        // Not reusable after all: gone, and zeros are prepared at the next rotation instead.
        () => {
          if (this.#spare === spare) this.#spare = undefined;
          closeSync(file.fd);
          for (const name of [file.path, path]) {
            try {
              removeFile(name);
            } catch {
              // Left for the next start, which replays what it can and deletes it.
            }
          }
        },
      );
    await spare.prepared;
  }

  /**
   * Writes what is pending and releases the file. `discardEmpty`: after a final checkpoint the
   * current file holds nothing that is not in SQLite; it is deleted when nothing was written to it.
   */
  async close(discardEmpty: boolean): Promise<void> {
    this.#closing = true;
    this.flushLater();
    const spare = this.#spare;
    this.#spare = undefined;
    // Detached first: a durable() from here on starts no sync on a descriptor about to close.
    const current = this.#current;
    this.#current = undefined;
    await spare?.prepared;
    for (const file of [current, spare?.ready]) {
      if (file === undefined) continue;
      await file.sync?.settled();
      closeSync(file.fd);
      // A spare never holds anything; the current file nothing SQLite lacks after a final checkpoint.
      if (file.size === 0 && (discardEmpty || file === spare?.ready)) removeFile(file.path);
    }
  }

  #takeLater(): Buffer[] {
    if (this.#laterScheduled) clearTimeout(this.#laterScheduled);
    this.#laterScheduled = undefined;
    const later = this.#later;
    this.#later = [];
    return later;
  }

  #write(records: readonly Buffer[], rethrow = true): void {
    const file = this.#current;
    if (file === undefined || records.length === 0) return;
    const start = file.size;
    try {
      for (const record of records) seal(record, file.generation);
      for (let i = 0; i < records.length; i += IOV_MAX) {
        const chunk = records.slice(i, i + IOV_MAX);
        const total = chunk.reduce((n, r) => n + r.length, 0);
        const written = writevSync(file.fd, chunk, file.size);
        file.size += written;
        // A short write is a disk that filled up under it (the kernel writes what fits).
        if (written !== total) throw Object.assign(new Error(`short write: ${written} of ${total} bytes`), { code: 'ENOSPC' });
      }
    } catch (error) {
      if (isDiskFull(error)) {
        // Nothing of this write counts: the next one starts where it started. What did reach the
        // file is zeroed (blocks already allocated take it even on a full disk), so no record of
        // it replays after a crash; should that fail, a torn record stops the replay there, and
        // whole ones are envelopes their senders resend by id anyway.
        const reached = file.size - start;
        file.size = start;
        try {
          if (reached > 0) writeSync(file.fd, Buffer.alloc(reached), 0, reached, start);
        } catch {
          // See above.
        }
        const refused = new StoreUnavailableError('the disk is full; try again later', { cause: error });
        if (rethrow) throw refused;
        return;
      }
      this.#writeFailure ??= new Error(`queue log write failed; writes are refused until the relay restarts: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      if (rethrow) throw this.#writeFailure;
    }
  }
}
