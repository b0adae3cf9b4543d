/**
 * A retired queue-log file is never synced after it is closed. Under full-batch load a checkpoint
 * retires the log file while group commits keep asking `durable()`. A file that grew past twice
 * its preallocation is closed and then unlinked (off the event loop, which takes a while for a
 * large file), and it used to stay among the files `durable()` syncs until the unlink finished:
 * a batch committed in that window got an fdatasync on a closed descriptor (EBADF, or EINVAL once
 * the number was reused by a socket) and its sender was answered `internal`.
 *
 * The store is driven the way the group commit drives it (enqueue, then durable() at once, every
 * check phase) with the real fdatasync behind the syncFile seam, recording every refused sync.
 */
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { queueLogFiles } from '../../server/store/sqlite/log-files.js';
import { someAccount, someDevice } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-retired-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const badSyncs: string[] = [];
const recordingSync = (fd: number): Promise<void> =>
  new Promise((resolve, reject) =>
    fdatasync(fd, (error) => {
      if (error) {
        badSyncs.push(error.code ?? error.message);
        reject(error);
      } else resolve();
    }),
  );

const checkPhase = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const LIMITS = { maxEnvelopes: 1_000_000, maxBytes: 2 ** 40 };

describe('retired queue-log files', () => {
  it('are never synced once closed: every batch committed while a large file is retired is durable', async () => {
    const db = join(dir, 'sealpost.db');
    const store = new SqliteStore(db, { syncFile: recordingSync });
    const to = 'device-a';
    expect(await store.createAccount(someAccount('alice', to), someDevice(to, 'alice'), [])).toBe(true);
    const batch = (n: number, size: number) => Array.from({ length: n }, () => ({ to, id: randomBytes(16).toString('base64url'), body: randomBytes(size), expiresAt: Date.now() + 60_000 }));

    const failures: unknown[] = [];
    const commit = async (n: number, size: number): Promise<void> => {
      await store.enqueue(batch(n, size), LIMITS);
      await store.durable().catch((error: unknown) => void failures.push(error));
    };
    // Let the first spare be prepared, so the checkpoint below can rotate at once.
    await new Promise((resolve) => setTimeout(resolve, 500));
    // 20 MiB in one batch: past twice the preallocation, so the retired file is deleted, not reused.
    await commit(320, 64 * 1024);
    // Small batches every check phase while the checkpoint retires and unlinks that file.
    const until = Date.now() + 1000;
    while (Date.now() < until) {
      void commit(1, 256);
      await checkPhase();
    }
    await store.durable().catch((error: unknown) => void failures.push(error));
    expect({ failures: failures.map(String), badSyncs }).toEqual({ failures: [], badSyncs: [] });
    expect(queueLogFiles(db).length).toBeLessThanOrEqual(2);
    expect(await store.isWritable()).toBe(true);
    await store.close();
  });
});
