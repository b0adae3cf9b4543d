/**
 * The cluster-mode blob store: records in `attachments`, bytes in `attachment_chunks` rows of up
 * to 1 MiB (PostgreSQL migration 5), so every node serves every blob and nothing lives on a
 * node's disk. Its own small pool beside the store's: a long download never holds a connection
 * a send is waiting for (each piece is one short query).
 *
 * An append buffers at most one chunk, then commits it in a transaction that moves `received`
 * from the offset it started at and inserts the chunk: a writer on another node that got there
 * first makes that UPDATE match no row, and this one stops (`conflict`). So chunks are contiguous
 * from 0 and `received` is their total, whichever node each came through; what was committed
 * before a client went away stays.
 */
import { Readable } from 'node:stream';
import { migrate } from '../store/postgres/migrations.js';
import { PgPool } from '../store/postgres/pool.js';
import { isLive, type AppendOutcome, type BlobQuota, type BlobRecord, type BlobStore, type BlobUsage, type NewBlob } from './blob-store.js';
import { blobRecordOf, expiredIdsSql, liveSql, withinQuota, type BlobRow } from './blob-rows.js';
import { CappedSource, drain } from './capped.js';

/** Bytes per chunk row: a bounded buffer per upload and a bounded row per read. */
export const PG_CHUNK_BYTES = 1024 * 1024;
/** Chunk rows per read query (4 MiB at most in memory per download). */
const ROWS_PER_READ = 4;
const SWEEP_BATCH = 100;

/** Live, in SQL (isLive), for the queries whose $1 is the owner and $2 the time. */
const LIVE = liveSql('$2');

interface ChunkRow {
  start_offset: number;
  data: Buffer;
}

export class PgBlobStore implements BlobStore {
  readonly #pool: PgPool;

  private constructor(pool: PgPool) {
    this.#pool = pool;
  }

  /** Connects and applies the relay's PostgreSQL migrations (safe beside other nodes doing the same). */
  static async open(url: string, options: { maxConnections?: number } = {}): Promise<PgBlobStore> {
    const pool = new PgPool(url, { maxConnections: options.maxConnections ?? 4 });
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PgBlobStore(pool);
  }

  create(blob: NewBlob, quota: BlobQuota, now: number): Promise<'created' | 'quota_exceeded'> {
    return this.#pool.transaction(async (client) => {
      // Serializes the owner's creations across nodes: the count read below stays true until COMMIT.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`sealpost-attachments:${blob.owner}`]);
      const used = await client.query<{ blobs: number; bytes: number }>(
        `SELECT count(*) AS blobs, coalesce(sum(size), 0)::bigint AS bytes FROM attachments WHERE owner = $1 AND ${LIVE}`,
        [blob.owner, now],
      );
      if (!withinQuota(used.rows[0] ?? { blobs: 0, bytes: 0 }, blob.size, quota)) return 'quota_exceeded';
      await client.query(
        'INSERT INTO attachments (id, owner, size, received, expires_at, upload_expires_at, token_hash) VALUES ($1, $2, $3, 0, $4, $5, $6)',
        [blob.id, blob.owner, blob.size, blob.expiresAt, blob.uploadExpiresAt, blob.tokenHash],
      );
      return 'created';
    });
  }

  async stat(id: string, now: number): Promise<BlobRecord | undefined> {
    const [row] = await this.#pool.query<BlobRow>({ text: 'SELECT * FROM attachments WHERE id = $1', values: [id] });
    if (!row) return undefined;
    const record = blobRecordOf(row);
    return isLive(record, now) ? record : undefined;
  }

  async append(id: string, offset: number, source: AsyncIterable<Uint8Array>, limit: number, now: number): Promise<AppendOutcome> {
    const record = await this.stat(id, now);
    const capped = new CappedSource(source, record ? Math.max(0, Math.min(limit, record.size - record.received)) : 0);
    if (!record || record.received !== offset) {
      await drain(capped);
      return record ? { status: 'conflict', received: record.received } : { status: 'not_found' };
    }
    const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(PG_CHUNK_BYTES, record.size - offset)));
    let filled = 0;
    let at = offset;
    let lost = false;
    let failure: unknown;
    const flush = async (): Promise<void> => {
      if (filled === 0 || lost) return;
      lost = !(await this.#commitChunk(id, at, buffer.subarray(0, filled), now));
      if (!lost) at += filled;
      filled = 0;
    };
    try {
      for await (const chunk of capped) {
        if (lost || failure !== undefined) continue; // keep reading the body; answered once it is in
        for (let i = 0; i < chunk.byteLength; ) {
          const n = Math.min(buffer.length - filled, chunk.byteLength - i);
          buffer.set(chunk.subarray(i, i + n), filled);
          filled += n;
          i += n;
          if (filled === buffer.length) await flush().catch((error: unknown) => (failure = error));
          if (lost || failure !== undefined) break;
        }
      }
    } finally {
      // The bytes of a body cut off mid-way are kept too (resumed with HEAD).
      if (failure === undefined) await flush();
    }
    if (failure !== undefined) throw failure;
    if (lost) {
      const current = await this.stat(id, now);
      return current ? { status: 'conflict', received: current.received } : { status: 'not_found' };
    }
    return capped.overflowed ? { status: 'too_large', received: at } : { status: 'appended', received: at };
  }

  /** Commits one chunk at `start` if the blob's `received` is still `start`; false when another writer moved it or it is gone. */
  #commitChunk(id: string, start: number, data: Buffer, now: number): Promise<boolean> {
    return this.#pool.transaction(async (client) => {
      // An append runs only on an unfinished blob: live means unexpired and within its upload window.
      const moved = await client.query(
        'UPDATE attachments SET received = received + $3 WHERE id = $1 AND received = $2 AND expires_at > $4 AND upload_expires_at > $4',
        [id, start, data.length, now],
      );
      if (moved.rowCount !== 1) return false;
      await client.query('INSERT INTO attachment_chunks (attachment_id, start_offset, data) VALUES ($1, $2, $3)', [id, start, data]);
      return true;
    });
  }

  async read(id: string, start: number, end: number): Promise<Readable | undefined> {
    // The row holding `start`, found before answering: a blob deleted meanwhile is a 404.
    const [first] = await this.#pool.query<{ start: number | null }>({
      text: 'SELECT max(start_offset) AS start FROM attachment_chunks WHERE attachment_id = $1 AND start_offset <= $2',
      values: [id, start],
    });
    if (first?.start === null || first?.start === undefined) return undefined;
    return Readable.from(this.#pieces(id, first.start, start, end), { objectMode: false });
  }

  /** Chunk rows from `from` (the one holding `start`), a few per query, cut to [start, end). */
  async *#pieces(id: string, from: number, start: number, end: number): AsyncGenerator<Buffer> {
    let next = from;
    let at = start;
    while (at < end) {
      const rows: ChunkRow[] = await this.#pool.query<ChunkRow>({
        text: 'SELECT start_offset, data FROM attachment_chunks WHERE attachment_id = $1 AND start_offset >= $2 AND start_offset < $3 ORDER BY start_offset LIMIT $4',
        values: [id, next, end, ROWS_PER_READ],
      });
      for (const row of rows) {
        if (row.start_offset !== next) throw new Error('the blob has a gap (deleted meanwhile?)');
        const piece = row.data.subarray(Math.max(0, at - row.start_offset), Math.min(row.data.length, end - row.start_offset));
        at = row.start_offset + Math.min(row.data.length, end - row.start_offset);
        next = row.start_offset + row.data.length;
        yield piece;
      }
      if (rows.length === 0) throw new Error('the blob ends early (deleted meanwhile?)');
    }
  }

  async delete(id: string): Promise<boolean> {
    // Its chunks go with it (ON DELETE CASCADE).
    const rows = await this.#pool.query({ text: 'DELETE FROM attachments WHERE id = $1 RETURNING id', values: [id] });
    return rows.length === 1;
  }

  async sweepExpired(now: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const rows = await this.#pool.query({
        text: `DELETE FROM attachments WHERE id IN (${expiredIdsSql('$1', '$2')}) RETURNING id`,
        values: [now, SWEEP_BATCH],
      });
      deleted += rows.length;
      if (rows.length < SWEEP_BATCH) return deleted;
    }
  }

  async usage(owner: string, now: number): Promise<BlobUsage> {
    const [row] = await this.#pool.query<{ blobs: number; bytes: number }>({
      text: `SELECT count(*) AS blobs, coalesce(sum(size), 0)::bigint AS bytes FROM attachments WHERE owner = $1 AND ${LIVE}`,
      values: [owner, now],
    });
    return { blobs: row?.blobs ?? 0, bytes: row?.bytes ?? 0 };
  }

  async stats(): Promise<BlobUsage> {
    const [row] = await this.#pool.query<{ blobs: number; bytes: number }>({
      text: 'SELECT count(*) AS blobs, coalesce(sum(received), 0)::bigint AS bytes FROM attachments',
    });
    return { blobs: row?.blobs ?? 0, bytes: row?.bytes ?? 0 };
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
