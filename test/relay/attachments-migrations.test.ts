/**
 * The attachment tables' migrations: blobs.db's own numbered migrations (embedded store) and
 * PostgreSQL migration 5 (cluster mode); the hot queries use their indexes.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLOB_MIGRATIONS, BLOB_SCHEMA_VERSION, FsBlobMeta, migrateBlobMeta } from '../../server/blobs/fs-blob-meta.js';
import { MIGRATIONS, migrate } from '../../server/store/postgres/migrations.js';
import { PgPool } from '../../server/store/postgres/pool.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-blob-migrations-'));
let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('blobs.db migrations', () => {
  it('numbers migrations 1..N, applies them once and refuses a newer file', () => {
    expect(BLOB_MIGRATIONS.map((m) => m.version)).toEqual(BLOB_MIGRATIONS.map((_, i) => i + 1));
    const db = new Database(join(dir, 'a.db'));
    expect(migrateBlobMeta(db)).toBe(BLOB_SCHEMA_VERSION);
    expect(migrateBlobMeta(db)).toBe(BLOB_SCHEMA_VERSION);
    const columns = (db.prepare('PRAGMA table_info(attachments)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(['id', 'owner', 'size', 'received', 'expires_at', 'upload_expires_at', 'token_hash']);
    db.pragma(`user_version = ${BLOB_SCHEMA_VERSION + 1}`);
    expect(() => migrateBlobMeta(db)).toThrow(/newer than this relay/);
    db.close();
  });

  it('rolls a failing migration back entirely', () => {
    const db = new Database(join(dir, 'b.db'));
    const broken = [...BLOB_MIGRATIONS, { version: BLOB_SCHEMA_VERSION + 1, name: 'broken', sql: 'CREATE TABLE half (x); SELECT * FROM missing_table;' }];
    expect(() => migrateBlobMeta(db, broken)).toThrow(/missing_table/);
    expect(db.pragma('user_version', { simple: true })).toBe(BLOB_SCHEMA_VERSION);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'half'").get()).toEqual({ n: 0 });
    db.close();
  });

  it('creates the file owner-only, and the quota, lookup and sweep queries use indexes', () => {
    const file = join(dir, 'c.db');
    new FsBlobMeta(file).close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const db = new Database(file);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((r) => r.detail).join('; ');
    expect(plan("SELECT count(*) FROM attachments WHERE owner = 'a' AND expires_at > 1 AND (received = size OR upload_expires_at > 1)")).toMatch(/USING INDEX attachments_by_owner/);
    expect(plan("SELECT * FROM attachments WHERE id = 'x'")).toMatch(/USING PRIMARY KEY/);
    const sweep = plan('SELECT id FROM attachments WHERE expires_at <= 1 UNION SELECT id FROM attachments WHERE received < size AND upload_expires_at <= 1');
    expect(sweep).toMatch(/attachments_by_expiry/);
    expect(sweep).toMatch(/attachments_by_upload_expiry/);
    db.close();
  });
});

describe('PostgreSQL migration 5', () => {
  it('adds the attachment tables on top of migration 4, chunks stored uncompressed and deleted with their blob', async () => {
    const pool = new PgPool(await cluster.createDatabase());
    try {
      expect(MIGRATIONS.find((m) => m.version === 5)?.name).toBe('attachment blobs');
      expect(await migrate(pool, MIGRATIONS.slice(0, 4))).toBe(4);
      expect(await migrate(pool, MIGRATIONS.slice(0, 5))).toBe(5);
      const columns = async (table: string) =>
        (await pool.query<{ name: string }>({ text: 'SELECT column_name AS name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', values: [table] })).map((c) => c.name);
      expect(await columns('attachments')).toEqual(['id', 'owner', 'size', 'received', 'expires_at', 'upload_expires_at', 'token_hash']);
      expect(await columns('attachment_chunks')).toEqual(['attachment_id', 'start_offset', 'data']);
      expect(await pool.query({ text: "SELECT attstorage FROM pg_attribute WHERE attrelid = 'attachment_chunks'::regclass AND attname = 'data'" })).toEqual([{ attstorage: 'e' }]);
      await pool.query({ text: "INSERT INTO attachments VALUES ('x', 'ann', 2, 2, 10, 5, '\\x00')" });
      await pool.query({ text: "INSERT INTO attachment_chunks VALUES ('x', 0, '\\x0102')" });
      await pool.query({ text: "DELETE FROM attachments WHERE id = 'x'" });
      expect(await pool.query({ text: 'SELECT count(*) AS n FROM attachment_chunks' })).toEqual([{ n: 0 }]);
    } finally {
      await pool.end();
    }
  });
});
