/**
 * What the two blob stores' record tables share: the same `attachments` columns in SQLite
 * (fs-blob-meta.ts) and PostgreSQL (pg-blob-store.ts), so one row shape and mapping to
 * BlobRecord, one quota rule, and one way of saying in SQL which blobs are live or due for the
 * sweeper. The SQL takes the driver's placeholders (`@now` for better-sqlite3, `$2` for pg), so
 * both stores decide exactly as isLive() does.
 */
import type { BlobQuota, BlobRecord, BlobUsage } from './blob-store.js';

/** A row of `attachments` as both drivers return it. */
export interface BlobRow {
  id: string;
  owner: string;
  size: number;
  received: number;
  expires_at: number;
  upload_expires_at: number;
  token_hash: Buffer;
}

export function blobRecordOf(row: BlobRow): BlobRecord {
  return {
    id: row.id,
    owner: row.owner,
    size: row.size,
    received: row.received,
    expiresAt: row.expires_at,
    uploadExpiresAt: row.upload_expires_at,
    tokenHash: row.token_hash,
  };
}

/** Whether the owner's live blobs (`used`) plus a new one of `size` bytes stay within the quota. */
export function withinQuota(used: BlobUsage, size: number, quota: BlobQuota): boolean {
  return used.blobs + 1 <= quota.maxBlobs && used.bytes + size <= quota.maxBytes;
}

/** isLive() in SQL, `now` being the placeholder of the time: unexpired, and complete or within its upload window. */
export function liveSql(now: string): string {
  return `expires_at > ${now} AND (received = size OR upload_expires_at > ${now})`;
}

/** Ids of up to `limit` blobs the sweeper deletes: expired, or unfinished past their upload window. */
export function expiredIdsSql(now: string, limit: string): string {
  return `SELECT id FROM attachments WHERE expires_at <= ${now} UNION SELECT id FROM attachments WHERE received < size AND upload_expires_at <= ${now} LIMIT ${limit}`;
}
