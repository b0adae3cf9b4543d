/**
 * One contract for every BlobStore (server/blobs/blob-store.ts), run against FsBlobStore (files
 * and blobs.db in a temporary folder) and PgBlobStore (a throwaway PostgreSQL, a fresh database
 * per test). `bytesHeld` looks behind each store, so "deleted with its bytes" is checked where the
 * bytes really are.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BlobStore, NewBlob } from '../../server/blobs/blob-store.js';
import { FsBlobStore } from '../../server/blobs/fs-blob-store.js';
import { PG_CHUNK_BYTES, PgBlobStore } from '../../server/blobs/pg-blob-store.js';
import { newSecret, tokenHash } from '../../server/blobs/tokens.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

let cluster: TestPostgres;
beforeAll(async () => {
  cluster = await startTestPostgres();
});
afterAll(async () => {
  await cluster?.stop();
});

interface Subject {
  store: BlobStore;
  /** Bytes of the blob the store still holds underneath (file length, chunk rows), 0 when none. */
  bytesHeld(id: string): Promise<number>;
  close(): Promise<void>;
}

const SUBJECTS: { name: string; open: () => Promise<Subject> }[] = [
  {
    name: 'FsBlobStore',
    open: async () => {
      const store = FsBlobStore.temporary();
      return {
        store,
        bytesHeld: async (id) => (existsSync(store.pathOf(id)) ? statSync(store.pathOf(id)).size : 0),
        close: () => store.close(),
      };
    },
  },
  {
    name: 'PgBlobStore',
    open: async () => {
      const url = await cluster.createDatabase();
      const store = await PgBlobStore.open(url);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      return {
        store,
        bytesHeld: async (id) => Number((await client.query('SELECT coalesce(sum(octet_length(data)), 0) AS n FROM attachment_chunks WHERE attachment_id = $1', [id])).rows[0].n),
        close: async () => {
          await client.end();
          await store.close();
        },
      };
    },
  },
];

const ROOMY = { maxBlobs: 100, maxBytes: 1e12 };
const HOUR = 3600_000;
const T0 = 1_700_000_000_000;

function blob(size: number, o: Partial<NewBlob> = {}): NewBlob {
  return { id: newSecret(), owner: 'ann', size, expiresAt: T0 + 30 * 24 * HOUR, uploadExpiresAt: T0 + 24 * HOUR, tokenHash: tokenHash(newSecret()), ...o };
}

/** A source of these pieces, each after a tick (as a socket delivers them); `fail` throws after them. */
async function* pieces(parts: Uint8Array[], fail?: Error): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await new Promise((r) => setImmediate(r));
    yield part;
  }
  if (fail) throw fail;
}

async function readAll(opened: Promise<Readable | undefined>): Promise<Buffer> {
  const stream = await opened;
  expect(stream, 'the blob\'s bytes').toBeDefined();
  const chunks: Buffer[] = [];
  for await (const chunk of stream!) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.each(SUBJECTS)('BlobStore contract: $name', ({ open }) => {
  let s: Subject;
  let store: BlobStore;
  beforeEach(async () => {
    s = await open();
    store = s.store;
  });
  afterEach(async () => {
    await s.close();
  });

  async function stored(bytes: Uint8Array, splits: number[] = [bytes.length]): Promise<NewBlob> {
    const b = blob(bytes.length);
    expect(await store.create(b, ROOMY, T0)).toBe('created');
    let at = 0;
    for (const n of splits) {
      expect(await store.append(b.id, at, pieces([bytes.subarray(at, at + n)]), 1e9, T0)).toEqual({ status: 'appended', received: at + n });
      at += n;
    }
    return b;
  }

  it('creates an empty blob and reports it live until its expiry', async () => {
    const b = blob(10);
    expect(await store.create(b, ROOMY, T0)).toBe('created');
    expect(await store.stat(b.id, T0)).toEqual({ ...b, received: 0 });
    expect(await store.stat('B'.repeat(43), T0)).toBeUndefined();
    // Unfinished: gone from view when its upload window ends.
    expect(await store.stat(b.id, b.uploadExpiresAt - 1)).toBeDefined();
    expect(await store.stat(b.id, b.uploadExpiresAt)).toBeUndefined();
    // Complete: served past the upload window, until the blob's own expiry.
    const done = await stored(new Uint8Array(5).fill(7));
    expect((await store.stat(done.id, done.uploadExpiresAt + 1))?.received).toBe(5);
    expect(await store.stat(done.id, done.expiresAt)).toBeUndefined();
  });

  it('appends at increasing offsets and reads the blob whole and by ranges, across chunk boundaries', async () => {
    const bytes = randomBytes(2 * PG_CHUNK_BYTES + 12_345);
    const b = await stored(bytes, [1, PG_CHUNK_BYTES - 1, PG_CHUNK_BYTES + 7, 12_338]);
    expect((await readAll(store.read(b.id, 0, bytes.length))).equals(bytes)).toBe(true);
    for (const [start, end] of [
      [0, 1],
      [PG_CHUNK_BYTES - 3, PG_CHUNK_BYTES + 3],
      [5, 2 * PG_CHUNK_BYTES + 10],
      [bytes.length - 1, bytes.length],
    ] as const) {
      expect((await readAll(store.read(b.id, start, end))).equals(bytes.subarray(start, end)), `${start}-${end}`).toBe(true);
    }
    expect(await s.bytesHeld(b.id)).toBe(bytes.length);
  });

  it('refuses an append at another offset than the bytes received, storing nothing, and reads its source to the end', async () => {
    const b = await stored(new Uint8Array(10), [4]);
    for (const offset of [0, 3, 5]) {
      let consumed = false;
      const source = (async function* () {
        yield* pieces([new Uint8Array(3)]);
        consumed = true;
      })();
      expect(await store.append(b.id, offset, source, 1e9, T0)).toEqual({ status: 'conflict', received: 4 });
      expect(consumed).toBe(true);
    }
    expect(await store.append('C'.repeat(43), 0, pieces([new Uint8Array(1)]), 1e9, T0)).toEqual({ status: 'not_found' });
    expect((await store.stat(b.id, T0))?.received).toBe(4);
    expect(await s.bytesHeld(b.id)).toBe(4);
  });

  it('keeps bytes up to the declared size or the limit and answers too_large', async () => {
    const b = blob(10);
    await store.create(b, ROOMY, T0);
    expect(await store.append(b.id, 0, pieces([new Uint8Array(4).fill(1), new Uint8Array(4).fill(2)]), 6, T0)).toEqual({ status: 'too_large', received: 6 });
    expect(await store.append(b.id, 6, pieces([new Uint8Array(3).fill(3), new Uint8Array(3).fill(4)]), 1e9, T0)).toEqual({ status: 'too_large', received: 10 });
    expect(await store.append(b.id, 10, pieces([new Uint8Array(1)]), 1e9, T0)).toEqual({ status: 'too_large', received: 10 });
    expect(await store.append(b.id, 10, pieces([]), 1e9, T0)).toEqual({ status: 'appended', received: 10 });
    expect([...(await readAll(store.read(b.id, 0, 10)))]).toEqual([1, 1, 1, 1, 2, 2, 3, 3, 3, 4]);
  });

  it('keeps what arrived before its source failed, rethrows, and resumes from there', async () => {
    const bytes = randomBytes(PG_CHUNK_BYTES + 1000);
    const b = blob(bytes.length);
    await store.create(b, ROOMY, T0);
    const cut = new Error('client went away');
    const first = bytes.subarray(0, PG_CHUNK_BYTES + 10);
    await expect(store.append(b.id, 0, pieces([first.subarray(0, 100), first.subarray(100)], cut), 1e9, T0)).rejects.toBe(cut);
    expect((await store.stat(b.id, T0))?.received).toBe(first.length);
    expect(await store.append(b.id, first.length, pieces([bytes.subarray(first.length)]), 1e9, T0)).toEqual({ status: 'appended', received: bytes.length });
    expect((await readAll(store.read(b.id, 0, bytes.length))).equals(bytes)).toBe(true);
  });

  it('lets one of two appends at the same offset through and tells the other conflict', async () => {
    const bytes = randomBytes(2 * PG_CHUNK_BYTES);
    const b = blob(bytes.length);
    await store.create(b, ROOMY, T0);
    const slow = (fill: number) => pieces(Array.from({ length: 8 }, () => new Uint8Array(PG_CHUNK_BYTES / 4).fill(fill)));
    const outcomes = await Promise.all([store.append(b.id, 0, slow(1), 1e9, T0), store.append(b.id, 0, slow(2), 1e9, T0)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['appended', 'conflict']);
    const winner = outcomes[0]!.status === 'appended' ? 1 : 2;
    expect((await readAll(store.read(b.id, 0, bytes.length))).every((x) => x === winner)).toBe(true);
  });

  it('counts an owner\'s live blobs and declared bytes against the quota, atomically', async () => {
    const quota = { maxBlobs: 3, maxBytes: 100 };
    expect(await store.create(blob(60), quota, T0)).toBe('created');
    expect(await store.create(blob(41), quota, T0)).toBe('quota_exceeded');
    expect(await store.create(blob(40), quota, T0)).toBe('created');
    expect(await store.usage('ann', T0)).toEqual({ blobs: 2, bytes: 100 });
    expect(await store.create(blob(1, { owner: 'bob' }), quota, T0)).toBe('created');
    // Racing creations cannot share the last slot.
    const racing = await Promise.all(Array.from({ length: 6 }, () => store.create(blob(1, { owner: 'cy' }), quota, T0)));
    expect(racing.filter((o) => o === 'created')).toHaveLength(3);
    // Expired and abandoned blobs no longer count.
    const later = T0 + 24 * HOUR;
    expect(await store.usage('ann', later)).toEqual({ blobs: 0, bytes: 0 });
    expect(await store.create(blob(100, { expiresAt: later + 30 * 24 * HOUR, uploadExpiresAt: later + 24 * HOUR }), quota, later)).toBe('created');
  });

  it('sweeps expired blobs and abandoned uploads with their bytes, keeping the rest', async () => {
    const complete = await stored(new Uint8Array(8).fill(1));
    const unfinished = blob(8);
    await store.create(unfinished, ROOMY, T0);
    await store.append(unfinished.id, 0, pieces([new Uint8Array(3)]), 1e9, T0);
    const shortLived = await stored(new Uint8Array(4));
    expect(await store.stats()).toEqual({ blobs: 3, bytes: 15 });

    expect(await store.sweepExpired(T0 + HOUR)).toBe(0);
    expect(await store.sweepExpired(T0 + 24 * HOUR)).toBe(1);
    expect(await store.stat(unfinished.id, T0)).toBeUndefined();
    expect(await s.bytesHeld(unfinished.id)).toBe(0);
    expect((await store.stat(complete.id, T0 + 24 * HOUR))?.received).toBe(8);

    expect(await store.delete(shortLived.id)).toBe(true);
    expect(await store.delete(shortLived.id)).toBe(false);
    expect(await s.bytesHeld(shortLived.id)).toBe(0);
    // A reader that checked before the delete finds no bytes (answered 404), not a broken stream.
    expect(await store.read(shortLived.id, 0, 4)).toBeUndefined();

    expect(await store.sweepExpired(complete.expiresAt)).toBe(1);
    expect(await s.bytesHeld(complete.id)).toBe(0);
    expect(await store.stats()).toEqual({ blobs: 0, bytes: 0 });
  });
});

describe('FsBlobStore', () => {
  it('keeps exactly the uploaded bytes in an owner-only file, and drops what a crash left past the recorded offset', async () => {
    const store = FsBlobStore.temporary();
    try {
      const b = blob(10);
      await store.create(b, ROOMY, T0);
      await store.append(b.id, 0, pieces([Buffer.from('abcd')]), 1e9, T0);
      const path = store.pathOf(b.id);
      expect(path.endsWith(`/${b.id.slice(0, 2)}/${b.id}`)).toBe(true);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // A crash after a write and before its offset was recorded.
      writeFileSync(path, 'abcdXYZ');
      await store.append(b.id, 4, pieces([Buffer.from('efghij')]), 1e9, T0);
      expect(readFileSync(path, 'utf8')).toBe('abcdefghij');
      expect(() => store.pathOf('../../etc/passwd')).toThrow();
    } finally {
      await store.close();
    }
    expect(existsSync(store.root)).toBe(false);
  });
});
