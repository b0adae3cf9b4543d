/**
 * The default Store: one SQLite file (sqlite-tables.ts) with, unless `queueLog: false`, the
 * queue log layer in front of its queue table (logged-store.ts). docs/performance.md has the
 * measurement that keeps the layer on by default.
 */
import { ForwardingStore } from './forwarding-store.js';
import { LoggedStore } from './logged-store.js';
import { replayQueueLog } from './queue-replay.js';
import { SqliteTables, type StorageOptions } from './sqlite-tables.js';

export interface SqliteStoreOptions extends StorageOptions {
  /** Envelopes go through the queue log (default) or straight into SQLite's queue table (false). */
  queueLog?: boolean;
}

export class SqliteStore extends ForwardingStore {
  constructor(path: string, options: SqliteStoreOptions = {}) {
    const tables = new SqliteTables(path, options);
    // What a crash left in the queue log goes into the tables first, whether the layer runs now or not.
    const generation = tables.file === undefined ? 1 : replayQueueLog(tables, tables.file);
    super(options.queueLog === false ? tables : new LoggedStore(tables, generation));
  }
}
