/**
 * The SQLite store without the queue log (server/store/sqlite/sqlite-tables.ts, `queueLog: false`):
 * envelopes go straight into the queue table, and the same queue behaviour holds — numbering,
 * duplicates, quotas, reads in order, acks, expiry, device removal, a reopen, durability and a
 * reserve on the disk. SqliteStore with `queueLog: false` is this store alone, after replaying
 * whatever queue log an earlier run with the log left behind.
 */
import { existsSync, fdatasyncSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeStored, seal } from '../../server/store/sqlite/log-records.js';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { SqliteTables, type StorageOptions } from '../../server/store/sqlite/sqlite-tables.js';
import { StoreUnavailableError } from '../../server/store/store.js';
import { someAccount, someDevice, someList } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-tables-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}.sqlite`);
const limits = { maxEnvelopes: 10, maxBytes: 1000 };
const item = (to: string, id: string, expiresAt = Date.now() + 60_000, size = 10) => ({ to, id, body: new Uint8Array(size).fill(id.length), expiresAt });
const [A, B, C] = ['a', 'b', 'c'].map((c) => c.repeat(43)) as [string, string, string];
const queueRows = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT device_id, seq, envelope_id FROM queue ORDER BY device_id, seq').all();
  } finally {
    db.close();
  }
};

async function tablesWith(path: string, options: StorageOptions = {}): Promise<SqliteTables> {
  const tables = new SqliteTables(path, options);
  expect(await tables.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [])).toBe(true);
  expect(await tables.createAccount(someAccount('bob', B), someDevice(B, 'bob'), [])).toBe(true);
  return tables;
}

describe('SqliteTables (no queue log)', () => {
  it('writes each enqueue into the queue table at once, numbered per device, with duplicates and quotas refused', async () => {
    const path = file();
    const tables = await tablesWith(path);
    expect(await tables.enqueue([item(A, 'a1'), item(B, 'b1'), item(A, 'a2'), item(A, 'a1'), item('nobody', 'x')], limits)).toEqual([
      { status: 'stored', seq: 1 },
      { status: 'stored', seq: 1 },
      { status: 'stored', seq: 2 },
      { status: 'duplicate' },
      { status: 'unknown_device' },
    ]);
    // In SQLite before anything is closed or checkpointed: there is no log to hold it.
    expect(queueRows(path)).toHaveLength(3);
    expect(readdirSync(dir).filter((name) => name.includes('-queue-'))).toEqual([]);
    expect(await tables.enqueue([item(A, 'big', undefined, 990)], limits)).toEqual([{ status: 'quota_exceeded' }]);
    expect(await tables.enqueue([item(B, 'b2')], { ...limits, maxTotalBytes: 35 })).toEqual([{ status: 'quota_exceeded' }]);
    expect(await tables.enqueue([item(B, 'b2')], { ...limits, maxTotalBytes: 40 })).toEqual([{ status: 'stored', seq: 2 }]);
    expect(await tables.queueStats(A)).toEqual({ envelopes: 2, bytes: 20 });
    expect(await tables.relayStats()).toEqual({ devices: 2, envelopes: 4, bytes: 40 });
    await tables.close();
  });

  it('reads in seq order after a number, within a limit, without expired envelopes', async () => {
    const tables = await tablesWith(file());
    const soon = Date.now() + 1000;
    await tables.enqueue([item(A, 'e1'), item(A, 'e2', soon), item(A, 'e3'), item(A, 'e4')], limits);
    const ids = async (after: number, limit: number, now = Date.now()) => (await tables.readQueue(A, after, limit, now)).map((e) => [e.seq, e.id]);
    expect(await ids(0, 10)).toEqual([[1, 'e1'], [2, 'e2'], [3, 'e3'], [4, 'e4']]);
    expect(await ids(1, 2)).toEqual([[2, 'e2'], [3, 'e3']]);
    expect(await ids(0, 10, soon)).toEqual([[1, 'e1'], [3, 'e3'], [4, 'e4']]);
    const [first] = await tables.readQueue(A, 0, 1, Date.now());
    expect(Buffer.from(first!.body)).toEqual(Buffer.alloc(10, 2));
    expect(await tables.readQueue(B, 0, 10, Date.now())).toEqual([]);
    await tables.close();
  });

  it('acks up to a number or by id, sweeps the expired, and keeps the totals through all of it', async () => {
    const tables = await tablesWith(file());
    const soon = Date.now() + 1000;
    await tables.enqueue([item(A, 'a1'), item(A, 'a2'), item(A, 'a3', soon), item(A, 'a4'), item(B, 'b1', soon), item(B, 'b2')], limits);
    // Acks of one tick are deleted together in one transaction.
    expect(await Promise.all([tables.ackUpTo(A, 2), tables.ackIds(B, ['b2', 'nope'])])).toEqual([2, 1]);
    expect(await tables.ackUpTo(C, 5)).toBe(0);
    expect(await tables.sweepExpired(soon)).toBe(2);
    expect((await tables.readQueue(A, 0, 10, Date.now())).map((e) => e.id)).toEqual(['a4']);
    expect(await tables.queueStats(A)).toEqual({ envelopes: 1, bytes: 10 });
    expect(await tables.queueStats(B)).toEqual({ envelopes: 0, bytes: 0 });
    expect(await tables.relayStats()).toEqual({ devices: 2, envelopes: 1, bytes: 10 });
    await tables.close();
  });

  it('deletes a device left out of a new list with its queue, and tells the listeners right after the commit', async () => {
    const tables = await tablesWith(file());
    const removed: string[][] = [];
    tables.onDevicesRemoved((ids) => removed.push([...ids]));
    expect(await tables.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, C], 2), 3)).toEqual({ status: 'added', removed: [] });
    await tables.enqueue([item(A, 'a1'), item(C, 'c1')], limits);
    expect(await tables.publishDeviceList('ann', someList('ann', [C], 3))).toEqual({ status: 'published', removed: [A] });
    expect(removed).toEqual([[A]]);
    expect(await tables.readQueue(A, 0, 10, Date.now())).toEqual([]);
    expect(await tables.enqueue([item(A, 'a2')], limits)).toEqual([{ status: 'unknown_device' }]);
    expect(await tables.relayStats()).toEqual({ devices: 2, envelopes: 1, bytes: 10 });
    await tables.close();
  });

  it('keeps the queue across a reopen and never reuses a number, the queue emptied or not', async () => {
    const path = file();
    const tables = await tablesWith(path);
    await tables.enqueue([item(A, 'a1'), item(A, 'a2'), item(B, 'b1')], limits);
    expect(await tables.ackUpTo(B, 1)).toBe(1);
    // Never closed, as after a kill: every enqueue was committed on its own.
    const reopened = new SqliteTables(path);
    expect((await reopened.readQueue(A, 0, 10, Date.now())).map((e) => [e.seq, e.id])).toEqual([[1, 'a1'], [2, 'a2']]);
    expect(await reopened.relayStats()).toEqual({ devices: 2, envelopes: 2, bytes: 20 });
    const [a3, b2] = await reopened.enqueue([item(A, 'a3'), item(B, 'b2')], limits);
    expect(a3!.status === 'stored' && a3!.seq).toBeGreaterThan(2);
    expect(b2!.status === 'stored' && b2!.seq).toBeGreaterThan(1);
    expect(await reopened.enqueue([item(A, 'a1')], limits)).toEqual([{ status: 'duplicate' }]);
    await reopened.close();
    await tables.close();
  });

  it('says an envelope is durable only after a WAL sync that started after its commit', async () => {
    const releases: (() => void)[] = [];
    const syncFile = (fd: number): Promise<void> => new Promise((resolve) => releases.push(() => resolve(fdatasyncSync(fd))));
    const releaseAll = () => releases.splice(0).forEach((release) => release());
    const tables = new SqliteTables(file(), { syncFile });
    const created = tables.createAccount(someAccount('ann', A), someDevice(A, 'ann'), []);
    releaseAll();
    expect(await created).toBe(true);
    expect(await tables.enqueue([item(A, 'a1')], limits)).toEqual([{ status: 'stored', seq: 1 }]);
    // Committed: readable at once, durable once the sync is released.
    expect(await tables.readQueue(A, 0, 10, Date.now())).toHaveLength(1);
    let durable = false;
    const waiting = tables.durable().then(() => (durable = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(durable).toBe(false);
    releaseAll();
    await waiting;
    await tables.close();
  });

  it('refuses enqueues below the disk reserve as unavailable while acks and reads go on', async () => {
    let free = 1e9;
    const tables = await tablesWith(file(), { minFreeBytes: 1e6, freeBytes: () => free });
    await tables.enqueue([item(A, 'a1'), item(A, 'a2')], limits);
    free = 1000;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(tables.enqueue([item(A, 'a3')], limits)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(tables.isWritable()).rejects.toThrow(/reserve/);
    expect(await tables.ackUpTo(A, 1)).toBe(1);
    expect((await tables.readQueue(A, 0, 10, Date.now())).map((e) => e.id)).toEqual(['a2']);
    free = 1e9;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await tables.enqueue([item(A, 'a3')], limits)).toEqual([{ status: 'stored', seq: 3 }]);
    await tables.close();
  });
});

describe('SqliteStore with queueLog: false', () => {
  it('replays a queue log left by an earlier run with the log, then writes no log of its own', async () => {
    const path = file();
    const tables = await tablesWith(path);
    await tables.close();
    // A run with the queue log crashed holding two envelopes for A (generation 1).
    const records = [7, 8].map((seq) => seal(encodeStored(A, seq, Date.now() + 60_000, `e${seq}`, new Uint8Array([seq])).record, 1));
    writeFileSync(`${path}-queue-1`, Buffer.concat(records), { mode: 0o600 });

    const store = new SqliteStore(path, { queueLog: false });
    expect(existsSync(`${path}-queue-1`)).toBe(false);
    expect((await store.readQueue(A, 0, 10, Date.now())).map((e) => [e.seq, e.id])).toEqual([[7, 'e7'], [8, 'e8']]);
    expect(await store.enqueue([item(A, 'after')], limits)).toEqual([{ status: 'stored', seq: 9 }]);
    expect(queueRows(path)).toHaveLength(3);
    expect(readdirSync(dir).filter((name) => name.startsWith(`${path.split('/').at(-1)}-queue-`))).toEqual([]);
    await store.close();
  });
});
