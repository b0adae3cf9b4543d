/**
 * The queue half of the PostgreSQL store: envelopes, their per-device sequence numbers, acks,
 * expiry and the totals the quotas and metrics read.
 *
 * Sequence numbers, when several relay processes enqueue for one device at once. `enqueue` is
 * one call of the `sealpost_write_queue` function (migration 9), a transaction of its own: it
 * locks the recipients' device rows (SELECT … FOR NO KEY UPDATE, in device id order), applies
 * the cumulative acks waiting on this node (ack-batch.ts), takes each device's numbers from its
 * `next_seq`, inserts the envelopes, writes the new `next_seq` and totals, and commits. Another
 * transaction for the same device waits on that row until the commit and only then reads
 * `next_seq` (READ COMMITTED re-reads a row it waited for), so per device:
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
import type { EnqueueItem, EnqueueOutcome, QueueLimits, QueuedEnvelope, QueueStats, RelayStats } from '../store.js';
import { AckBatch, type AckRound } from './ack-batch.js';
import type { PgPool } from './pool.js';

export const QUEUE_SQL = {
  write: `SELECT outcome, acked_devices, acked_seqs, acked_sizes FROM sealpost_write_queue(
            $1::text[], $2::text[], $3::integer[], $4::bigint[], $5::bytea, $6::integer, $7::bigint, $8::bigint, $9::text[], $10::bigint[])`,
  totalBytes: 'SELECT COALESCE(sum(queue_bytes), 0)::bigint AS bytes FROM devices',
  readQueue: `SELECT seq, envelope_id, body FROM queue
              WHERE device_id = $1 AND seq > $2 AND expires_at > $3 ORDER BY seq LIMIT $4`,
  // Acks by id and the sweep are single statements (cumulative acks ride with the writes). The device
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

/** sealpost_enqueue's answer per item, when it is not a sequence number. */
const REFUSED: Record<number, EnqueueOutcome> = {
  0: { status: 'unknown_device' },
  [-1]: { status: 'duplicate' },
  [-2]: { status: 'quota_exceeded' },
};

const asBuffer = (body: Uint8Array): Buffer => (Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));

/** What sealpost_write_queue answers (bigints come back as text). */
interface WriteRow {
  outcome: (number | string)[];
  acked_devices: string[];
  acked_seqs: (number | string)[];
  acked_sizes: number[];
}

/** Runs `run` in the check phase of the NEXT loop iteration: after this iteration's group commit has started. */
const nextCheckPhase = (run: () => void): void => void setImmediate(() => setImmediate(run));

export class PgQueue {
  #total = { bytes: 0, readAt: -Infinity };
  readonly #acks = new AckBatch();
  /** Writes (enqueues or ack rounds) in flight: waiting acks go alone only when none is. */
  #writing = 0;
  #ackAloneQueued = false;

  constructor(private readonly pool: PgPool) {}

  /** The relay-wide queued bytes: read again at most every TOTAL_REFRESH_MS, else this process's running figure. */
  async #totalBytes(): Promise<number> {
    const now = Date.now();
    if (now - this.#total.readAt >= TOTAL_REFRESH_MS) {
      const bytes = (await this.pool.query<{ bytes: number }>({ name: 'sealpost_total_bytes', text: QUEUE_SQL.totalBytes }))[0]?.bytes ?? 0;
      this.#total = { bytes, readAt: now };
    }
    return this.#total.bytes;
  }

  /**
   * See the top of this file; outcomes are decided as SqliteStore decides them (migration 9).
   * The relay-wide total is a soft cap: read at most every few seconds (plus what this process
   * stored since), so other nodes' enqueues and acks since the read are not counted until the next.
   */
  async enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    const budget = limits.maxTotalBytes === undefined ? null : Math.max(0, limits.maxTotalBytes - (await this.#totalBytes()));
    const bodies = items.map((i) => asBuffer(i.body));
    const answers = await this.#write(
      [items.map((i) => i.to), items.map((i) => i.id), bodies.map((b) => b.byteLength), items.map((i) => i.expiresAt), Buffer.concat(bodies), limits.maxEnvelopes, limits.maxBytes, budget],
      this.#acks.take(),
    );
    if (answers.length !== items.length) throw new Error(`sealpost_write_queue answered ${answers.length} outcomes for ${items.length} envelopes`);
    return answers.map((answer, i): EnqueueOutcome => {
      const seq = Number(answer);
      if (seq < 1) {
        const refused = REFUSED[seq];
        if (!refused) throw new Error(`sealpost_write_queue answered ${seq}, which means nothing`);
        return refused;
      }
      this.#total.bytes += bodies[i]?.byteLength ?? 0;
      return { status: 'stored', seq };
    });
  }

  /**
   * Resolves once the envelopes up to `upTo` are deleted and committed, with how many this ack
   * deleted. It waits for the next enqueue of this node, which carries it; with none under way it
   * goes alone, one loop iteration later (so that an enqueue started in this one takes it).
   */
  ackUpTo(deviceId: string, upTo: number): Promise<number> {
    const answer = this.#acks.add(deviceId, upTo);
    this.#queueAckAlone();
    return answer;
  }

  #queueAckAlone(): void {
    if (this.#writing > 0 || this.#ackAloneQueued) return;
    this.#ackAloneQueued = true;
    nextCheckPhase(() => {
      this.#ackAloneQueued = false;
      if (this.#writing > 0 || !this.#acks.waiting) return;
      // Its acks are answered (or rejected) by #write; nothing else waits on it.
      this.#write([[], [], [], [], Buffer.alloc(0), null, null, null], this.#acks.take()).catch(() => undefined);
    });
  }

  /** One sealpost_write_queue call: the enqueue's parameters and the acks it carries. Returns the outcomes. */
  async #write(enqueue: unknown[], acks: AckRound): Promise<WriteRow['outcome']> {
    this.#writing += 1;
    try {
      const rows = await this.pool.query<WriteRow>({ name: 'sealpost_write_queue', text: QUEUE_SQL.write, values: [...enqueue, acks.deviceIds, acks.upTos] });
      const row = rows[0];
      if (!row) throw new Error('sealpost_write_queue answered no row');
      const bytes = acks.settle({ devices: row.acked_devices, seqs: row.acked_seqs, sizes: row.acked_sizes });
      this.#total.bytes = Math.max(0, this.#total.bytes - bytes);
      return row.outcome;
    } catch (error) {
      acks.fail(error);
      throw error;
    } finally {
      this.#writing -= 1;
      // Acks that arrived during this write and were not taken by another.
      if (this.#acks.waiting) this.#queueAckAlone();
    }
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
