/**
 * The link mailbox (server/routes/provisioning-mailbox.ts) in PostgreSQL, so a blob put through
 * one node is claimed through any other. The per-id and total budgets are the single process's,
 * decided under one transaction-scoped advisory lock: puts are rare (rate-limited per IP) and
 * must not overshoot a budget when two nodes take one at once.
 *
 * The per-address budget is a lease per blob (server/limits/leases.ts), in Redis across the nodes
 * (its memory only: the relay never stores an IP, and a hash of an IPv4 address is no protection)
 * or, without Redis, in this node's memory. An address gets its budget back when its blobs
 * expire (a claim, through whichever node, does not tell the address's lease).
 *
 * Unlike the single process's mailbox, blobs here reach PostgreSQL's disk. They are sealed to the
 * new device's key (the relay cannot open them) and expire after `ttlMs`; expired rows are
 * deleted by the next put and by the sweeper.
 */
import { memoryLeases, type Leases, type LeasesFactory } from '../limits/leases.js';
import { addressKey, DEFAULT_MAILBOX_LIMITS, type LinkMailbox, type MailboxLimits, type PutOutcome } from '../routes/provisioning-mailbox.js';
import type { Queryable } from './queryable.js';

/** Any constant: the advisory lock that serializes puts across nodes. */
const PUT_LOCK = 0x5ea1_b0c5;

const USAGE = `
  SELECT (SELECT count(*) FROM link_blobs WHERE device_id = $1) AS id_blobs,
         (SELECT count(*) FROM link_blobs) AS blobs,
         (SELECT coalesce(sum(length(body)), 0) FROM link_blobs) AS bytes`;

export class PgMailbox implements LinkMailbox {
  readonly #byAddress: Leases;

  constructor(
    private readonly db: Queryable,
    leases: LeasesFactory = memoryLeases,
    private readonly limits: MailboxLimits = DEFAULT_MAILBOX_LIMITS,
  ) {
    this.#byAddress = leases('link-blobs', { maxCount: limits.maxBlobsPerIp, maxWeight: limits.maxBytesPerIp, ttlMs: limits.ttlMs });
  }

  async put(deviceId: string, body: string, ip: string, now = Date.now()): Promise<PutOutcome> {
    const lease = await this.#byAddress.take(addressKey(ip), body.length);
    if (!lease) return 'ip_full';
    const expiresAt = now + this.limits.ttlMs;
    let outcome: PutOutcome;
    try {
      outcome = await this.#store(deviceId, body, now, expiresAt);
    } catch (error) {
      lease.release();
      throw error;
    }
    // Only a stored blob holds the address's budget (until it expires).
    if (outcome !== 'stored') lease.release();
    return outcome;
  }

  /** The shared budgets, under the put lock, and the blob. */
  #store(deviceId: string, body: string, now: number, expiresAt: number): Promise<PutOutcome> {
    return this.db.transaction(async (tx): Promise<PutOutcome> => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PUT_LOCK]);
      await tx.query('DELETE FROM link_blobs WHERE expires_at <= $1', [now]);
      const usage = (await tx.query(USAGE, [deviceId]))[0] ?? {};
      const n = (key: string): number => Number(usage[key] ?? 0);
      if (n('id_blobs') >= this.limits.maxBlobsPerId) return 'id_full';
      if (n('blobs') + 1 > this.limits.maxBlobs || n('bytes') + body.length > this.limits.maxBytes) return 'full';
      await tx.query('INSERT INTO link_blobs (device_id, body, expires_at) VALUES ($1, $2, $3)', [deviceId, body, expiresAt]);
      return 'stored';
    });
  }

  async claim(deviceId: string, now = Date.now()): Promise<string[]> {
    const claimed = await this.db.query(
      'WITH taken AS (DELETE FROM link_blobs WHERE device_id = $1 RETURNING id, body, expires_at) SELECT body FROM taken WHERE expires_at > $2 ORDER BY id',
      [deviceId, now],
    );
    return claimed.map((row) => String(row.body));
  }

  async sweep(now = Date.now()): Promise<number> {
    const [swept] = await this.db.query('WITH gone AS (DELETE FROM link_blobs WHERE expires_at <= $1 RETURNING 1) SELECT count(*) AS n FROM gone', [now]);
    return Number(swept?.n ?? 0);
  }
}
