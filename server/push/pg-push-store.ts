/**
 * Push subscriptions and the VAPID key pair in PostgreSQL (migration 6), for cluster mode: every
 * node reads the same subscriptions and signs with the same key. The first node to start makes
 * the key pair; a node starting at the same moment keeps whichever row was inserted first
 * (ON CONFLICT DO NOTHING, then read back), so no two nodes ever sign with different keys.
 * Subscriptions go with their device by the foreign key (ON DELETE CASCADE).
 */
import pg from 'pg';
import { migrate } from '../store/postgres/migrations.js';
import { PgPool } from '../store/postgres/pool.js';
import type { PushStore, StoredSubscription } from './push-store.js';
import { isVapidKeys, newVapidKeys, VapidKeyError, type VapidKeys } from './vapid.js';

/** PostgreSQL's SQLSTATE for a foreign key violation: the device was removed meanwhile. */
const FOREIGN_KEY_VIOLATION = '23503';

export class PgPushStore implements PushStore {
  readonly #pool: PgPool;
  readonly #keys: VapidKeys;

  private constructor(pool: PgPool, keys: VapidKeys) {
    this.#pool = pool;
    this.#keys = keys;
  }

  /** Opens a small pool of its own (pushes never wait behind group commits) and reads or makes the key pair. */
  static async open(url: string): Promise<PgPushStore> {
    const pool = new PgPool(url, { maxConnections: 2 });
    try {
      await migrate(pool);
      const made = newVapidKeys();
      await pool.query({ text: 'INSERT INTO push_vapid (id, public_key, private_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', values: [made.publicKey, made.privateKey] });
      const [row] = await pool.query<{ public_key: string; private_key: string }>({ text: 'SELECT public_key, private_key FROM push_vapid WHERE id = 1' });
      const keys = { publicKey: row?.public_key, privateKey: row?.private_key };
      if (!isVapidKeys(keys)) throw new VapidKeyError('the push_vapid row does not hold a valid VAPID key pair; restore it from a backup, or delete it to make a new one (every push subscription then ends)');
      return new PgPushStore(pool, keys);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async vapidKeys(): Promise<VapidKeys> {
    return this.#keys;
  }

  async put(deviceId: string, s: StoredSubscription): Promise<'stored' | 'unknown_device'> {
    try {
      await this.#pool.query({
        text: `INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)
               ON CONFLICT (device_id) DO UPDATE SET endpoint = EXCLUDED.endpoint, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth`,
        values: [deviceId, s.endpoint, s.p256dh, s.auth],
      });
      return 'stored';
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === FOREIGN_KEY_VIOLATION) return 'unknown_device';
      throw error;
    }
  }

  async get(deviceId: string): Promise<StoredSubscription | undefined> {
    const [row] = await this.#pool.query<StoredSubscription>({ text: 'SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE device_id = $1', values: [deviceId] });
    return row ? { endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth } : undefined;
  }

  async delete(deviceId: string): Promise<boolean> {
    const rows = await this.#pool.query({ text: 'DELETE FROM push_subscriptions WHERE device_id = $1 RETURNING 1', values: [deviceId] });
    return rows.length > 0;
  }

  async deleteGone(deviceId: string, endpoint: string): Promise<void> {
    await this.#pool.query({ text: 'DELETE FROM push_subscriptions WHERE device_id = $1 AND endpoint = $2', values: [deviceId, endpoint] });
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}
