/** SQLite store: migrations step by step, hot queries on their indexes, durability ordering. */
import { fdatasyncSync, fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../server/store/sqlite/migrations.js';
import { SqliteStore, openDatabase } from '../../server/store/sqlite/sqlite-store.js';
import { SQL } from '../../server/store/sqlite/sql.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}.sqlite`);
const tables = (db: Database.Database) => (db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);

describe('migrations', () => {
  it('numbers migrations 1..N without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });

  it('applies each migration on top of the previous one', () => {
    const db = new Database(file());
    expect(migrate(db, MIGRATIONS.slice(0, 1))).toBe(1);
    expect(tables(db)).toEqual(['accounts', 'devices']);
    expect(migrate(db, MIGRATIONS.slice(0, 2))).toBe(2);
    expect(tables(db)).toEqual(['accounts', 'devices', 'one_time_prekeys']);
    expect(migrate(db)).toBe(3);
    expect(tables(db)).toEqual(['accounts', 'devices', 'one_time_prekeys', 'queue']);
    // Idempotent: a second run changes nothing.
    expect(migrate(db)).toBe(LATEST_VERSION);
    db.close();
  });

  it('refuses a database written by a newer relay', () => {
    const db = new Database(file());
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    expect(() => migrate(db)).toThrow(/newer than this relay/);
    db.close();
  });

  it('rolls a failing migration back entirely', () => {
    const db = new Database(file());
    const broken = [...MIGRATIONS, { version: LATEST_VERSION + 1, name: 'broken', up: (d: Database.Database) => d.exec('CREATE TABLE half (x); SELECT * FROM missing_table;') }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.pragma('user_version', { simple: true })).toBe(LATEST_VERSION);
    expect(tables(db)).not.toContain('half');
    db.close();
  });

  it('opens in WAL with foreign keys on, committing without an fsync on the event loop', () => {
    const db = openDatabase(file());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    // NORMAL: COMMIT does not fsync; durability comes from the WAL sync (next describe block).
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    db.close();
  });
});

describe('query plans', () => {
  const db = openDatabase(file());
  const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array(sql.split('?').length - 1).fill(1)) as { detail: string }[]).map((r) => r.detail).join(' | ');
  const hot: [keyof typeof SQL, RegExp][] = [
    ['readQueue', /SEARCH queue USING (PRIMARY KEY|INDEX sqlite_autoindex_queue_1) \(device_id=\? AND seq>\?\)/],
    ['ackUpTo', /SEARCH queue USING (COVERING )?INDEX sqlite_autoindex_queue_1 \(device_id=\? AND seq<\?\)/],
    ['ackId', /SEARCH queue USING INDEX sqlite_autoindex_queue_2 \(device_id=\? AND envelope_id=\?\)/],
    ['envelopeExists', /SEARCH queue USING COVERING INDEX sqlite_autoindex_queue_2/],
    ['sweepExpired', /SEARCH queue USING (COVERING )?INDEX queue_by_expiry \(expires_at<\?\)/],
    ['queueState', /SEARCH devices USING INDEX sqlite_autoindex_devices_1 \(device_id=\?\)/],
    ['oldestOneTimePrekey', /SEARCH one_time_prekeys USING (COVERING )?INDEX one_time_prekeys_by_device \(device_id=\?\)/],
    ['countOneTimePrekeys', /SEARCH one_time_prekeys USING COVERING INDEX/],
    ['listDevices', /SEARCH devices USING INDEX devices_by_handle \(handle=\?\)/],
  ];
  for (const [name, expected] of hot) {
    it(`${name} uses its index`, () => {
      const detail = plan(SQL[name]);
      expect(detail).toMatch(expected);
      expect(detail).not.toMatch(/SCAN /);
      // listDevices sorts at most maxDevices rows; every queue query must come out of an index in order.
      if (name !== 'listDevices') expect(detail).not.toMatch(/USE TEMP B-TREE/);
    });
  }
  afterAll(() => db.close());
});

/** A WAL sync the test releases by hand; records the WAL size each sync started with. */
function heldSync() {
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const syncFile = (fd: number): Promise<void> => {
    started.push(fstatSync(fd).size);
    return new Promise<void>((resolve) => releases.push(() => fdatasyncSync(fd) === undefined && resolve()));
  };
  const releaseAll = () => releases.splice(0).forEach((release) => release());
  return { started, syncFile, releaseAll };
}

const settledYet = async (promise: Promise<unknown>): Promise<boolean> => {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
};

const someDevice = (deviceId: string, handle: string) => ({ deviceId, handle, certificate: { createdAt: 1, signature: 's' }, signedPrekey: { keyId: 1, publicKey: 'p', signature: 's' } });

describe('durability (synchronous FULL)', () => {
  it('says an envelope is durable only after a WAL sync that started after its commit', async () => {
    const sync = heldSync();
    const path = file();
    const store = new SqliteStore(path, { syncFile: sync.syncFile });
    const created = store.createAccount({ handle: 'ann', identityKey: 'k' }, someDevice('a'.repeat(43), 'ann'), []);
    // Account writes are acknowledged only once on disk.
    expect(await settledYet(created)).toBe(false);
    sync.releaseAll();
    expect(await created).toBe(true);

    const walBefore = statSync(`${path}-wal`).size;
    const outcomes = await store.enqueue([{ to: 'a'.repeat(43), id: 'e1', body: new Uint8Array(4000), expiresAt: Date.now() + 60_000 }], { maxEnvelopes: 10, maxBytes: 1e6 });
    expect(outcomes).toEqual([{ status: 'stored', seq: 1 }]);
    // Committed (a reader sees it) but not yet durable until the sync finishes.
    expect(await store.readQueue('a'.repeat(43), 0, 10, Date.now())).toHaveLength(1);
    const durable = store.durable();
    expect(await settledYet(durable)).toBe(false);
    expect(sync.started.at(-1)).toBeGreaterThan(walBefore);
    sync.releaseAll();
    await durable;
    await store.close();
  });

  it('groups the commits made during one sync into the next sync', async () => {
    const sync = heldSync();
    const store = new SqliteStore(file(), { syncFile: sync.syncFile });
    const writes = ['b', 'c', 'd'].map((h) => store.createAccount({ handle: h, identityKey: 'k' }, someDevice(h.repeat(43), h), []));
    // The first write started a sync; the two made while it runs wait for ONE more, not two.
    expect(sync.started).toHaveLength(1);
    sync.releaseAll();
    await writes[0];
    expect(sync.started).toHaveLength(2);
    expect(await settledYet(Promise.all(writes))).toBe(false);
    sync.releaseAll();
    expect(await Promise.all(writes)).toEqual([true, true, true]);
    await store.close();
  });

  it('in NORMAL mode resolves at commit without syncing', async () => {
    const sync = heldSync();
    const store = new SqliteStore(file(), { synchronous: 'NORMAL', syncFile: sync.syncFile });
    expect(await store.createAccount({ handle: 'e', identityKey: 'k' }, someDevice('e'.repeat(43), 'e'), [])).toBe(true);
    await store.durable();
    expect(sync.started).toEqual([]);
    await store.close();
  });
});

describe('SqliteStore', () => {
  it('numbers each device queue, never reuses a sequence number, and counts bytes', async () => {
    const store = new SqliteStore(file());
    const device = { deviceId: 'd'.repeat(43), handle: 'someone', certificate: { createdAt: 1, signature: 's' }, signedPrekey: { keyId: 1, publicKey: 'p', signature: 's' } };
    expect(await store.createAccount({ handle: 'someone', identityKey: 'k' }, device, [])).toBe(true);
    const limits = { maxEnvelopes: 10, maxBytes: 1000 };
    const item = (id: string) => ({ to: device.deviceId, id, body: new Uint8Array(10), expiresAt: Date.now() + 10_000 });
    const first = await store.enqueue([item('a'), item('b'), item('a')], limits);
    expect(first).toEqual([{ status: 'stored', seq: 1 }, { status: 'stored', seq: 2 }, { status: 'duplicate' }]);
    expect(await store.queueStats(device.deviceId)).toEqual({ envelopes: 2, bytes: 20 });
    expect(await store.ackUpTo(device.deviceId, 2)).toBe(2);
    expect(await store.enqueue([item('c')], limits)).toEqual([{ status: 'stored', seq: 3 }]);
    expect(await store.queueStats(device.deviceId)).toEqual({ envelopes: 1, bytes: 10 });
    expect(await store.enqueue([{ ...item('z'), to: 'nobody' }], limits)).toEqual([{ status: 'unknown_device' }]);
    expect(await store.isWritable()).toBe(true);
    await store.close();
  });
});
