/**
 * The link mailbox (server/routes/provisioning-mailbox.ts) in PostgreSQL, so a blob put through
 * one node is claimed through any other. The per-id and total budgets are the single process's,
 * decided under one transaction-scoped advisory lock: puts are rare (rate-limited per IP) and
 * must not overshoot a budget when two nodes take one at once.
 *
 * The per-address budget stays in each node's memory, because the relay never stores an IP (a
 * hash of an IPv4 address is no protection): an address gets the budget on each node it reaches,
 * and gets it back when its blobs expire (a claim through another node cannot tell this one).
 *
 * Unlike the single process's mailbox, blobs here reach PostgreSQL's disk. They are sealed to the
 * new device's key (the relay cannot open them) and expire after `ttlMs`; expired rows are
 * deleted by the next put and by the sweeper.
 */
import { addressKey, DEFAULT_MAILBOX_LIMITS, type LinkMailbox, type MailboxLimits, type PutOutcome } from '../routes/provisioning-mailbox.js';
import type { Queryable } from './queryable.js';

/** Any constant: the advisory lock that serializes puts across nodes. */
const PUT_LOCK = 0x5ea1_b0c5;

const USAGE = `
  SELECT (SELECT count(*) FROM link_blobs WHERE device_id = $1) AS id_blobs,
         (SELECT count(*) FROM link_blobs) AS blobs,
         (SELECT coalesce(sum(length(body)), 0) FROM link_blobs) AS bytes`;

/** Blobs one address put through this node that have not expired: their sizes and expiry times. */
type AddressUsage = { bytes: number; expiresAt: number }[];

export class PgMailbox implements LinkMailbox {
  readonly #byAddress = new Map<string, AddressUsage>();

  constructor(
    private readonly db: Queryable,
    private readonly limits: MailboxLimits = DEFAULT_MAILBOX_LIMITS,
  ) {}

  async put(deviceId: string, body: string, ip: string, now = Date.now()): Promise<PutOutcome> {
    const address = addressKey(ip);
    const held = (this.#byAddress.get(address) ?? []).filter((blob) => blob.expiresAt > now);
    const heldBytes = held.reduce((sum, blob) => sum + blob.bytes, 0);
    if (held.length + 1 > this.limits.maxBlobsPerIp || heldBytes + body.length > this.limits.maxBytesPerIp) return 'ip_full';
    const expiresAt = now + this.limits.ttlMs;
    const outcome = await this.db.transaction(async (tx): Promise<PutOutcome> => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [PUT_LOCK]);
      await tx.query('DELETE FROM link_blobs WHERE expires_at <= $1', [now]);
      const usage = (await tx.query(USAGE, [deviceId]))[0] ?? {};
      const n = (key: string): number => Number(usage[key] ?? 0);
      if (n('id_blobs') >= this.limits.maxBlobsPerId) return 'id_full';
      if (n('blobs') + 1 > this.limits.maxBlobs || n('bytes') + body.length > this.limits.maxBytes) return 'full';
      await tx.query('INSERT INTO link_blobs (device_id, body, expires_at) VALUES ($1, $2, $3)', [deviceId, body, expiresAt]);
      return 'stored';
    });
    if (outcome === 'stored') this.#byAddress.set(address, [...held, { bytes: body.length, expiresAt }]);
    return outcome;
  }

  async claim(deviceId: string, now = Date.now()): Promise<string[]> {
    const claimed = await this.db.query(
      'WITH taken AS (DELETE FROM link_blobs WHERE device_id = $1 RETURNING id, body, expires_at) SELECT body FROM taken WHERE expires_at > $2 ORDER BY id',
      [deviceId, now],
    );
    return claimed.map((row) => String(row.body));
  }

  async sweep(now = Date.now()): Promise<number> {
    for (const [address, blobs] of this.#byAddress) {
      const live = blobs.filter((blob) => blob.expiresAt > now);
      if (live.length === 0) this.#byAddress.delete(address);
      else this.#byAddress.set(address, live);
    }
    const [swept] = await this.db.query('WITH gone AS (DELETE FROM link_blobs WHERE expires_at <= $1 RETURNING 1) SELECT count(*) AS n FROM gone', [now]);
    return Number(swept?.n ?? 0);
  }
}
