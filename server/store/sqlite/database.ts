/**
 * Opening the SQLite file the way the store needs it (WAL, foreign keys, migrated), and the
 * readiness probe's write check.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

/** SQLite's names for a database held in memory (nothing is written to disk). */
export const isInMemory = (path: string): boolean => path === ':memory:' || path === '';

export function openDatabase(path: string): Database.Database {
  // A new database is readable by the relay's user only; SQLite gives its -wal and -shm files the
  // database file's mode. An existing file keeps the mode its operator gave it.
  if (!isInMemory(path)) closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Commits never fsync on the event loop; durability comes from WalSync (see wal-sync.ts).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** True when a write transaction can start now. */
export function canBeginWrite(db: Database.Database): boolean {
  // A probe must not freeze the event loop for busy_timeout while another process holds
  // the write lock: try once, without waiting.
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    db.exec('BEGIN IMMEDIATE; ROLLBACK');
    return true;
  } catch {
    return false;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
