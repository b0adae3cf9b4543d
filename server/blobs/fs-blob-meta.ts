/**
 * The embedded blob store's records: a small SQLite file of its own, `<dir of --db>/blobs/blobs.db`,
 * with its own numbered migrations (PRAGMA user_version). Kept apart from the relay's database so
 * the blob store opens, migrates and closes on its own and never shares a write lock with the
 * envelope queue's group commit. One row per blob, holding exactly BlobRecord (blob-store.ts):
 * no key, no file name, no content type, no device id, no address.
 */
import { closeSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { BlobQuota, BlobRecord, BlobUsage, NewBlob } from './blob-store.js';
import { blobRecordOf, expiredIdsSql, liveSql, withinQuota, type BlobRow } from './blob-rows.js';

export interface BlobMigration {
  version: number;
  name: string;
  sql: string;
}

export const BLOB_MIGRATIONS: readonly BlobMigration[] = [
  {
    version: 1,
    name: 'attachment blobs',
    sql: `
      CREATE TABLE attachments (
        id                TEXT PRIMARY KEY,
        owner             TEXT NOT NULL, -- the uploading account's handle, for its quota
        size              INTEGER NOT NULL,
        received          INTEGER NOT NULL DEFAULT 0,
        expires_at        INTEGER NOT NULL, -- ms since the epoch
        upload_expires_at INTEGER NOT NULL, -- an unfinished upload is deleted then
        token_hash        BLOB NOT NULL     -- SHA-256 of the upload token
      ) WITHOUT ROWID;
      CREATE INDEX attachments_by_owner ON attachments (owner, expires_at);
      CREATE INDEX attachments_by_expiry ON attachments (expires_at);
      CREATE INDEX attachments_by_upload_expiry ON attachments (upload_expires_at) WHERE received < size;`,
  },
];

export const BLOB_SCHEMA_VERSION = BLOB_MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** Applies every migration newer than the file's user_version, one transaction each; refuses a newer file. */
export function migrateBlobMeta(db: Database.Database, migrations: readonly BlobMigration[] = BLOB_MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.reduce((v, m) => Math.max(v, m.version), 0);
  if (current > latest) throw new Error(`blob database schema version ${current} is newer than this relay (${latest}); upgrade the relay`);
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}

export class FsBlobMeta {
  readonly #db: Database.Database;
  readonly #get: Database.Statement<[string], BlobRow>;
  readonly #usage: Database.Statement<[{ owner: string; now: number }], { blobs: number; bytes: number }>;
  readonly #insert: Database.Statement<[Record<string, unknown>]>;
  readonly #setReceived: Database.Statement<[number, string, number]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #expired: Database.Statement<[{ now: number; limit: number }], { id: string }>;
  readonly #stats: Database.Statement<[], { blobs: number; bytes: number }>;

  constructor(file: string) {
    // Created owner-only before SQLite opens it; SQLite gives its -wal and -shm the same mode.
    closeSync(openSync(file, 'a', 0o600));
    this.#db = new Database(file);
    this.#db.pragma('journal_mode = WAL');
    // A recorded offset must never get ahead of a crash: each commit is synced (the rows are few and small).
    this.#db.pragma('synchronous = FULL');
    migrateBlobMeta(this.#db);
    this.#get = this.#db.prepare('SELECT * FROM attachments WHERE id = ?');
    this.#usage = this.#db.prepare(`SELECT count(*) AS blobs, coalesce(sum(size), 0) AS bytes FROM attachments WHERE owner = @owner AND ${liveSql('@now')}`);
    this.#insert = this.#db.prepare(
      'INSERT INTO attachments (id, owner, size, received, expires_at, upload_expires_at, token_hash) VALUES (@id, @owner, @size, 0, @expiresAt, @uploadExpiresAt, @tokenHash)',
    );
    this.#setReceived = this.#db.prepare('UPDATE attachments SET received = ? WHERE id = ? AND received = ?');
    this.#delete = this.#db.prepare('DELETE FROM attachments WHERE id = ?');
    this.#expired = this.#db.prepare(expiredIdsSql('@now', '@limit'));
    this.#stats = this.#db.prepare('SELECT count(*) AS blobs, coalesce(sum(received), 0) AS bytes FROM attachments');
  }

  /** The quota check and the insert in one IMMEDIATE transaction: two creations cannot both pass on the last slot. */
  insertWithinQuota(blob: NewBlob, quota: BlobQuota, now: number): boolean {
    return this.#db
      .transaction(() => {
        if (!withinQuota(this.usage(blob.owner, now), blob.size, quota)) return false;
        this.#insert.run({ ...blob });
        return true;
      })
      .immediate();
  }

  get(id: string): BlobRecord | undefined {
    const row = this.#get.get(id);
    return row ? blobRecordOf(row) : undefined;
  }

  /** Moves `received` from `from` to `to`; false when the row is gone or moved meanwhile. */
  setReceived(id: string, from: number, to: number): boolean {
    return this.#setReceived.run(to, id, from).changes === 1;
  }

  delete(id: string): boolean {
    return this.#delete.run(id).changes === 1;
  }

  expiredIds(now: number, limit: number): string[] {
    return this.#expired.all({ now, limit }).map((r) => r.id);
  }

  usage(owner: string, now: number): BlobUsage {
    return { ...this.#usage.get({ owner, now })! };
  }

  stats(): BlobUsage {
    return { ...this.#stats.get()! };
  }

  close(): void {
    this.#db.close();
  }
}
