/**
 * Handshake and signed-request nonces in PostgreSQL, shared by every node of a cluster: a
 * signature replayed to another node is refused like one replayed to the same node. Same rules as
 * the in-memory NonceCache (server/http/nonce-cache.ts): kept for two freshness windows, at most
 * `perSigner` live nonces per signer, decided in one statement so concurrent nodes cannot both
 * accept one nonce (the primary key) or overshoot a signer's cap by more than the requests in
 * flight. Only signatures that verified reach this table. Swept with the other expired rows.
 */
import type { NonceRegistry, RememberOutcome } from '../http/nonce-cache.js';
import type { Queryable } from './queryable.js';

const REMEMBER = `
  WITH spent AS (SELECT count(*) AS n FROM nonces WHERE signer = $1 AND expires_at > $4)
  INSERT INTO nonces (signer, nonce, expires_at)
  SELECT $1, $2, $3 FROM spent WHERE spent.n < $5
  ON CONFLICT (signer, nonce) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE nonces.expires_at <= $4
  RETURNING 1`;

const SEEN = 'SELECT 1 FROM nonces WHERE signer = $1 AND nonce = $2 AND expires_at > $3';

export class PgNonces implements NonceRegistry {
  constructor(
    private readonly db: Queryable,
    private readonly windowMs: number,
    private readonly perSigner: number,
  ) {}

  async remember(signer: string, nonce: string, now = Date.now()): Promise<RememberOutcome> {
    // A timestamp may be up to one window in the future, so the nonce is kept for two.
    const inserted = await this.db.query(REMEMBER, [signer, nonce, now + 2 * this.windowMs, now, this.perSigner]);
    if (inserted.length > 0) return 'fresh';
    const seen = await this.db.query(SEEN, [signer, nonce, now]);
    return seen.length > 0 ? 'replayed' : 'over_cap';
  }

  async sweep(now = Date.now()): Promise<number> {
    const [swept] = await this.db.query('WITH gone AS (DELETE FROM nonces WHERE expires_at <= $1 RETURNING 1) SELECT count(*) AS n FROM gone', [now]);
    return Number(swept?.n ?? 0);
  }
}
