/**
 * Free space on the database's disk, and the reserve kept on it (`--min-free-disk-bytes`).
 *
 * A full disk is a state the relay leaves by itself, not a failure: a write that found no space
 * (ENOSPC, EDQUOT, SQLITE_FULL) wrote nothing that counts, so it is refused `unavailable` and
 * the disk is marked full; writes that add data are then refused early until the disk has the
 * reserve again. Reads, acks and checkpoints go on (they free space), which is what the reserve
 * is kept for. Checked with statfs at most every CHECK_MS.
 */
import { statfsSync } from 'node:fs';
import { StoreUnavailableError } from '../store.js';

const CHECK_MS = 250;

/** Whether an error says the disk (or the user's quota) is full. */
export function isDiskFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL';
}

export type FreeBytes = (dir: string) => number;

export const statfsFreeBytes: FreeBytes = (dir) => {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
};

export class DiskSpace {
  #checkedAt = -Infinity;
  #free = Infinity;
  /** Set by a write that found the disk full; cleared once statfs shows the reserve again. */
  #full = false;

  constructor(
    private readonly dir: string | undefined,
    readonly reserve: number,
    private readonly freeBytes: FreeBytes = statfsFreeBytes,
  ) {}

  /** Bytes free now (Infinity for an in-memory database or when statfs fails). */
  get free(): number {
    if (this.dir === undefined) return Infinity;
    const now = Date.now();
    if (now - this.#checkedAt >= CHECK_MS) {
      this.#checkedAt = now;
      try {
        this.#free = this.freeBytes(this.dir);
      } catch {
        this.#free = Infinity;
      }
      if (this.#full && this.#free > this.reserve) this.#full = false;
    }
    return this.#free;
  }

  /** A write found the disk full: refuse growth until statfs says otherwise (checked afresh next time). */
  markFull(): void {
    this.#full = true;
    this.#checkedAt = -Infinity;
  }

  /** Why writes that add data are refused now, or undefined when they are not. */
  shortage(): string | undefined {
    const free = this.free;
    if (this.#full) return 'the disk is full';
    if (free < this.reserve) return `less free disk space (${free} bytes) than the reserve (${this.reserve} bytes)`;
    return undefined;
  }

  /** Whether `bytes` more can be written while keeping the reserve. */
  room(bytes: number): boolean {
    return this.free - bytes >= this.reserve;
  }

  /** Refuses a write that adds data while the disk is full or below the reserve. */
  checkRoom(): void {
    const shortage = this.shortage();
    if (shortage) throw new StoreUnavailableError(`${shortage}; try again later`);
  }

  /**
   * A write's error as the store reports it. One that found the disk full (SQLITE_FULL, ENOSPC)
   * rolled back and changed nothing: it becomes `unavailable`, and writes that add data wait for space.
   */
  refusal(error: unknown): unknown {
    if (error instanceof StoreUnavailableError) {
      this.markFull();
      return error;
    }
    if (!isDiskFull(error)) return error;
    this.markFull();
    return new StoreUnavailableError('the disk is full; try again later', { cause: error });
  }

  /** Runs a store write, turning a full disk into `unavailable`; `adds`: refused early below the reserve. */
  async guard<T>(adds: boolean, write: () => Promise<T>): Promise<T> {
    if (adds) this.checkRoom();
    try {
      return await write();
    } catch (error) {
      throw this.refusal(error);
    }
  }
}
