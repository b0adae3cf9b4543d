/**
 * The queue log: an append-only file of stored and removed envelopes in front of SQLite
 * (docs/self-hosting.md "Durability"). A batch of envelopes costs one write and one shared
 * fdatasync here instead of B-tree inserts, and an envelope acknowledged before the next
 * checkpoint never reaches SQLite at all — in chat, almost every envelope. The store moves what
 * is still queued into SQLite at a checkpoint, then retires the file; at open it replays any
 * file left by a crash (sqlite-store.ts).
 *
 * Files are `<db>-queue-<generation>`, 0600, written in generation order; a file is never
 * rewritten, only appended to and finally deleted.
 */
import { closeSync, fsync, openSync, readdirSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SyncBarrier, type SyncFile } from './sync-barrier.js';

const PREALLOCATE_CHUNK = 1024 * 1024;

/** Buffers per writev call (Linux accepts at most 1024). */
const IOV_MAX = 1024;

export interface LogFileName {
  generation: number;
  path: string;
}

/** The queue log files next to `dbPath`, oldest first. */
export function queueLogFiles(dbPath: string): LogFileName[] {
  const prefix = `${basename(dbPath)}-queue-`;
  return readdirSync(dirname(dbPath))
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ generation: Number(name.slice(prefix.length)), path: join(dirname(dbPath), name) }))
    .sort((a, b) => a.generation - b.generation);
}

const fsyncPath = (path: string): Promise<void> =>
  new Promise((resolve, reject) => {
    const fd = openSync(path, 'r');
    fsync(fd, (error) => {
      closeSync(fd);
      // Some filesystems refuse fsync on a directory (EINVAL); the file's own data sync still holds.
      if (error && error.code !== 'EINVAL') reject(error);
      else resolve();
    });
  });

/** One generation's file. */
class LogFile {
  readonly fd: number;
  /** Absent without durability (synchronous=NORMAL): writes are final once written. */
  readonly sync: SyncBarrier | undefined;
  size = 0;
  #directorySynced = false;

  constructor(
    readonly path: string,
    syncFile: SyncFile | undefined,
    preallocate: number,
  ) {
    this.fd = openSync(path, 'wx', 0o600);
    // Zeros first, so that appends overwrite allocated blocks: the file's size and extents do not
    // change with each batch, and an fdatasync flushes data only, not a journal commit (half the
    // time here). Recovery stops at the zeros: a zero length is no record.
    const zeros = Buffer.alloc(PREALLOCATE_CHUNK);
    for (let at = 0; at < preallocate; at += zeros.length) writeSync(this.fd, zeros, 0, zeros.length, at);
    this.sync =
      syncFile &&
      new SyncBarrier(async () => {
        // The file's name must survive power loss too, once, before anything in it is acknowledged.
        if (!this.#directorySynced) await fsyncPath(dirname(path));
        this.#directorySynced = true;
        await syncFile(this.fd);
      }, 'queue log');
  }
}

export interface QueueLogOptions {
  /** Where the database is; undefined for an in-memory database: nothing is written. */
  dbPath: string | undefined;
  /** The first generation to write (above any file already replayed). */
  generation: number;
  /** How a file is flushed; undefined in synchronous=NORMAL mode (never flushed). */
  syncFile: SyncFile | undefined;
  /** Bytes of zeros each new file starts with (the store's checkpoint size). */
  preallocate: number;
}

export class QueueLog {
  #generation: number;
  #current: LogFile | undefined;
  /** Rotated out, waiting for the checkpoint that moved their envelopes to be durable. */
  #retiring = new Set<LogFile>();
  /** Records that need not be durable (removals): written with the next append, or soon. */
  #later: Buffer[] = [];
  #laterScheduled: NodeJS.Immediate | undefined;
  #writeFailure: Error | undefined;

  constructor(private readonly options: QueueLogOptions) {
    this.#generation = options.generation;
    this.#current = this.#open();
  }

  /** A failed write or sync: every later write is refused. */
  get failure(): Error | undefined {
    return this.#writeFailure ?? this.#current?.sync?.failure ?? [...this.#retiring].find((f) => f.sync?.failure)?.sync?.failure;
  }

  /** Bytes in the current file: the store checkpoints when it grows large. */
  get size(): number {
    return this.#current?.size ?? 0;
  }

  /** Writes `records` (after any pending removals) in one system call; throws if the log failed. */
  append(records: readonly Buffer[]): void {
    if (this.failure) throw this.failure;
    this.#write([...this.#takeLater(), ...records]);
  }

  /** Queues a record that need not be durable; it is written with the next append or on the next check phase. */
  later(record: Buffer): void {
    if (this.#current === undefined) return;
    this.#later.push(record);
    this.#laterScheduled ??= setImmediate(() => this.flushLater());
  }

  flushLater(): void {
    const records = this.#takeLater();
    if (records.length > 0 && !this.failure) this.#write(records, false);
  }

  /** Resolves once everything appended before the call is on disk. */
  durable(): Promise<void> {
    const files = [this.#current, ...this.#retiring].filter((f) => f?.sync !== undefined) as LogFile[];
    if (this.failure) return Promise.reject(this.failure);
    return files.length === 1 ? files[0]!.sync!.barrier() : Promise.all(files.map((f) => f.sync!.barrier())).then(() => undefined);
  }

  /**
   * Starts the next generation: from now on appends go to a new file. Returns the old one, which
   * the caller deletes with `retire` once what it holds is durable elsewhere.
   */
  rotate(): LogFile | undefined {
    this.flushLater();
    const old = this.#current;
    if (old === undefined) return undefined;
    this.#generation += 1;
    this.#current = this.#open();
    this.#retiring.add(old);
    return old;
  }

  /** Deletes a rotated file after its syncs settled (its content must already be durable elsewhere). */
  async retire(file: LogFile | undefined): Promise<void> {
    if (file === undefined) return;
    await file.sync?.settled();
    closeSync(file.fd);
    try {
      unlinkSync(file.path);
    } catch (error) {
      // Another store on the same database may have replayed and removed it already.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    } finally {
      this.#retiring.delete(file);
    }
  }

  /**
   * Writes what is pending and releases the file. `discardEmpty`: after a final checkpoint the
   * current file holds nothing that is not in SQLite; it is deleted when nothing was written to it.
   */
  async close(discardEmpty: boolean): Promise<void> {
    this.flushLater();
    const file = this.#current;
    this.#current = undefined;
    if (file === undefined) return;
    await file.sync?.settled();
    closeSync(file.fd);
    if (discardEmpty && file.size === 0) unlinkSync(file.path);
  }

  #open(): LogFile | undefined {
    const { dbPath, syncFile, preallocate } = this.options;
    return dbPath === undefined ? undefined : new LogFile(`${dbPath}-queue-${this.#generation}`, syncFile, syncFile ? preallocate : 0);
  }

  #takeLater(): Buffer[] {
    if (this.#laterScheduled) clearImmediate(this.#laterScheduled);
    this.#laterScheduled = undefined;
    const later = this.#later;
    this.#later = [];
    return later;
  }

  #write(records: readonly Buffer[], rethrow = true): void {
    const file = this.#current;
    if (file === undefined || records.length === 0) return;
    try {
      for (let i = 0; i < records.length; i += IOV_MAX) {
        const chunk = records.slice(i, i + IOV_MAX);
        const total = chunk.reduce((n, r) => n + r.length, 0);
        const written = writevSync(file.fd, chunk, file.size);
        file.size += written;
        // A short write leaves a torn frame that recovery stops at: nothing may follow it.
        if (written !== total) throw new Error(`short write: ${written} of ${total} bytes`);
      }
    } catch (error) {
      this.#writeFailure ??= new Error(`queue log write failed; writes are refused until the relay restarts: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      if (rethrow) throw this.#writeFailure;
    }
  }
}
