/**
 * The default Store: one SQLite file (sqlite-tables.ts) with, unless `queueLog: false`, the
 * queue log layer in front of its queue table (logged-store.ts). docs/performance.md has the
 * measurement that keeps the layer on by default.
 */
import { isDiskFull } from './disk-space.js';
import { ForwardingStore } from './forwarding-store.js';
import { LoggedStore } from './logged-store.js';
import { readQueueLog, replayQueueLog, type LeftoverLog } from './queue-replay.js';
import { SqliteTables, type StorageOptions } from './sqlite-tables.js';

export interface SqliteStoreOptions extends StorageOptions {
  /** Envelopes go through the queue log (default) or straight into SQLite's queue table (false). */
  queueLog?: boolean;
}

export class SqliteStore extends ForwardingStore {
  constructor(path: string, options: SqliteStoreOptions = {}) {
    const tables = new SqliteTables(path, options);
    // What a crash left in the queue log goes into the tables first, whether the layer runs now or not.
    const leftover = tables.file === undefined ? undefined : readQueueLog(tables.file);
    let adopted: LeftoverLog | undefined;
    if (tables.file !== undefined && leftover !== undefined) {
      try {
        replayQueueLog(tables, tables.file, leftover);
      } catch (error) {
        // A full disk changed nothing: the layer holds the leftover in memory and moves it at its
        // first checkpoint once there is space, so the relay starts and delivers meanwhile.
        // Without the layer there is nowhere to hold it: the start fails, saying why.
        if (!isDiskFull(error) || options.queueLog === false) throw error;
        tables.space.markFull();
        adopted = leftover;
      }
    }
    super(options.queueLog === false ? tables : new LoggedStore(tables, leftover?.generation ?? 1, adopted));
  }
}
