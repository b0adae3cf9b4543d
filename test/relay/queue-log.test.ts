/**
 * The queue log in front of SQLite (server/store/sqlite/queue-log.ts): what a crash leaves is
 * replayed exactly, a torn tail is cut, a checkpoint moves only what is still queued, numbers are
 * never reused, and a failed sync refuses every later write.
 */
import { closeSync, existsSync, fdatasyncSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LATER_FLUSH_MS } from '../../server/store/sqlite/queue-log.js';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { someAccount, someDevice, someList } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-queue-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}.sqlite`);
const logFiles = (path: string) => readdirSync(dir).filter((name) => name.startsWith(`${path.split('/').at(-1)}-queue-`));
const roomy = { maxEnvelopes: 1000, maxBytes: 64e6 };
/** Past the wait of removal records that found no batch to ride with. */
const removalsWritten = () => new Promise((resolve) => setTimeout(resolve, LATER_FLUSH_MS + 20));
const body = (i: number, size = 100) => new Uint8Array(size).fill(i % 251);
const item = (to: string, id: string, i: number, size = 100) => ({ to, id, body: body(i, size), expiresAt: Date.now() + 60_000 });

async function storeWith(path: string, ...handles: string[]): Promise<{ store: SqliteStore; devices: string[] }> {
  const store = new SqliteStore(path);
  const devices: string[] = [];
  for (const handle of handles) {
    const device = someDevice(handle[0]!.repeat(43), handle);
    expect(await store.createAccount(someAccount(handle, device.deviceId), device, [])).toBe(true);
    devices.push(device.deviceId);
  }
  return { store, devices };
}

/** What SQLite itself holds, read without the store. */
function table(path: string): { rows: { device_id: string; seq: number; envelope_id: string }[]; nextSeq: Record<string, number> } {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT device_id, seq, envelope_id FROM queue ORDER BY device_id, seq').all() as { device_id: string; seq: number; envelope_id: string }[];
    const nextSeq = Object.fromEntries((db.prepare('SELECT device_id, next_seq FROM devices').all() as { device_id: string; next_seq: number }[]).map((r) => [r.device_id, r.next_seq]));
    return { rows, nextSeq };
  } finally {
    db.close();
  }
}

describe('queue log', () => {
  it('replays what a crashed store left: the unacknowledged envelopes, byte for byte, and the numbering', async () => {
    const path = file();
    const { store: crashed, devices: [amy, bob] } = await storeWith(path, 'amy', 'bob');
    await crashed.enqueue([item(amy!, 'a1', 1), item(bob!, 'b1', 2), item(amy!, 'a2', 3), item(amy!, 'a3', 4)], roomy);
    await crashed.durable();
    expect(await crashed.ackUpTo(amy!, 1)).toBe(1);
    expect(await crashed.ackIds(bob!, ['b1'])).toBe(1);
    await removalsWritten();
    // Nothing reached SQLite: the envelopes live in the log and in memory only.
    expect(table(path).rows).toEqual([]);
    // The first file, and the next one prepared (zeros) for the first checkpoint.
    expect(logFiles(path).sort()).toEqual([`${path.split('/').at(-1)}-queue-1`, `${path.split('/').at(-1)}-queue-2`]);

    // The crashed store is never closed; a new one opens the same files.
    const recovered = new SqliteStore(path);
    const page = await recovered.readQueue(amy!, 0, 10, Date.now());
    expect(page.map((e) => [e.seq, e.id])).toEqual([[2, 'a2'], [3, 'a3']]);
    expect(page.map((e) => Buffer.from(e.body).equals(Buffer.from(body(e.seq + 1))))).toEqual([true, true]);
    expect(await recovered.queueStats(bob!)).toEqual({ envelopes: 0, bytes: 0 });
    expect(await recovered.relayStats()).toEqual({ devices: 2, envelopes: 2, bytes: 200 });
    // Acknowledged numbers are not reused either: bob's next envelope is 2, amy's 4.
    expect(await recovered.enqueue([item(bob!, 'b2', 5), item(amy!, 'a4', 6)], roomy)).toEqual([{ status: 'stored', seq: 2 }, { status: 'stored', seq: 4 }]);
    // A replayed envelope is still a duplicate of itself.
    expect(await recovered.enqueue([item(amy!, 'a2', 3)], roomy)).toEqual([{ status: 'duplicate' }]);
    await recovered.close();
    expect(logFiles(path)).toEqual([]);
    expect(table(path).rows.map((r) => r.envelope_id)).toEqual(['a2', 'a3', 'a4', 'b2']);
    await crashed.close().catch(() => undefined);
  });

  it('cuts a torn tail: a record cut short or followed by garbage ends the replay there', async () => {
    const path = file();
    const { store: crashed, devices: [cat] } = await storeWith(path, 'cat');
    await crashed.enqueue([item(cat!, 'c1', 1, 1000)], roomy);
    await crashed.enqueue([item(cat!, 'c2', 2, 1000)], roomy);
    await crashed.durable();
    const log = join(dir, logFiles(path)[0]!);
    // Each record: an 8-byte frame, then kind, device id, seq, expiry, id and the 1000-byte body.
    const record = 8 + 1 + 1 + 43 + 8 + 8 + 1 + 2 + 1000;
    const fd = openSync(log, 'r+');
    // The second record loses its last bytes, as if power failed mid-write (never acknowledged),
    // and garbage follows it.
    writeSync(fd, Buffer.alloc(10), 0, 10, 2 * record - 10);
    writeSync(fd, Buffer.alloc(64, 0xab), 0, 64, 2 * record);
    closeSync(fd);
    const recovered = new SqliteStore(path);
    expect((await recovered.readQueue(cat!, 0, 10, Date.now())).map((e) => e.id)).toEqual(['c1']);
    // c2 was never acknowledged to its sender, who sends it again: stored, under a fresh number.
    const [again] = await recovered.enqueue([item(cat!, 'c2', 2, 1000)], roomy);
    expect(again).toEqual({ status: 'stored', seq: 2 });
    await recovered.close();
    await crashed.close().catch(() => undefined);
  });

  it('checkpoints only what is still queued, with next_seq above every number handed out', async () => {
    const path = file();
    const { store, devices: [dan] } = await storeWith(path, 'dan');
    await store.enqueue([item(dan!, 'd1', 1), item(dan!, 'd2', 2), item(dan!, 'd3', 3)], roomy);
    await store.ackUpTo(dan!, 2);
    await store.close();
    const { rows, nextSeq } = table(path);
    expect(rows.map((r) => [r.seq, r.envelope_id])).toEqual([[3, 'd3']]);
    expect(nextSeq[dan!]).toBe(4);
    expect(logFiles(path)).toEqual([]);
  });

  it('checkpoints on size while serving: reads and acks then span SQLite and the new log in order', async () => {
    const path = file();
    const { store, devices: [eve] } = await storeWith(path, 'eve');
    // 9 MiB of envelopes: past the 8 MiB checkpoint size.
    const batch = Array.from({ length: 144 }, (_, i) => item(eve!, `big${i}`, i, 64 * 1024));
    expect((await store.enqueue(batch, roomy)).every((o) => o.status === 'stored')).toBe(true);
    await store.durable();
    for (let i = 0; i < 20 && table(path).rows.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(table(path).rows).toHaveLength(144);
    await store.enqueue([item(eve!, 'after', 200)], roomy);
    const page = await store.readQueue(eve!, 140, 10, Date.now());
    expect(page.map((e) => e.id)).toEqual(['big140', 'big141', 'big142', 'big143', 'after']);
    expect(await store.ackUpTo(eve!, 145)).toBe(145);
    expect(await store.queueStats(eve!)).toEqual({ envelopes: 0, bytes: 0 });
    await store.close();
    expect(table(path).rows).toEqual([]);
  });

  it('reuses a retired file as the next generation, whose older records never replay', async () => {
    const path = file();
    const name = (generation: number) => `${path.split('/').at(-1)}-queue-${generation}`;
    const { store: crashed, devices: [kim] } = await storeWith(path, 'kim');
    const batch = Array.from({ length: 144 }, (_, i) => item(kim!, `old${i}`, i, 64 * 1024));
    expect((await crashed.enqueue(batch, roomy)).every((o) => o.status === 'stored')).toBe(true);
    await crashed.durable();
    // The size checkpoint moves them into SQLite; file 1 then becomes file 3, the next spare.
    for (let i = 0; i < 40 && !logFiles(path).includes(name(3)); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(logFiles(path).sort()).toEqual([name(2), name(3)]);
    expect(statSync(join(dir, name(3))).size).toBeGreaterThan(9 * 1024 * 1024);
    expect(await crashed.ackUpTo(kim!, 144)).toBe(144);
    await crashed.enqueue([item(kim!, 'fresh', 1)], roomy);
    await crashed.durable();

    // File 3 still holds all 144 old records, whole; sealed for generation 1, they are not replayed.
    const recovered = new SqliteStore(path);
    expect((await recovered.readQueue(kim!, 0, 200, Date.now())).map((e) => e.id)).toEqual(['fresh']);
    expect((await recovered.enqueue([item(kim!, 'next', 2)], roomy))[0]).toEqual({ status: 'stored', seq: 146 });
    await recovered.close();
    await crashed.close().catch(() => undefined);
  });

  it('does not bring back the envelopes of a device removed before the crash', async () => {
    const path = file();
    const { store: crashed, devices: [fay, gil] } = await storeWith(path, 'fay', 'gil');
    await crashed.enqueue([item(fay!, 'f1', 1), item(gil!, 'g1', 2)], roomy);
    // fay's account lists a new device instead of fay (recovery): fay and its queue go.
    const fresh = someDevice('r'.repeat(43), 'fay');
    expect(await crashed.addDevice(fresh, [], someList('fay', [fresh.deviceId], 2), 6)).toEqual({ status: 'added', removed: [fay] });
    await removalsWritten();
    const recovered = new SqliteStore(path);
    expect(await recovered.relayStats()).toEqual({ devices: 2, envelopes: 1, bytes: 100 });
    expect(await recovered.readQueue(fay!, 0, 10, Date.now())).toEqual([]);
    await recovered.close();
    await crashed.close().catch(() => undefined);
  });

  it('writes its files readable by the relay user only', async () => {
    const path = file();
    const { store, devices: [hal] } = await storeWith(path, 'hal');
    await store.enqueue([item(hal!, 'h1', 1)], roomy);
    const log = join(dir, logFiles(path)[0]!);
    for (const name of [log, path, `${path}-wal`, `${path}-shm`]) expect(statSync(name).mode & 0o777, name).toBe(0o600);
    await store.close();
  });

  it('refuses every later write once a sync of the queue log failed', async () => {
    const path = file();
    let failing = false;
    const syncFile = async (fd: number): Promise<void> => {
      if (failing) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      fdatasyncSync(fd);
    };
    const store = new SqliteStore(path, { syncFile });
    expect(await store.createAccount(someAccount('ida', 'i'.repeat(43)), someDevice('i'.repeat(43), 'ida'), [])).toBe(true);
    failing = true;
    await store.enqueue([item('i'.repeat(43), 'i1', 1)], roomy);
    await expect(store.durable()).rejects.toThrow(/queue log sync failed.*EIO/);
    failing = false;
    await expect(store.enqueue([item('i'.repeat(43), 'i2', 2)], roomy)).rejects.toThrow(/queue log sync failed/);
    expect(await store.isWritable()).toBe(false);
    await store.close();
    // The log stays for the next start, which replays it.
    expect(existsSync(`${path}-queue-1`)).toBe(true);
    const reopened = new SqliteStore(path);
    expect((await reopened.readQueue('i'.repeat(43), 0, 10, Date.now())).map((e) => e.id)).toEqual(['i1']);
    await reopened.close();
  });
});
