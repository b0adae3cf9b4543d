/**
 * The embedded blob store: each blob's bytes in one file, `<root>/<id[0..2]>/<id>` (root =
 * `<dir of --db>/blobs`; the two-character folders keep any one directory small), its record in
 * `<root>/blobs.db` (fs-blob-meta.ts). Files and folders are owner-only (0600/0700).
 *
 * An append truncates the file to the recorded offset (dropping what a crash left past it), writes
 * what arrives, fsyncs, and only then records the new offset: the record never claims a byte the
 * disk may not hold. One process serves this store, so "one append per blob" is a set of busy ids
 * in memory; the sweeper leaves busy blobs alone until their append ends.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdir, open, rm, statfs, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { StoreUnavailableError } from '../store/store.js';
import { isLive, type AppendOutcome, type BlobQuota, type BlobRecord, type BlobStore, type BlobUsage, type NewBlob } from './blob-store.js';
import { CappedSource, drain } from './capped.js';
import { FsBlobMeta } from './fs-blob-meta.js';

const ID = /^[A-Za-z0-9_-]{43}$/;
/** Rows the sweeper takes per round; it loops until none are left. */
const SWEEP_BATCH = 500;

export interface FsBlobStoreOptions {
  /** Free space to keep on the blobs' disk: a new blob that would eat into it is refused `unavailable`. */
  minFreeBytes?: number;
}

export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #meta: FsBlobMeta;
  readonly #minFreeBytes: number;
  readonly #busy = new Set<string>();
  /** A temporary root (a relay on `:memory:`) is removed on close. */
  readonly #temporary: boolean;

  private constructor(root: string, temporary: boolean, options: FsBlobStoreOptions) {
    this.#root = root;
    this.#temporary = temporary;
    this.#minFreeBytes = options.minFreeBytes ?? 0;
    this.#meta = new FsBlobMeta(join(root, 'blobs.db'));
  }

  /** Opens (creating) the store in `root`. */
  static open(root: string, options: FsBlobStoreOptions = {}): FsBlobStore {
    mkdirSync(root, { recursive: true, mode: 0o700 });
    return new FsBlobStore(root, false, options);
  }

  /** A store in a new temporary folder, deleted on close (tests, and a relay whose database is `:memory:`). */
  static temporary(options: FsBlobStoreOptions = {}): FsBlobStore {
    return new FsBlobStore(mkdtempSync(join(tmpdir(), 'sealpost-blobs-')), true, options);
  }

  get root(): string {
    return this.#root;
  }

  /** Where a blob's bytes live. Ids are checked here too: a path is never built from anything else. */
  pathOf(id: string): string {
    if (!ID.test(id)) throw new Error('not a blob id');
    return join(this.#root, id.slice(0, 2), id);
  }

  async create(blob: NewBlob, quota: BlobQuota, now: number): Promise<'created' | 'quota_exceeded'> {
    if (this.#minFreeBytes > 0) {
      const disk = await statfs(this.#root);
      if (disk.bavail * disk.bsize - blob.size < this.#minFreeBytes) throw new StoreUnavailableError('the disk holding attachments is below its free-space reserve');
    }
    this.pathOf(blob.id); // refuses an id that could not name a file here
    return this.#meta.insertWithinQuota(blob, quota, now) ? 'created' : 'quota_exceeded';
  }

  async stat(id: string, now: number): Promise<BlobRecord | undefined> {
    const record = this.#meta.get(id);
    return record && isLive(record, now) ? record : undefined;
  }

  async append(id: string, offset: number, source: AsyncIterable<Uint8Array>, limit: number, now: number): Promise<AppendOutcome> {
    const record = await this.stat(id, now);
    const capped = new CappedSource(source, record ? Math.max(0, Math.min(limit, record.size - record.received)) : 0);
    if (!record || this.#busy.has(id) || record.received !== offset) {
      await drain(capped);
      return record ? { status: 'conflict', received: record.received } : { status: 'not_found' };
    }
    this.#busy.add(id);
    try {
      return await this.#write(record, capped);
    } finally {
      this.#busy.delete(id);
    }
  }

  async #write(record: BlobRecord, capped: CappedSource): Promise<AppendOutcome> {
    const path = this.pathOf(record.id);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    // O_APPEND after truncating to the recorded offset: every write lands at the end, which is the offset.
    const file = await open(path, 'a', 0o600);
    let written = 0;
    let failure: unknown;
    try {
      await file.truncate(record.received);
      for await (const chunk of capped) {
        if (failure !== undefined) continue; // keep reading the body; the error is answered once it is in
        try {
          await writeAll(file, chunk);
          written += chunk.byteLength;
        } catch (error) {
          failure = error;
        }
      }
    } finally {
      // The bytes that arrived count, also when the client went away mid-body: synced, then recorded.
      await this.#commit(record, file, written);
    }
    if (failure !== undefined) throw diskFailure(failure);
    const received = record.received + written;
    return capped.overflowed ? { status: 'too_large', received } : { status: 'appended', received };
  }

  async #commit(record: BlobRecord, file: FileHandle, written: number): Promise<void> {
    try {
      if (written > 0) {
        await file.sync();
        this.#meta.setReceived(record.id, record.received, record.received + written);
      }
    } finally {
      await file.close();
    }
  }

  async read(id: string, start: number, end: number): Promise<Readable | undefined> {
    let file: FileHandle;
    try {
      file = await open(this.pathOf(id), 'r');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    }
    // Open before answering: a file swept meanwhile is a 404, not a reply that breaks off.
    return file.createReadStream({ start, end: end - 1 });
  }

  async delete(id: string): Promise<boolean> {
    // Bytes first: a crash in between leaves a record the next sweep deletes, never an orphaned file.
    await rm(this.pathOf(id), { force: true });
    return this.#meta.delete(id);
  }

  async sweepExpired(now: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const ids = this.#meta.expiredIds(now, SWEEP_BATCH).filter((id) => !this.#busy.has(id));
      for (const id of ids) if (await this.delete(id)) deleted += 1;
      if (ids.length < SWEEP_BATCH) return deleted;
    }
  }

  async usage(owner: string, now: number): Promise<BlobUsage> {
    return this.#meta.usage(owner, now);
  }

  async stats(): Promise<BlobUsage> {
    return this.#meta.stats();
  }

  async close(): Promise<void> {
    this.#meta.close();
    if (this.#temporary) rmSync(this.#root, { recursive: true, force: true });
  }
}

/** FileHandle.write may write less than asked: loop until the chunk is on its way to disk. */
async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let done = 0;
  while (done < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, done, chunk.byteLength - done);
    done += bytesWritten;
  }
}

/** A full disk is `unavailable` (the same upload succeeds once space returns); anything else is a failure. */
function diskFailure(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new StoreUnavailableError('the disk holding attachments is full', { cause: error }) : error;
}
