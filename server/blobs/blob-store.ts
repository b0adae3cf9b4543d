/**
 * The attachment blob store's seam: opaque encrypted blobs under random ids, uploaded in pieces at
 * increasing offsets, read back by byte range, deleted at expiry. Two implementations keep to one
 * contract (test/relay/attachments-store.test.ts): FsBlobStore (files beside the SQLite database,
 * the embedded default) and PgBlobStore (chunked bytea rows, cluster mode).
 *
 * What a blob's record holds is all the relay knows of an attachment (SECURITY.md "What the relay
 * still sees"): its id, declared size, bytes received, expiry times, the owning account (for
 * quotas only) and a hash of its upload token. Never a key, a file name or a content type: the
 * client encrypts and pads before it uploads.
 *
 * Offsets are the one rule of the upload: an append starts exactly at `received`, and `received`
 * is recorded only after the bytes under it are stored (synced to disk, or committed), so a
 * resumed upload never finds a hole or a byte it did not send. At most one append runs per blob;
 * another is told `conflict` with the offset to resume from.
 */
import type { Readable } from 'node:stream';

export interface BlobRecord {
  /** base64url of 32 random bytes: the capability to download it once complete. */
  id: string;
  /** Handle of the account whose device created it: quotas are per account. */
  owner: string;
  /** Bytes the client declared (encrypted and padded); the upload is complete at `received === size`. */
  size: number;
  /** Bytes stored so far, from offset 0. */
  received: number;
  /** When the blob expires (creation + --attachment-ttl-ms), in ms since the epoch. */
  expiresAt: number;
  /** When an upload still unfinished is given up (creation + 24 h, at most expiresAt). */
  uploadExpiresAt: number;
  /** SHA-256 of the upload token: the token itself is never stored. */
  tokenHash: Buffer;
}

export type NewBlob = Omit<BlobRecord, 'received'>;

export interface BlobQuota {
  /** Live blobs one account may hold, unfinished uploads included. */
  maxBlobs: number;
  /** Sum of their declared sizes. */
  maxBytes: number;
}

export interface BlobUsage {
  blobs: number;
  bytes: number;
}

export type AppendOutcome =
  /** Every byte of the source was stored. */
  | { status: 'appended'; received: number }
  /** The source held more than the limit: the bytes up to it were stored, the rest dropped. */
  | { status: 'too_large'; received: number }
  /** `offset` is not the blob's `received`, or another append to it is running: nothing stored. */
  | { status: 'conflict'; received: number }
  /** No live blob with this id (unknown, expired, or deleted meanwhile). */
  | { status: 'not_found' };

export interface BlobStore {
  /**
   * Records a new, empty blob unless its owner's live blobs with this one would exceed the quota
   * (count or bytes); the check and the insert are one atomic step, also across cluster nodes.
   */
  create(blob: NewBlob, quota: BlobQuota, now: number): Promise<'created' | 'quota_exceeded'>;
  /** The blob's record while it is live (see isLive), else undefined. */
  stat(id: string, now: number): Promise<BlobRecord | undefined>;
  /**
   * Stores the bytes of `source` at `offset`, at most `limit` of them and never past `size`.
   * Reads the source to its end (so an HTTP request body is consumed and its connection can carry
   * the reply): bytes beyond the limit are dropped and the outcome is `too_large`. If the source
   * fails (a client gone mid-body), the bytes that arrived are kept and recorded, and the source's
   * error is rethrown.
   */
  append(id: string, offset: number, source: AsyncIterable<Uint8Array>, limit: number, now: number): Promise<AppendOutcome>;
  /**
   * The bytes [start, end) of a blob as a stream, read a piece at a time (never the whole blob in
   * memory); undefined when its bytes are gone (deleted since the caller's stat()). The caller
   * checked with stat() that the blob is complete; one deleted while it streams ends the stream
   * with an error.
   */
  read(id: string, start: number, end: number): Promise<Readable | undefined>;
  /** Deletes the blob and its bytes; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Deletes every expired blob and every unfinished upload past its window, with their bytes. Returns how many. */
  sweepExpired(now: number): Promise<number>;
  /** The owner's live blobs: how many, and the sum of their declared sizes. */
  usage(owner: string, now: number): Promise<BlobUsage>;
  /** Every blob held (live or awaiting the sweeper) and the bytes received of them, for metrics. */
  stats(): Promise<BlobUsage>;
  close(): Promise<void>;
}

/** Whether a record is served: unexpired, and complete or still within its upload window. */
export function isLive(record: Pick<BlobRecord, 'size' | 'received' | 'expiresAt' | 'uploadExpiresAt'>, now: number): boolean {
  return record.expiresAt > now && (record.received === record.size || record.uploadExpiresAt > now);
}
