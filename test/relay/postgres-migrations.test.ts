/** PostgreSQL store migrations: numbered without gaps, step by step, idempotent, safe to race. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../server/store/postgres/migrations.js';
import { PgPool } from '../../server/store/postgres/pool.js';
import { PostgresStore } from '../../server/store/postgres/postgres-store.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
});
afterAll(async () => {
  await cluster?.stop();
});

/** A pool on a fresh database, ended after the test body. */
async function withPool(body: (pool: PgPool) => Promise<void>): Promise<void> {
  const pool = new PgPool(await cluster.createDatabase());
  try {
    await body(pool);
  } finally {
    await pool.end();
  }
}

const tables = async (pool: PgPool) =>
  (await pool.query<{ name: string }>({ text: "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1" })).map((t) => t.name);
const columns = async (pool: PgPool, table: string) =>
  (await pool.query<{ name: string }>({ text: 'SELECT column_name AS name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position', values: [table] })).map((c) => c.name);
const applied = (pool: PgPool) => pool.query<{ version: number; name: string }>({ text: 'SELECT version, name FROM schema_migrations ORDER BY version' });

describe('PostgreSQL migrations', () => {
  it('numbers migrations 1..N without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it('applies each migration on top of the previous one, and a second run changes nothing', () =>
    withPool(async (pool) => {
      expect(await migrate(pool, MIGRATIONS.slice(0, 1))).toBe(1);
      expect(await tables(pool)).toEqual(['accounts', 'devices', 'schema_migrations']);
      expect(await columns(pool, 'accounts')).toEqual(['handle', 'identity_key', 'device_list']);
      expect(await columns(pool, 'devices')).toEqual(['device_id', 'handle', 'spk_key_id', 'spk_public_key', 'spk_signature', 'next_seq', 'queue_count', 'queue_bytes']);

      expect(await migrate(pool, MIGRATIONS.slice(0, 2))).toBe(2);
      expect(await tables(pool)).toEqual(['accounts', 'devices', 'one_time_prekeys', 'schema_migrations']);
      expect(await columns(pool, 'one_time_prekeys')).toEqual(['inserted', 'device_id', 'key_id', 'public_key']);

      expect(await migrate(pool, MIGRATIONS.slice(0, 3))).toBe(3);
      expect(await tables(pool)).toEqual(['accounts', 'devices', 'one_time_prekeys', 'queue', 'schema_migrations']);
      expect(await columns(pool, 'queue')).toEqual(['device_id', 'seq', 'envelope_id', 'body', 'size', 'expires_at']);
      // Sealed bodies are stored out of line without a compression attempt.
      expect(await pool.query({ text: "SELECT attstorage FROM pg_attribute WHERE attrelid = 'queue'::regclass AND attname = 'body'" })).toEqual([{ attstorage: 'e' }]);

      expect(await migrate(pool, MIGRATIONS.slice(0, 4))).toBe(4);
      expect(await tables(pool)).toEqual(['accounts', 'devices', 'link_blobs', 'nonces', 'one_time_prekeys', 'queue', 'schema_migrations']);
      expect(await columns(pool, 'nonces')).toEqual(['signer', 'nonce', 'expires_at']);
      expect(await columns(pool, 'link_blobs')).toEqual(['id', 'device_id', 'body', 'expires_at']);

      // Attachment blobs (columns and the chunk table: attachments-migrations.test.ts).
      expect(await migrate(pool, MIGRATIONS.slice(0, 5))).toBe(5);
      expect(await tables(pool)).toEqual(['accounts', 'attachment_chunks', 'attachments', 'devices', 'link_blobs', 'nonces', 'one_time_prekeys', 'queue', 'schema_migrations']);

      // Web Push: subscriptions per device, and the VAPID key pair every node shares.
      expect(await migrate(pool, MIGRATIONS.slice(0, 6))).toBe(6);
      expect(await columns(pool, 'push_subscriptions')).toEqual(['device_id', 'endpoint', 'p256dh', 'auth']);
      expect(await columns(pool, 'push_vapid')).toEqual(['id', 'public_key', 'private_key']);

      // The enqueue transaction as one function call (queue.ts).
      expect(await migrate(pool, MIGRATIONS.slice(0, 7))).toBe(7);
      expect(await pool.query({ text: "SELECT proname FROM pg_proc WHERE proname = 'sealpost_enqueue'" })).toEqual([{ proname: 'sealpost_enqueue' }]);

      // The queue is vacuumed by its count of dead rows, not by a fraction of the table.
      expect(await migrate(pool, MIGRATIONS.slice(0, 8))).toBe(8);
      expect(await pool.query({ text: "SELECT reloptions FROM pg_class WHERE oid = 'queue'::regclass" })).toEqual([
        { reloptions: ['autovacuum_vacuum_scale_factor=0', 'autovacuum_vacuum_threshold=5000', 'autovacuum_vacuum_cost_delay=0'] },
      ]);

      // Enqueues and the acks waiting beside them as one function call (queue.ts); the older
      // function stays for nodes of the previous release.
      expect(await migrate(pool, MIGRATIONS.slice(0, 9))).toBe(9);
      expect(await pool.query({ text: "SELECT proname FROM pg_proc WHERE proname LIKE 'sealpost_%' ORDER BY proname" })).toEqual([
        { proname: 'sealpost_enqueue' },
        { proname: 'sealpost_write_queue' },
      ]);

      // Its statements planned by key and once per connection (postgres-store.test.ts shows the reads).
      expect(await migrate(pool, MIGRATIONS.slice(0, 10))).toBe(10);
      expect(await pool.query({ text: "SELECT proconfig FROM pg_proc WHERE proname = 'sealpost_write_queue'" })).toEqual([
        { proconfig: ['enable_seqscan=off', 'plan_cache_mode=force_generic_plan'] },
      ]);

      expect(await applied(pool)).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
      expect(await migrate(pool)).toBe(LATEST_VERSION);
      expect(await applied(pool)).toHaveLength(LATEST_VERSION);
    }));

  it('deletes a device with its prekeys and envelopes, and an account with its devices (ON DELETE CASCADE)', () =>
    withPool(async (pool) => {
      await migrate(pool);
      await pool.transaction(async (client) => {
        await client.query("INSERT INTO accounts VALUES ('ann', 'k', '{}')");
        await client.query("INSERT INTO devices (device_id, handle, spk_key_id, spk_public_key, spk_signature) VALUES ('d1', 'ann', 1, 'p', 's'), ('d2', 'ann', 1, 'p', 's')");
        await client.query("INSERT INTO one_time_prekeys (device_id, key_id, public_key) VALUES ('d1', 1, 'p'), ('d2', 1, 'p')");
        await client.query("INSERT INTO queue VALUES ('d1', 1, 'e', '\\x00', 1, 0), ('d2', 1, 'e', '\\x00', 1, 0)");
      });
      await pool.query({ text: "DELETE FROM devices WHERE device_id = 'd1'" });
      const left = async () => (await pool.query<{ n: number }>({ text: 'SELECT (SELECT count(*) FROM one_time_prekeys) + (SELECT count(*) FROM queue) AS n' }))[0]?.n;
      expect(await left()).toBe(2);
      await pool.query({ text: "DELETE FROM accounts WHERE handle = 'ann'" });
      expect(await left()).toBe(0);
    }));

  it('refuses a database written by a newer relay', () =>
    withPool(async (pool) => {
      await migrate(pool);
      await pool.query({ text: "INSERT INTO schema_migrations VALUES ($1, 'from the future')", values: [LATEST_VERSION + 1] });
      await expect(migrate(pool)).rejects.toThrow(/newer than this relay/);
    }));

  it('rolls a failing migration back entirely', () =>
    withPool(async (pool) => {
      const broken = [...MIGRATIONS, { version: LATEST_VERSION + 1, name: 'broken', sql: 'CREATE TABLE half (x int); SELECT * FROM missing_table;' }];
      await expect(migrate(pool, broken)).rejects.toThrow(/missing_table/);
      expect(await applied(pool)).toHaveLength(LATEST_VERSION);
      expect(await tables(pool)).not.toContain('half');
    }));

  it('lets several relay processes open one new database at once, each migration applied once', async () => {
    const url = await cluster.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(url, { maxConnections: 2 })));
    await Promise.all(stores.map((s) => s.close()));
    const pool = new PgPool(url);
    expect(await applied(pool)).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));
    await pool.end();
  });
});
