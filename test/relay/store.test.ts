/**
 * SQLite store: migrations step by step, hot queries on their indexes, durability ordering, and
 * what survives a reopen. Behaviour every Store shares is in store-contract.test.ts.
 */
import { existsSync, fdatasyncSync, fstatSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, migrate } from '../../server/store/sqlite/migrations.js';
import { LATER_FLUSH_MS } from '../../server/store/sqlite/queue-log.js';
import { openDatabase } from '../../server/store/sqlite/database.js';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { SQL } from '../../server/store/sqlite/sql.js';
import { someAccount, someDevice, someList } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}.sqlite`);
const tables = (db: Database.Database) => (db.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as { name: string }[]).map((t) => t.name);
const columns = (db: Database.Database, table: string) => (db.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((c) => c.name);

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
    expect(migrate(db, MIGRATIONS.slice(0, 3))).toBe(3);
    expect(tables(db)).toEqual(['accounts', 'devices', 'one_time_prekeys', 'queue']);
    expect(columns(db, 'devices')).toContain('queue_count');
    expect(migrate(db, MIGRATIONS.slice(0, 4))).toBe(4);
    expect(columns(db, 'devices')).not.toContain('queue_count');
    expect(columns(db, 'devices')).not.toContain('queue_bytes');
    expect(columns(db, 'devices')).toContain('next_seq');
    expect(migrate(db, MIGRATIONS.slice(0, 5))).toBe(5);
    expect(columns(db, 'accounts')).toEqual(['handle', 'identity_key', 'device_list']);
    expect(columns(db, 'devices')).toEqual(['device_id', 'handle', 'spk_key_id', 'spk_public_key', 'spk_signature', 'next_seq']);
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
    ['reservedSeq', /SEARCH devices USING INDEX sqlite_autoindex_devices_1 \(device_id=\?\)/],
    ['raiseNextSeq', /SEARCH devices USING INDEX sqlite_autoindex_devices_1 \(device_id=\?\)/],
    ['queueTotals', /SEARCH queue USING INDEX sqlite_autoindex_queue_1 \(device_id=\?\)/],
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

describe('durability (synchronous FULL)', () => {
  it('says an envelope is durable only after a sync of the queue log that started after its write', async () => {
    const sync = heldSync();
    const path = file();
    const store = new SqliteStore(path, { syncFile: sync.syncFile });
    const created = store.createAccount(someAccount('ann', 'a'.repeat(43)), someDevice('a'.repeat(43), 'ann'), []);
    // Account writes are acknowledged only once on disk.
    expect(await settledYet(created)).toBe(false);
    sync.releaseAll();
    expect(await created).toBe(true);

    const log = `${path}-queue-1`;
    const logBefore = statSync(log).size;
    const outcomes = await store.enqueue([{ to: 'a'.repeat(43), id: 'e1', body: new Uint8Array(4000), expiresAt: Date.now() + 60_000 }], { maxEnvelopes: 10, maxBytes: 1e6 });
    expect(outcomes).toEqual([{ status: 'stored', seq: 1 }]);
    // Written (a reader sees it) but not yet durable until the sync finishes.
    expect(statSync(log).size).toBeGreaterThan(logBefore + 4000);
    expect(await store.readQueue('a'.repeat(43), 0, 10, Date.now())).toHaveLength(1);
    const durable = store.durable();
    expect(await settledYet(durable)).toBe(false);
    expect(sync.started.at(-1)).toBeGreaterThan(logBefore + 4000);
    sync.releaseAll();
    await durable;
    // The final checkpoint moves the envelope into SQLite and waits for the WAL sync.
    let closed = false;
    const closing = store.close().then(() => (closed = true));
    while (!closed) {
      sync.releaseAll();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await closing;
    expect(existsSync(log)).toBe(false);
  });

  it('groups the commits made during one sync into the next sync', async () => {
    const sync = heldSync();
    const store = new SqliteStore(file(), { syncFile: sync.syncFile });
    const writes = ['b', 'c', 'd'].map((h) => store.createAccount(someAccount(h, h.repeat(43)), someDevice(h.repeat(43), h), []));
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

  it('refuses every later write once a WAL sync failed, even if the next sync would succeed', async () => {
    let failNext = true;
    const syncFile = async (fd: number): Promise<void> => {
      if (failNext) {
        failNext = false;
        throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      }
      fdatasyncSync(fd);
    };
    const store = new SqliteStore(file(), { syncFile });
    await expect(store.createAccount(someAccount('f', 'f'.repeat(43)), someDevice('f'.repeat(43), 'f'), [])).rejects.toThrow(/WAL sync failed.*EIO/);
    await expect(store.createAccount(someAccount('g', 'g'.repeat(43)), someDevice('g'.repeat(43), 'g'), [])).rejects.toThrow(/WAL sync failed/);
    await expect(store.durable()).rejects.toThrow(/WAL sync failed/);
    expect(await store.isWritable()).toBe(false);
    await store.close();
  });

  it('in NORMAL mode resolves at commit without syncing', async () => {
    const sync = heldSync();
    const store = new SqliteStore(file(), { synchronous: 'NORMAL', syncFile: sync.syncFile });
    expect(await store.createAccount(someAccount('e', 'e'.repeat(43)), someDevice('e'.repeat(43), 'e'), [])).toBe(true);
    await store.durable();
    expect(sync.started).toEqual([]);
    await store.close();
  });
});

describe('SqliteStore', () => {
  const limits = { maxEnvelopes: 10, maxBytes: 1000 };
  const item = (to: string, id: string, expiresAt = Date.now() + 10_000) => ({ to, id, body: new Uint8Array(10), expiresAt });
  const withDevice = async (path: string, handle: string) => {
    const store = new SqliteStore(path);
    const device = someDevice(handle[0]!.repeat(43), handle);
    expect(await store.createAccount(someAccount(handle, device.deviceId), device, [])).toBe(true);
    return { store, deviceId: device.deviceId };
  };

  it('never reuses a sequence number after the process dies, even with the queue empty', async () => {
    const path = file();
    const { store, deviceId } = await withDevice(path, 'fay');
    // More than one reservation block, so the bound was raised during the run.
    const batch = Array.from({ length: 1100 }, (_, i) => item(deviceId, `e${i}`));
    const outcomes = await store.enqueue(batch, { maxEnvelopes: 2000, maxBytes: 1e6 });
    const seqs = outcomes.map((o) => (o.status === 'stored' ? o.seq : NaN));
    expect(seqs).toEqual(batch.map((_, i) => i + 1));
    expect(await store.ackUpTo(deviceId, 1100)).toBe(1100);
    // The removals reach the queue log with the next batch or LATER_FLUSH_MS later; a death before redelivers them.
    await new Promise((resolve) => setTimeout(resolve, LATER_FLUSH_MS + 20));
    // A second store on the file, the first never closed: it replays the first one's queue log.
    const reopened = new SqliteStore(path);
    expect(await reopened.queueStats(deviceId)).toEqual({ envelopes: 0, bytes: 0 });
    const [next] = await reopened.enqueue([item(deviceId, 'after')], limits);
    expect(next).toMatchObject({ status: 'stored' });
    expect(next!.status === 'stored' && next!.seq).toBeGreaterThan(Math.max(...seqs));
    await reopened.close();
    await store.close();
  });

  it('keeps queue and relay totals through acks, expiry, device removal and a reopen', async () => {
    const path = file();
    const { store, deviceId: hal } = await withDevice(path, 'hal');
    const ivy = someDevice('i'.repeat(43), 'ivy');
    const ivy2 = someDevice('j'.repeat(43), 'ivy');
    expect(await store.createAccount(someAccount('ivy', ivy.deviceId), ivy, [])).toBe(true);
    expect(await store.addDevice(ivy2, [], someList('ivy', [ivy.deviceId, ivy2.deviceId], 2), 6)).toEqual({ status: 'added', removed: [] });
    const soon = Date.now() + 1000;
    await store.enqueue([item(hal, 'a'), item(hal, 'b', soon), item(hal, 'c'), item(ivy.deviceId, 'd'), item(ivy.deviceId, 'e', soon)], limits);
    expect(await store.relayStats()).toEqual({ devices: 3, envelopes: 5, bytes: 50 });
    expect(await store.ackIds(hal, ['a', 'nope'])).toBe(1);
    expect(await store.sweepExpired(soon)).toBe(2);
    expect(await store.queueStats(hal)).toEqual({ envelopes: 1, bytes: 10 });
    expect(await store.relayStats()).toEqual({ devices: 3, envelopes: 2, bytes: 20 });
    // A list of another account cannot name ivy's device; ivy's own newer list removes it.
    expect(await store.publishDeviceList('hal', someList('hal', [hal, ivy.deviceId], 2))).toEqual({ status: 'unregistered_device', deviceId: ivy.deviceId });
    expect(await store.publishDeviceList('ivy', someList('ivy', [ivy2.deviceId], 3))).toEqual({ status: 'published', removed: [ivy.deviceId] });
    expect(await store.queueStats(ivy.deviceId)).toEqual({ envelopes: 0, bytes: 0 });
    expect(await store.relayStats()).toEqual({ devices: 2, envelopes: 1, bytes: 10 });
    await store.close();
    const reopened = new SqliteStore(path);
    expect(await reopened.relayStats()).toEqual({ devices: 2, envelopes: 1, bytes: 10 });
    expect(await reopened.queueStats(hal)).toEqual({ envelopes: 1, bytes: 10 });
    await reopened.close();
  });

  it('migration 4 keeps a version 3 file\'s next_seq and queue (the bound of the numbers handed out)', () => {
    const db = new Database(file());
    migrate(db, MIGRATIONS.slice(0, 3));
    db.exec(`INSERT INTO accounts VALUES ('kim', 'k');
             INSERT INTO devices (device_id, handle, cert_created_at, cert_signature, spk_key_id, spk_public_key, spk_signature, next_seq, queue_count, queue_bytes)
               VALUES ('${'k'.repeat(43)}', 'kim', 1, 's', 1, 'p', 's', 7, 1, 4);
             INSERT INTO queue VALUES ('${'k'.repeat(43)}', 6, 'x', x'01020304', 4, ${Date.now() + 10_000});`);
    expect(migrate(db, MIGRATIONS.slice(0, 4))).toBe(4);
    expect(db.prepare('SELECT next_seq FROM devices').all()).toEqual([{ next_seq: 7 }]);
    expect(db.prepare(SQL.queueTotals).get('k'.repeat(43))).toEqual({ count: 1, bytes: 4 });
    db.close();
  });
});
