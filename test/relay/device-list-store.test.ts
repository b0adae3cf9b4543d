/**
 * SQLite's side of the device-list writes: a list that leaves a device out deletes its envelopes
 * wherever they are (queue log in memory, or SQLite), also across a reopen. The refusals and
 * removals every Store shares are in store-contract.test.ts.
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
const [A, B] = ['a', 'b'].map((c) => c.repeat(43)) as [string, string];

async function accountWithTwo(path: string): Promise<SqliteStore> {
  const store = new SqliteStore(path);
  expect(await store.createAccount(someAccount('ann', A), someDevice(A, 'ann'), [{ keyId: 1, publicKey: 'p' }])).toBe(true);
  expect(await store.addDevice(someDevice(B, 'ann'), [{ keyId: 1, publicKey: 'p' }], someList('ann', [A, B], 2), 3)).toEqual({ status: 'added', removed: [] });
  return store;
}

describe('device lists in the store', () => {
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
});
