/**
 * The queue log's files (queue-log.ts writes them, queue-replay.ts reads them after a crash):
 * `<db>-queue-<generation>`, 0600, next to the database; how one is found, preallocated with
 * zeros, and deleted.
 */
import { closeSync, fdatasync, openSync, readdirSync, unlinkSync, write } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DiskSpace } from './disk-space.js';
import { fsyncDirectory } from './files.js';
import { SyncBarrier, type SyncFile } from './sync-barrier.js';

const PREALLOCATE_CHUNK = 1024 * 1024;
const PREALLOCATE_PAUSE_MS = 5;

export interface LogFileName {
  generation: number;
  path: string;
}

export const logFilePath = (dbPath: string, generation: number): string => `${dbPath}-queue-${generation}`;

/** The queue log files next to `dbPath`, oldest first. */
export function queueLogFiles(dbPath: string): LogFileName[] {
  const prefix = `${basename(dbPath)}-queue-`;
  return readdirSync(dirname(dbPath))
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ generation: Number(name.slice(prefix.length)), path: join(dirname(dbPath), name) }))
    .sort((a, b) => a.generation - b.generation);
}

export const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';

/** Deletes a file that another store on the same database may have replayed and deleted already. */
export function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if (!isMissing(error)) throw error;
  }
}

const writeAt = (fd: number, data: Buffer, position: number): Promise<void> =>
  new Promise((resolve, reject) => write(fd, data, 0, data.length, position, (error) => (error ? reject(error) : resolve())));

const syncData = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));

/**
 * Creates a file of `size` zeros, on disk with its name, off the event loop. Appends then
 * overwrite allocated blocks: the file's size and extents do not change with each batch, so an
 * fdatasync flushes data only, not a journal commit (half the time here). Recovery stops at the
 * zeros: a zero length is no record.
 */
export async function preallocated(path: string, size: number, space: DiskSpace | undefined): Promise<number> {
  const fd = openSync(path, 'wx', 0o600);
  try {
    const zeros = Buffer.alloc(PREALLOCATE_CHUNK);
    // A chunk at a time, each flushed, with a pause: one large flush would hold up the batches'
    // own syncs on the same disk for its whole length.
    for (let at = 0; at < size; at += zeros.length) {
      // Never at the cost of the appends: give up when the rest would eat into the reserve.
      if (space && !space.room(size - at)) throw new Error('no room to preallocate the next queue log file');
      await writeAt(fd, zeros, at);
      await syncData(fd);
      await new Promise((resolve) => setTimeout(resolve, PREALLOCATE_PAUSE_MS));
    }
    await fsyncDirectory(dirname(path));
    return fd;
  } catch (error) {
    closeSync(fd);
    removeFile(path);
    throw error;
  }
}

/** One generation's file. */
export class LogFile {
  /** Absent without durability (synchronous=NORMAL): writes are final once written. */
  readonly sync: SyncBarrier | undefined;
  size = 0;
  /**
   * Set when the file is rotated out: the one sync that covers everything ever written to it
   * (nothing is written after). `durable()` waits for this instead of starting syncs of its own,
   * so no sync can start after `retire` closed the descriptor.
   */
  final: Promise<void> | undefined;

  /** `fd` from `preallocated` or a reused file (durable mode), or a plain new file. */
  constructor(
    readonly generation: number,
    readonly path: string,
    readonly fd: number,
    syncFile: SyncFile | undefined,
  ) {
    this.sync = syncFile && new SyncBarrier(() => syncFile(fd), 'queue log');
  }
}
