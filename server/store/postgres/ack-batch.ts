/**
 * Cumulative acks ("delete my queue up to seq N") from every socket of this node, written in one
 * statement per round: while one statement is in flight, the acks that arrive wait and go
 * together in the next. Each ack used to be a statement of its own, and in the cluster benchmark
 * acks were ~8 of every 9 statements a node sent (docs/performance.md, "acks in batches"): a
 * statement costs the node a socket write and a read however little it carries.
 *
 * Every caller still resolves only after the statement that deleted its envelopes committed,
 * with the number of envelopes its own ack deleted: the statement returns the deleted rows'
 * sequence numbers, and two acks of one device in a round share them out by their bounds.
 * Lock order is the store's (queue.ts): the device rows, in id order, before any queue row.
 */
import type { PgPool } from './pool.js';

export const ACK_BATCH_SQL = `
  WITH wanted AS (SELECT * FROM unnest($1::text[], $2::bigint[]) AS w(device_id, up_to)),
  gone AS (
    DELETE FROM queue AS q USING wanted AS w
    WHERE q.device_id = w.device_id AND q.seq <= w.up_to
      AND q.device_id = ANY (ARRAY(
        SELECT device_id FROM devices WHERE device_id = ANY($1::text[]) ORDER BY device_id FOR NO KEY UPDATE))
    RETURNING q.device_id, q.seq, q.size),
  per_device AS (SELECT device_id, count(*) AS n, sum(size) AS bytes FROM gone GROUP BY device_id),
  counted AS (
    UPDATE devices AS d SET queue_count = d.queue_count - p.n, queue_bytes = d.queue_bytes - p.bytes
    FROM per_device AS p WHERE d.device_id = p.device_id)
  SELECT device_id, seq, size FROM gone`;

interface Waiter {
  upTo: number;
  resolve: (deleted: number) => void;
  reject: (error: unknown) => void;
}

export class AckBatch {
  /** Acks waiting for the next statement, by device. */
  #waiting = new Map<string, Waiter[]>();
  #running = false;

  constructor(
    private readonly pool: PgPool,
    /** Told the bytes each statement deleted (the queue's running relay-wide total). */
    private readonly released: (bytes: number) => void,
  ) {}

  ackUpTo(deviceId: string, upTo: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const list = this.#waiting.get(deviceId);
      if (list) list.push({ upTo, resolve, reject });
      else this.#waiting.set(deviceId, [{ upTo, resolve, reject }]);
      if (!this.#running) void this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#running = true;
    while (this.#waiting.size > 0) {
      const round = this.#waiting;
      this.#waiting = new Map();
      await this.#write(round);
    }
    this.#running = false;
  }

  async #write(round: Map<string, Waiter[]>): Promise<void> {
    const deviceIds = [...round.keys()];
    const upTos = deviceIds.map((id) => Math.max(...(round.get(id) ?? []).map((w) => w.upTo)));
    let rows: { device_id: string; seq: number; size: number }[];
    try {
      rows = await this.pool.query({ name: 'sealpost_ack_batch', text: ACK_BATCH_SQL, values: [deviceIds, upTos] });
    } catch (error) {
      for (const waiters of round.values()) for (const w of waiters) w.reject(error);
      return;
    }
    const seqs = new Map<string, number[]>();
    let bytes = 0;
    for (const row of rows) {
      bytes += Number(row.size);
      const list = seqs.get(row.device_id);
      if (list) list.push(row.seq);
      else seqs.set(row.device_id, [row.seq]);
    }
    this.released(bytes);
    for (const [deviceId, waiters] of round) {
      const deleted = seqs.get(deviceId) ?? [];
      // An ack counts what lies between the bound below it (the device's previous ack in this
      // round) and its own: each deleted envelope is counted once, by the lowest ack that covers it.
      const bounds = [...new Set(waiters.map((w) => w.upTo))].sort((a, b) => a - b);
      const counts = new Map(bounds.map((bound, i) => [bound, deleted.filter((seq) => seq <= bound && (i === 0 || seq > (bounds[i - 1] ?? 0))).length]));
      const told = new Set<number>();
      for (const w of waiters) {
        // Two acks with the same bound: the first is told the count, the second 0 (it deleted nothing more).
        w.resolve(told.has(w.upTo) ? 0 : (counts.get(w.upTo) ?? 0));
        told.add(w.upTo);
      }
    }
  }
}
