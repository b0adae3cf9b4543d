/**
 * The store's device-list writes (addDevice, publishDeviceList): each is one transaction that
 * refuses a stale version or a stranger device, and deletes the devices a list leaves out with
 * their prekeys and their envelopes wherever those are (queue log in memory, or SQLite).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { someAccount, someDevice, someList } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-device-lists-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}.sqlite`);
const roomy = { maxEnvelopes: 100, maxBytes: 1e6 };
const item = (to: string, id: string) => ({ to, id, body: new Uint8Array(10), expiresAt: Date.now() + 60_000 });
const [A, B, C, D] = ['a', 'b', 'c', 'd'].map((c) => c.repeat(43)) as [string, string, string, string];

async function accountWithTwo(path: string): Promise<SqliteStore> {
  const store = new SqliteStore(path);
  expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [{ keyId: 1, publicKey: 'p' }])).toBe(true);
  expect(await store.addDevice(someDevice(B, 'ann'), [{ keyId: 1, publicKey: 'p' }], someList('ann', [A, B], 2), 3)).toEqual({ status: 'added', removed: [] });
  return store;
}

describe('device lists in the store', () => {
  it('keeps the newest list and refuses an equal or lower version, changing nothing', async () => {
    const store = await accountWithTwo(file());
    expect((await store.getAccount('ann'))?.deviceList).toEqual(someList('ann', [A, B], 2));
    for (const version of [2, 1]) {
      expect(await store.publishDeviceList('ann', someList('ann', [A], version))).toEqual({ status: 'stale_version', current: 2 });
      expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, B, C], version), 3)).toEqual({ status: 'stale_version', current: 2 });
    }
    expect((await store.listDevices('ann')).map((d) => d.deviceId)).toEqual([A, B]);
    expect((await store.getAccount('ann'))?.deviceList.version).toBe(2);
    await store.close();
  });

  it('refuses a list naming a device that is not registered to the account, or too many devices', async () => {
    const store = await accountWithTwo(file());
    expect(await store.createAccount(someAccount('bob', D), someDevice(D, 'bob'), [])).toBe(true);
    expect(await store.publishDeviceList('ann', someList('ann', [A, D], 3))).toEqual({ status: 'unregistered_device', deviceId: D });
    expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, C, D], 3), 6)).toEqual({ status: 'unregistered_device', deviceId: D });
    // bob's device id cannot join ann's account either.
    expect(await store.addDevice(someDevice(D, 'ann'), [], someList('ann', [A, B, D], 3), 6)).toEqual({ status: 'conflict' });
    expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [A, B, C], 3), 2)).toEqual({ status: 'quota_exceeded' });
    expect(await store.publishDeviceList('nobody', someList('nobody', [A], 3))).toEqual({ status: 'no_account' });
    expect((await store.listDevices('ann')).map((d) => d.deviceId)).toEqual([A, B]);
    expect((await store.getDevice(D))?.handle).toBe('bob');
    await store.close();
  });

  it('deletes a left-out device with its prekeys and its envelopes in the log and in SQLite', async () => {
    const path = file();
    let store = await accountWithTwo(path);
    await store.enqueue([item(B, 'cold1'), item(B, 'cold2')], roomy);
    // Closing checkpoints them into SQLite; the next two stay in the queue log.
    await store.close();
    store = new SqliteStore(path);
    await store.enqueue([item(B, 'hot1'), item(A, 'for-a')], roomy);
    expect(await store.queueStats(B)).toEqual({ envelopes: 3, bytes: 30 });
    expect(await store.publishDeviceList('ann', someList('ann', [A], 3))).toEqual({ status: 'published', removed: [B] });
    expect(await store.getDevice(B)).toBeUndefined();
    expect(await store.countOneTimePrekeys(B)).toBe(0);
    expect(await store.readQueue(B, 0, 10, Date.now())).toEqual([]);
    expect(await store.relayStats()).toEqual({ devices: 1, envelopes: 1, bytes: 10 });
    expect(await store.enqueue([item(B, 'late')], roomy)).toEqual([{ status: 'unknown_device' }]);
    await store.close();
    const reopened = new SqliteStore(path);
    expect(await reopened.relayStats()).toEqual({ devices: 1, envelopes: 1, bytes: 10 });
    await reopened.close();
  });

  it('adds a recovered device and removes every other device in the same transaction', async () => {
    const store = await accountWithTwo(file());
    await store.enqueue([item(A, 'x'), item(B, 'y')], roomy);
    expect(await store.addDevice(someDevice(C, 'ann'), [], someList('ann', [C], 3), 3)).toEqual({ status: 'added', removed: [A, B] });
    expect((await store.listDevices('ann')).map((d) => d.deviceId)).toEqual([C]);
    expect((await store.getAccount('ann'))?.deviceList).toEqual(someList('ann', [C], 3));
    expect(await store.relayStats()).toEqual({ devices: 1, envelopes: 0, bytes: 0 });
    await store.close();
  });
});
