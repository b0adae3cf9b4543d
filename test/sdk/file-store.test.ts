/**
 * The Node file store: a snapshot plus an append-only journal. What a batch commits survives a
 * reopen; a torn last line (a crash mid-append) is cut and everything before it kept; the
 * journal is folded into the snapshot when it grows; concurrent batches share one flush but
 * each lands whole.
 */
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FilePersistence } from '../../client/sdk/node.js';
import { LocalStore } from '../../client/sdk/store/local-store.js';
import { tempDir } from './helpers.js';

const dirs = tempDir('sealpost-file-store-');
afterAll(() => dirs.remove());

const group = (i: number) => ({ groupId: `group-${String(i).padStart(6, '0')}`, epoch: 1, name: 'x'.repeat(200), members: ['alice', 'bob'], admins: ['alice'], updatedAt: i });

describe('the file store', () => {
  it('keeps every committed batch across a reopen, and cuts a torn last line', async () => {
    const path = join(dirs.path, 'torn');
    let store = await LocalStore.open(new FilePersistence(path));
    await Promise.all([1, 2, 3].map((i) => store.commit([{ collection: 'groups', key: `g${i}`, value: group(i) }])));
    await store.commit([{ collection: 'groups', key: 'g2', value: null }]);
    await store.close();
    // A crash in the middle of an append leaves half a line.
    appendFileSync(join(path, 'store.journal'), '[{"collection":"groups","key":"g9","val');
    store = await LocalStore.open(new FilePersistence(path));
    expect(store.all('groups').map((g) => g.updatedAt).sort()).toEqual([1, 3]);
    expect(readFileSync(join(path, 'store.journal'), 'utf8').endsWith('\n')).toBe(true);
    // Appends go on from the cut, and are read back.
    await store.commit([{ collection: 'groups', key: 'g4', value: group(4) }]);
    await store.close();
    store = await LocalStore.open(new FilePersistence(path));
    expect(store.all('groups').map((g) => g.updatedAt).sort()).toEqual([1, 3, 4]);
    await store.close();
  });

  it('folds a grown journal into the snapshot and reads back the same', async () => {
    const path = join(dirs.path, 'compact');
    let store = await LocalStore.open(new FilePersistence(path));
    for (let i = 0; i < 6_000; i += 100) {
      await store.commit(Array.from({ length: 100 }, (_, j) => ({ collection: 'groups' as const, key: `g${i + j}`, value: group(i + j) })));
    }
    await store.close();
    // ~1.8 MB written in all: the journal passed 1 MiB once and was folded into the snapshot.
    expect(statSync(join(path, 'store.json')).size).toBeGreaterThan(500_000);
    expect(statSync(join(path, 'store.journal')).size).toBeLessThan(statSync(join(path, 'store.json')).size);
    store = await LocalStore.open(new FilePersistence(path));
    expect(store.count('groups')).toBe(6_000);
    expect(store.get('groups', 'g5999')?.updatedAt).toBe(5999);
    await store.close();
  });
});
