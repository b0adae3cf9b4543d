/**
 * The queue half of the PostgreSQL store: envelopes, their per-device sequence numbers, acks,
 * expiry and the totals the quotas and metrics read.
 *
 * Sequence numbers, when several relay processes enqueue for one device at once. `enqueue` is
 * one transaction: it locks the recipients' device rows (SELECT … FOR NO KEY UPDATE, in device
 * id order), takes each device's numbers from its `next_seq`, inserts the envelopes, writes the
 * new `next_seq` and totals, and commits. Another transaction for the same device waits on that
 * row until the commit and only then reads `next_seq` (READ COMMITTED re-reads a row it waited
 * for), so per device:
 * - numbers are contiguous and never reused — each transaction starts where the last committed
 *   one ended, and one that rolls back wrote no `next_seq` either;
 * - commit order equals sequence order — a transaction holding numbers above N could not read
 *   `next_seq` before the one holding N committed — so a reader that sees envelope N sees every
 *   earlier envelope of that device, and a gap seen by the node that pushes means "not yet
 *   read", never "lost";
 * - the transaction is answered after COMMIT returned, which with synchronous_commit = on is
 *   after PostgreSQL flushed it (durable(), in postgres-store.ts, has nothing left to wait for).
 *
 * Lock order, followed by every write of this store so that no two wait on each other in a
 * cycle: an account row, then device rows in device id order, then queue and prekey rows.
 * NO KEY UPDATE rather than UPDATE: it still excludes other queue writers of the device, but
 * lets prekey uploads for it through (their foreign-key check takes only a KEY SHARE lock).
 */
import type pg from 'pg';
import type { EnqueueItem, EnqueueOutcome, QueueLimits, QueuedEnvelope, QueueStats, RelayStats } from '../store.js';
import { AckBatch } from './ack-batch.js';
import type { PgPool } from './pool.js';

export const QUEUE_SQL = {
  lockDevices: `SELECT device_id, next_seq, queue_count, queue_bytes FROM devices
                WHERE device_id = ANY($1::text[]) ORDER BY device_id FOR NO KEY UPDATE`,
  // Run after the locks are held, so it sees every envelope committed for these devices.
  queuedIds: `SELECT q.device_id, q.envelope_id FROM queue q
              JOIN unnest($1::text[], $2::text[]) AS t(device_id, envelope_id) USING (device_id, envelope_id)`,
  totalBytes: 'SELECT COALESCE(sum(queue_bytes), 0)::bigint AS bytes FROM devices',
  // Absolute values: this transaction has held the rows' locks since it read them.
  advance: `UPDATE devices AS d SET next_seq = v.next_seq, queue_count = v.count, queue_bytes = v.bytes
            FROM unnest($1::text[], $2::bigint[], $3::integer[], $4::bigint[]) AS v(device_id, next_seq, count, bytes)
            WHERE d.device_id = v.device_id`,
  readQueue: `SELECT seq, envelope_id, body FROM queue
              WHERE device_id = $1 AND seq > $2 AND expires_at > $3 ORDER BY seq LIMIT $4`,
  // Acks by id and the sweep are single statements (cumulative acks: ack-batch.ts). The device
  // rows are locked (the subquery in the DELETE's condition, evaluated before any queue row can
  // match) before any queue row is deleted, as the lock order wants; the totals then drop by
  // exactly what was deleted.
  ackIds: `WITH gone AS (
             DELETE FROM queue
             WHERE device_id = (SELECT device_id FROM devices WHERE device_id = $1 FOR NO KEY UPDATE) AND envelope_id = ANY($2::text[])
             RETURNING size)
           UPDATE devices SET queue_count = queue_count - g.n, queue_bytes = queue_bytes - g.bytes
           FROM (SELECT count(*) AS n, COALESCE(sum(size), 0) AS bytes FROM gone) AS g
           WHERE device_id = $1 AND g.n > 0
           RETURNING g.n, g.bytes`,
  // ARRAY(…) runs once, first: it locks every device with an expired envelope, in id order.
  sweepExpired: `WITH gone AS (
                   DELETE FROM queue
                   WHERE expires_at <= $1 AND device_id = ANY (ARRAY(
                     SELECT device_id FROM devices
                     WHERE device_id IN (SELECT device_id FROM queue WHERE expires_at <= $1)
                     ORDER BY device_id FOR NO KEY UPDATE))
                   RETURNING device_id, size),
                 per_device AS (SELECT device_id, count(*) AS n, sum(size) AS bytes FROM gone GROUP BY device_id)
                 UPDATE devices AS d SET queue_count = d.queue_count - p.n, queue_bytes = d.queue_bytes - p.bytes
                 FROM per_device AS p WHERE d.device_id = p.device_id
                 RETURNING p.n, p.bytes`,
  queueStats: 'SELECT queue_count AS envelopes, queue_bytes AS bytes FROM devices WHERE device_id = $1',
  relayStats: `SELECT count(*) AS devices, COALESCE(sum(queue_count), 0)::bigint AS envelopes,
                      COALESCE(sum(queue_bytes), 0)::bigint AS bytes FROM devices`,
} as const;

/**
 * How long this process trusts the relay-wide queue total it read (plus what it stored since).
 * Summing every device row on each commit would cost a scan of the devices table per send; the
 * cap is soft across nodes anyway (see enqueue).
 */
const TOTAL_REFRESH_MS = 5_000;

/** Rows per INSERT: 6 parameters each, far below PostgreSQL's 65,535 per statement. */
const INSERT_ROWS = 1000;

interface LockedDevice {
  device_id: string;
  next_seq: number;
  queue_count: number;
  queue_bytes: number;
}

interface Stored {
  item: EnqueueItem;
  seq: number;
}

/** The pair as one Set key: device ids and envelope ids never contain a newline. */
const pairKey = (deviceId: string, envelopeId: string): string => `${deviceId}\n${envelopeId}`;

/** Multi-row INSERT: the bodies travel as binary parameters (Buffers), nothing else is binary. */
async function insertEnvelopes(client: pg.PoolClient, stored: readonly Stored[]): Promise<void> {
  for (let start = 0; start < stored.length; start += INSERT_ROWS) {
    const chunk = stored.slice(start, start + INSERT_ROWS);
    const values: unknown[] = [];
    const rows = chunk.map(({ item, seq }) => {
      const body = Buffer.isBuffer(item.body) ? item.body : Buffer.from(item.body.buffer, item.body.byteOffset, item.body.byteLength);
      const n = values.push(item.to, seq, item.id, body, body.byteLength, item.expiresAt);
      return `($${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    // Prepared once per connection for the common small batches; a big batch's text is one-off.
    const text = `INSERT INTO queue (device_id, seq, envelope_id, body, size, expires_at) VALUES ${rows.join(', ')}`;
    await client.query(chunk.length <= 32 ? { name: `sealpost_insert_${chunk.length}`, text, values } : { text, values });
  }
}

export class PgQueue {
  #total = { bytes: 0, readAt: -Infinity };
  readonly #acks: AckBatch;

  constructor(private readonly pool: PgPool) {
    this.#acks = new AckBatch(pool, (bytes) => {
      this.#total.bytes = Math.max(0, this.#total.bytes - bytes);
    });
  }

  /** The relay-wide queued bytes: read again at most every TOTAL_REFRESH_MS, else this process's running figure. */
  async #totalBytes(client: pg.PoolClient): Promise<number> {
    const now = Date.now();
    if (now - this.#total.readAt >= TOTAL_REFRESH_MS) {
      const bytes = (await client.query<{ bytes: number }>({ name: 'sealpost_total_bytes', text: QUEUE_SQL.totalBytes })).rows[0]?.bytes ?? 0;
      this.#total = { bytes, readAt: now };
    }
    return this.#total.bytes;
  }

  /** See the top of this file. Outcomes are decided as SqliteStore decides them. */
  enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    const deviceIds = [...new Set(items.map((i) => i.to))].sort();
    return this.pool.transaction(async (client) => {
      const locked = (await client.query<LockedDevice>({ name: 'sealpost_lock_devices', text: QUEUE_SQL.lockDevices, values: [deviceIds] })).rows;
      const devices = new Map(locked.map((d) => [d.device_id, d]));
      const queued = await this.#queuedPairs(client, items, devices);
      // The relay-wide total, read at most every few seconds (plus what this process stored since):
      // a soft cap — other nodes' enqueues and acks since the read are not counted until the next one.
      let total = limits.maxTotalBytes === undefined ? 0 : await this.#totalBytes(client);
      const stored: Stored[] = [];
      const outcomes = items.map((item): EnqueueOutcome => {
        const device = devices.get(item.to);
        if (!device) return { status: 'unknown_device' };
        const key = pairKey(item.to, item.id);
        if (queued.has(key)) return { status: 'duplicate' };
        const size = item.body.byteLength;
        if (device.queue_count + 1 > limits.maxEnvelopes || device.queue_bytes + size > limits.maxBytes) return { status: 'quota_exceeded' };
        if (limits.maxTotalBytes !== undefined && total + size > limits.maxTotalBytes) return { status: 'quota_exceeded' };
        const seq = device.next_seq++;
        device.queue_count += 1;
        device.queue_bytes += size;
        total += size;
        queued.add(key);
        stored.push({ item, seq });
        return { status: 'stored', seq };
      });
      if (stored.length === 0) return outcomes;
      await insertEnvelopes(client, stored);
      this.#total.bytes = total;
      const touched = new Set(stored.map((s) => s.item.to));
      const changed = locked.filter((d) => touched.has(d.device_id));
      await client.query({ name: 'sealpost_advance', text: QUEUE_SQL.advance, values: [changed.map((d) => d.device_id), changed.map((d) => d.next_seq), changed.map((d) => d.queue_count), changed.map((d) => d.queue_bytes)] });
      return outcomes;
    });
  }

  /** The (device, envelope id) pairs of this batch already queued; only devices with a queue are asked. */
  async #queuedPairs(client: pg.PoolClient, items: readonly EnqueueItem[], devices: ReadonlyMap<string, LockedDevice>): Promise<Set<string>> {
    const asked = items.filter((i) => (devices.get(i.to)?.queue_count ?? 0) > 0);
    if (asked.length === 0) return new Set();
    const { rows } = await client.query<{ device_id: string; envelope_id: string }>({ name: 'sealpost_queued_ids', text: QUEUE_SQL.queuedIds, values: [asked.map((i) => i.to), asked.map((i) => i.id)] });
    return new Set(rows.map((r) => pairKey(r.device_id, r.envelope_id)));
  }

  /** Envelopes deleted (by ack or expiry): counted out of the running total; returns how many. */
  #released(rows: readonly { n: number; bytes: number }[]): number {
    let n = 0;
    for (const row of rows) {
      n += Number(row.n);
      this.#total.bytes = Math.max(0, this.#total.bytes - Number(row.bytes));
    }
    return n;
  }

  /**
   * Bodies come back as bytea's hex text, decoded by pg: pg-protocol reads every result column
   * as a string, so asking for binary results would hand back bodies mangled by UTF-8 decoding.
   */
  async readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]> {
    const rows = await this.pool.query<{ seq: number; envelope_id: string; body: Buffer }>({ name: 'sealpost_read_queue', text: QUEUE_SQL.readQueue, values: [deviceId, afterSeq, now, limit] });
    return rows.map((r) => ({ seq: r.seq, id: r.envelope_id, body: r.body }));
  }

  ackUpTo(deviceId: string, upTo: number): Promise<number> {
    return this.#acks.ackUpTo(deviceId, upTo);
  }

  async ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const rows = await this.pool.query<{ n: number; bytes: number }>({ name: 'sealpost_ack_ids', text: QUEUE_SQL.ackIds, values: [deviceId, ids] });
    return this.#released(rows);
  }

  async sweepExpired(now: number): Promise<number> {
    const rows = await this.pool.query<{ n: number; bytes: number }>({ text: QUEUE_SQL.sweepExpired, values: [now] });
    return this.#released(rows);
  }

  async queueStats(deviceId: string): Promise<QueueStats> {
    const rows = await this.pool.query<QueueStats>({ text: QUEUE_SQL.queueStats, values: [deviceId] });
    return rows[0] ?? { envelopes: 0, bytes: 0 };
  }

  async relayStats(): Promise<RelayStats> {
    const rows = await this.pool.query<RelayStats>({ text: QUEUE_SQL.relayStats });
    return rows[0] ?? { devices: 0, envelopes: 0, bytes: 0 };
  }
}
