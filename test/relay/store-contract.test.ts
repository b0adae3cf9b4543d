/**
 * One contract for every Store (server/store/store.ts): the same cases run against SqliteStore
 * (a temporary file) and PostgresStore (a throwaway PostgreSQL cluster, a fresh database per
 * test). What only one implementation does is tested beside it: store.test.ts and
 * device-list-store.test.ts for SQLite, postgres-store.test.ts for PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresStore } from '../../server/store/postgres/postgres-store.js';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import type { EnqueueItem, OneTimePrekeyRecord, Store } from '../../server/store/store.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';
import { someAccount, someDevice, someList } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-contract-'));
let files = 0;
let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const STORES: { name: string; open: () => Promise<Store> }[] = [
  { name: 'SqliteStore', open: async () => new SqliteStore(join(dir, `db-${++files}.sqlite`)) },
  { name: 'PostgresStore', open: async () => PostgresStore.open(await cluster.createDatabase()) },
];

const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((c) => c.repeat(43)) as [string, string, string, string];
const roomy = { maxEnvelopes: 100, maxBytes: 1e6 };
const later = () => Date.now() + 60_000;
const item = (to: string, id: string, expiresAt = later()): EnqueueItem => ({ to, id, body: new Uint8Array(10), expiresAt });
const keys = (...ids: number[]): OneTimePrekeyRecord[] => ids.map((keyId) => ({ keyId, publicKey: `k${keyId}` }));
const seqsOf = (page: { seq: number }[]) => page.map((e) => e.seq);

describe.each(STORES)('Store contract: $name', ({ open }) => {
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => {
    await store.close();
  });

  /** ann with devices A and B (list version 2), one one-time prekey each. */
  async function accountWithTwo(): Promise<void> {
    expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), keys(1))).toBe(true);
    expect(await store.addDevice(someDevice(B, 'ann'), keys(1), someList('ann', [A, B], 2), 3)).toEqual({ status: 'added', removed: [] });
  }

  describe('accounts and devices', () => {
    it('creates an account with its first device and refuses a taken handle or device id, writing nothing', async () => {
      expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), keys(1, 2))).toBe(true);
      expect(await store.createAccount(someAccount('ann', B), someDevice(B, 'ann'), keys(1))).toBe(false);
      expect(await store.createAccount(someAccount('bob', A), someDevice(A, 'bob'), [])).toBe(false);
      expect(await store.getAccount('bob')).toBeUndefined();
      expect(await store.getDevice(B)).toBeUndefined();
      expect(await store.getAccount('ann')).toEqual(someAccount('ann', A));
      expect(await store.listDevices('ann')).toEqual([someDevice(A, 'ann')]);
      expect(await store.getDevice(A)).toEqual(someDevice(A, 'ann'));
      expect(await store.listDevices('nobody')).toEqual([]);
      expect(await store.countOneTimePrekeys(A)).toBe(2);
    });

    it('is writable, and durable() resolves', async () => {
      expect(await store.isWritable()).toBe(true);
      await store.durable();
    });
  });

  describe('device lists', () => {
    it('keeps the newest list and refuses an equal or lower version, changing nothing', async () => {
      await accountWithTwo();
      expect((await store.getAccount('ann'))?.deviceList).toEqual(someList('ann', [A, B], 2));
      for (const version of [2, 1]) {
        expect(await store.publishDeviceList('ann', someList('ann', [A], version))).toEqual({ status: 'stale_version', current: 2 });
        expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, B, C], version), 3)).toEqual({ status: 'stale_version', current: 2 });
      }
      expect((await store.listDevices('ann')).map((d) => d.deviceId)).toEqual([A, B]);
      expect((await store.getAccount('ann'))?.deviceList.version).toBe(2);
    });

    it('refuses a list naming a device that is not registered to the account, or too many devices', async () => {
      await accountWithTwo();
      expect(await store.createAccount(someAccount('bob', D), someDevice(D, 'bob'), [])).toBe(true);
      expect(await store.publishDeviceList('ann', someList('ann', [A, D], 3))).toEqual({ status: 'unregistered_device', deviceId: D });
      expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, C, D], 3), 6)).toEqual({ status: 'unregistered_device', deviceId: D });
      // bob's device id cannot join ann's account either.
      expect(await store.addDevice(someDevice(D, 'ann'), [], someList('ann', [A, B, D], 3), 6)).toEqual({ status: 'conflict' });
      expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, B, C], 3), 2)).toEqual({ status: 'quota_exceeded' });
      expect(await store.publishDeviceList('nobody', someList('nobody', [A], 3))).toEqual({ status: 'no_account' });
      expect(await store.addDevice(someDevice(C, 'nobody'), [], someList('nobody', [C], 3), 6)).toEqual({ status: 'no_account' });
      expect((await store.listDevices('ann')).map((d) => d.deviceId)).toEqual([A, B]);
      expect(await store.getDevice(C)).toBeUndefined();
      expect((await store.getDevice(D))?.handle).toBe('bob');
      expect((await store.getAccount('ann'))?.deviceList.version).toBe(2);
    });

    it('deletes a left-out device with its prekeys and its queue', async () => {
      await accountWithTwo();
      await store.enqueue([item(B, 'b1'), item(B, 'b2'), item(A, 'for-a')], roomy);
      expect(await store.publishDeviceList('ann', someList('ann', [A], 3))).toEqual({ status: 'published', removed: [B] });
      expect(await store.getDevice(B)).toBeUndefined();
      expect(await store.countOneTimePrekeys(B)).toBe(0);
      expect(await store.claimBundle(B)).toBeUndefined();
      expect(await store.readQueue(B, 0, 10, Date.now())).toEqual([]);
      expect(await store.queueStats(B)).toEqual({ envelopes: 0, bytes: 0 });
      expect(await store.relayStats()).toEqual({ devices: 1, envelopes: 1, bytes: 10 });
      expect(await store.enqueue([item(B, 'late')], roomy)).toEqual([{ status: 'unknown_device' }]);
      expect((await store.getAccount('ann'))?.deviceList).toEqual(someList('ann', [A], 3));
    });

    it('adds a recovered device and removes every other device in the same transaction', async () => {
      await accountWithTwo();
      await store.enqueue([item(A, 'x'), item(B, 'y')], roomy);
      expect(await store.addDevice(someDevice(C, 'ann'), keys(7), someList('ann', [C], 3), 3)).toEqual({ status: 'added', removed: [A, B] });
      expect((await store.listDevices('ann')).map((d) => d.deviceId)).toEqual([C]);
      expect((await store.getAccount('ann'))?.deviceList).toEqual(someList('ann', [C], 3));
      expect(await store.relayStats()).toEqual({ devices: 1, envelopes: 0, bytes: 0 });
      expect(await store.countOneTimePrekeys(C)).toBe(1);
    });
  });

  describe('prekeys and bundles', () => {
    it('rotates the signed prekey, adds one-time prekeys keeping existing key ids, and hands them out oldest first', async () => {
      expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), keys(1, 2))).toBe(true);
      const rotated = { keyId: 9, publicKey: 'spk9', signature: 'sig9' };
      expect(await store.putPrekeys(A, rotated, [{ keyId: 2, publicKey: 'replacement' }, ...keys(3)])).toBe(3);
      expect(await store.putPrekeys(A, undefined, [])).toBe(3);
      expect((await store.getDevice(A))?.signedPrekey).toEqual(rotated);
      const claims = [];
      for (let i = 0; i < 4; i++) claims.push(await store.claimBundle(A));
      expect(claims.map((c) => c?.oneTimePrekey)).toEqual([...keys(1, 2, 3), undefined]);
      expect(claims.map((c) => c?.remaining)).toEqual([2, 1, 0, 0]);
      expect(claims[0]).toMatchObject({ account: someAccount('ann', A), device: { ...someDevice(A, 'ann'), signedPrekey: rotated } });
      expect(await store.countOneTimePrekeys(A)).toBe(0);
      expect(await store.claimBundle(B)).toBeUndefined();
    });

    it('never hands one one-time prekey to two claims made at once', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => i + 1);
      expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), keys(...ids))).toBe(true);
      const claims = await Promise.all(Array.from({ length: 30 }, () => store.claimBundle(A)));
      const claimed = claims.flatMap((c) => (c?.oneTimePrekey ? [c.oneTimePrekey.keyId] : []));
      expect(claimed.sort((a, b) => a - b)).toEqual(ids);
      expect(await store.countOneTimePrekeys(A)).toBe(0);
    });
  });

  describe('enqueue', () => {
    it('numbers each device queue, never reuses a sequence number, and counts bytes', async () => {
      expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [])).toBe(true);
      const limits = { maxEnvelopes: 10, maxBytes: 1000 };
      expect(await store.enqueue([item(A, 'a'), item(A, 'b'), item(A, 'a')], limits)).toEqual([{ status: 'stored', seq: 1 }, { status: 'stored', seq: 2 }, { status: 'duplicate' }]);
      expect(await store.queueStats(A)).toEqual({ envelopes: 2, bytes: 20 });
      expect(await store.ackUpTo(A, 2)).toBe(2);
      expect(await store.enqueue([item(A, 'c')], limits)).toEqual([{ status: 'stored', seq: 3 }]);
      expect(await store.queueStats(A)).toEqual({ envelopes: 1, bytes: 10 });
      expect(await store.enqueue([item('nobody', 'z')], limits)).toEqual([{ status: 'unknown_device' }]);
      expect(await store.enqueue([], limits)).toEqual([]);
    });

    it('numbers several devices contiguously within and across batches', async () => {
      await accountWithTwo();
      const batch = [item(A, '1'), item(B, '1'), item(A, '2'), item(C, '1'), item(B, '2'), item(A, '3')];
      expect(await store.enqueue(batch, roomy)).toEqual([
        { status: 'stored', seq: 1 },
        { status: 'stored', seq: 1 },
        { status: 'stored', seq: 2 },
        { status: 'unknown_device' },
        { status: 'stored', seq: 2 },
        { status: 'stored', seq: 3 },
      ]);
      expect(await store.enqueue([item(B, '3'), item(A, '4')], roomy)).toEqual([{ status: 'stored', seq: 3 }, { status: 'stored', seq: 4 }]);
      expect(seqsOf(await store.readQueue(A, 0, 10, Date.now()))).toEqual([1, 2, 3, 4]);
      expect(seqsOf(await store.readQueue(B, 0, 10, Date.now()))).toEqual([1, 2, 3]);
    });

    it('reports a duplicate without using a number or quota, also when the queue is full', async () => {
      expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [])).toBe(true);
      const full = { maxEnvelopes: 2, maxBytes: 1000 };
      expect(await store.enqueue([item(A, 'a'), item(A, 'b')], full)).toEqual([{ status: 'stored', seq: 1 }, { status: 'stored', seq: 2 }]);
      expect(await store.enqueue([item(A, 'a'), item(A, 'c')], full)).toEqual([{ status: 'duplicate' }, { status: 'quota_exceeded' }]);
      expect(await store.enqueue([item(A, 'b'), item(A, 'c')], roomy)).toEqual([{ status: 'duplicate' }, { status: 'stored', seq: 3 }]);
      expect(await store.queueStats(A)).toEqual({ envelopes: 3, bytes: 30 });
      // Twice in one batch, to a device with an empty queue: the second is the duplicate.
      expect(await store.createAccount(someAccount('bea', B), someDevice(B, 'bea'), [])).toBe(true);
      expect(await store.enqueue([item(B, 'x'), item(B, 'x'), item(B, 'y')], roomy)).toEqual([{ status: 'stored', seq: 1 }, { status: 'duplicate' }, { status: 'stored', seq: 2 }]);
      // Twice in one batch when the first is refused: so is the second, for the same reason.
      expect(await store.enqueue([item(A, 'd'), item(A, 'd'), item('nobody', 'e'), item('nobody', 'e')], full)).toEqual([
        { status: 'quota_exceeded' },
        { status: 'quota_exceeded' },
        { status: 'unknown_device' },
        { status: 'unknown_device' },
      ]);
      expect(await store.queueStats(A)).toEqual({ envelopes: 3, bytes: 30 });
    });

    it('refuses past a device byte limit and past the relay-wide cap, and takes envelopes again once there is room', async () => {
      await accountWithTwo();
      const perDevice = { maxEnvelopes: 10, maxBytes: 25 };
      expect(await store.enqueue([item(A, '1'), item(A, '2'), item(A, '3'), item(B, '1')], perDevice)).toEqual([
        { status: 'stored', seq: 1 },
        { status: 'stored', seq: 2 },
        { status: 'quota_exceeded' },
        { status: 'stored', seq: 1 },
      ]);
      // 30 bytes queued: the cap counts every device, and the earlier items of the same batch.
      const capped = { ...roomy, maxTotalBytes: 45 };
      expect(await store.enqueue([item(B, '2'), item(B, '3'), item(A, '4')], capped)).toEqual([{ status: 'stored', seq: 2 }, { status: 'quota_exceeded' }, { status: 'quota_exceeded' }]);
      expect(await store.ackUpTo(A, 2)).toBe(2);
      expect(await store.enqueue([item(B, '3'), item(A, '4')], capped)).toEqual([{ status: 'stored', seq: 3 }, { status: 'stored', seq: 3 }]);
      expect(await store.relayStats()).toEqual({ devices: 2, envelopes: 4, bytes: 40 });
    });

    it('gives bodies back byte for byte', async () => {
      expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [])).toBe(true);
      const every = Uint8Array.from({ length: 256 }, (_, i) => i);
      const large = new Uint8Array(randomBytes(64 * 1024));
      const empty = new Uint8Array(0);
      const bodies = [every, large, empty, every.subarray(100, 200)];
      await store.enqueue(bodies.map((body, i) => ({ ...item(A, `e${i}`), body })), roomy);
      const page = await store.readQueue(A, 0, 10, Date.now());
      expect(page.map((e) => e.id)).toEqual(['e0', 'e1', 'e2', 'e3']);
      page.forEach((e, i) => expect(Buffer.from(e.body).equals(bodies[i]!)).toBe(true));
      expect(await store.queueStats(A)).toEqual({ envelopes: 4, bytes: 256 + 64 * 1024 + 100 });
    });
  });

  describe('reading, acknowledging and expiry', () => {
    it('reads a device queue after a sequence number, in order, page by page, without expired envelopes', async () => {
      await accountWithTwo();
      const soon = Date.now() + 5_000;
      await store.enqueue([item(A, 'a'), item(A, 'b', soon), item(A, 'c'), item(A, 'd'), item(A, 'e'), item(B, 'x')], roomy);
      const now = Date.now();
      expect(seqsOf(await store.readQueue(A, 0, 2, now))).toEqual([1, 2]);
      expect((await store.readQueue(A, 2, 10, now)).map((e) => e.id)).toEqual(['c', 'd', 'e']);
      expect(seqsOf(await store.readQueue(A, 0, 10, soon))).toEqual([1, 3, 4, 5]);
      expect(await store.readQueue(A, 5, 10, now)).toEqual([]);
      expect(await store.readQueue(C, 0, 10, now)).toEqual([]);
    });

    it('acknowledges up to a sequence number or by ids, sweeps what expired, and keeps the totals', async () => {
      await accountWithTwo();
      const soon = Date.now() + 5_000;
      await store.enqueue([item(A, 'a'), item(A, 'b', soon), item(A, 'c'), item(A, 'd', soon), item(A, 'e'), item(B, 'x', soon), item(B, 'y')], roomy);
      expect(await store.relayStats()).toEqual({ devices: 2, envelopes: 7, bytes: 70 });
      expect(await store.ackUpTo(A, 2)).toBe(2);
      expect(await store.ackUpTo(A, 2)).toBe(0);
      expect(await store.ackIds(A, ['c', 'nope', 'a'])).toBe(1);
      expect(await store.ackIds(B, ['e'])).toBe(0);
      expect(await store.ackIds(A, [])).toBe(0);
      expect(await store.ackUpTo('nobody', 10)).toBe(0);
      // Expired but not yet swept: still counted, no longer read.
      expect(await store.queueStats(A)).toEqual({ envelopes: 2, bytes: 20 });
      expect(seqsOf(await store.readQueue(A, 0, 10, soon))).toEqual([5]);
      expect(await store.sweepExpired(soon - 1)).toBe(0);
      expect(await store.sweepExpired(soon)).toBe(2);
      expect(await store.queueStats(A)).toEqual({ envelopes: 1, bytes: 10 });
      expect(await store.queueStats(B)).toEqual({ envelopes: 1, bytes: 10 });
      expect(await store.queueStats('nobody')).toEqual({ envelopes: 0, bytes: 0 });
      expect(await store.relayStats()).toEqual({ devices: 2, envelopes: 2, bytes: 20 });
      expect((await store.readQueue(A, 0, 10, Date.now())).map((e) => e.id)).toEqual(['e']);
      // Numbers are never reused, whatever left the queue.
      expect(await store.enqueue([item(A, 'f')], roomy)).toEqual([{ status: 'stored', seq: 6 }]);
    });

    it('answers acks made at once, of one device or several, each with what it deleted', async () => {
      await accountWithTwo();
      await store.enqueue([item(A, 'a'), item(A, 'b'), item(A, 'c'), item(A, 'd'), item(A, 'e'), item(B, 'x'), item(B, 'y')], roomy);
      // Not awaited one by one: a store may write them together (PostgreSQL does, ack-batch.ts).
      const counts = await Promise.all([store.ackUpTo(A, 4), store.ackUpTo(A, 2), store.ackUpTo(B, 1), store.ackUpTo(A, 2), store.ackUpTo(B, 9), store.ackUpTo('nobody', 3)]);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(6);
      // Whatever order they ran in, A's acks deleted 4 envelopes between them and B's 2.
      expect(counts[0]! + counts[1]! + counts[3]!).toBe(4);
      expect(counts[2]! + counts[4]!).toBe(2);
      expect(counts[5]).toBe(0);
      expect(await store.queueStats(A)).toEqual({ envelopes: 1, bytes: 10 });
      expect(await store.queueStats(B)).toEqual({ envelopes: 0, bytes: 0 });
      expect(await store.relayStats()).toEqual({ devices: 2, envelopes: 1, bytes: 10 });
      expect((await store.readQueue(A, 0, 10, Date.now())).map((e) => e.id)).toEqual(['e']);
    });
  });
});
