/**
 * Push subscriptions in the relay's SQLite file (table `push_subscriptions`, migration 6 of
 * server/store/sqlite/migrations.ts), through a connection of their own: the store's connection
 * belongs to the store, and these few rows change only when a device turns push on or off or a
 * push service reports a subscription gone. The table's foreign key (ON DELETE CASCADE) deletes
 * a device's subscription in the same statement that deletes the device, whichever connection
 * runs it. The VAPID key pair lives in a file beside the database (vapid.ts).
 *
 * Reads are point lookups by primary key, made when an envelope is stored for a device with no
 * socket; SQLite's WAL lets them run beside the store's writes.
 */
import Database from 'better-sqlite3';
import type { PushStore, StoredSubscription } from './push-store.js';
import type { VapidKeys } from './vapid.js';

const SQL = {
  put: `INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth) VALUES (?, ?, ?, ?)
        ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth`,
  get: 'SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE device_id = ?',
  delete: 'DELETE FROM push_subscriptions WHERE device_id = ?',
  deleteGone: 'DELETE FROM push_subscriptions WHERE device_id = ? AND endpoint = ?',
} as const;

export class SqlitePushStore implements PushStore {
  readonly #db: Database.Database;
  readonly #put: Database.Statement<[string, string, string, string]>;
  readonly #get: Database.Statement<[string], StoredSubscription>;
  readonly #delete: Database.Statement<[string]>;
  readonly #deleteGone: Database.Statement<[string, string]>;

  /** `path` is the store's database, already migrated (the store opened it first). */
  constructor(path: string, private readonly keys: VapidKeys) {
    this.#db = new Database(path, { fileMustExist: true });
    // Per connection: without it SQLite would neither check the device on insert nor cascade.
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('busy_timeout = 5000');
    this.#put = this.#db.prepare(SQL.put);
    this.#get = this.#db.prepare(SQL.get);
    this.#delete = this.#db.prepare(SQL.delete);
    this.#deleteGone = this.#db.prepare(SQL.deleteGone);
  }

  async vapidKeys(): Promise<VapidKeys> {
    return this.keys;
  }

  async put(deviceId: string, s: StoredSubscription): Promise<'stored' | 'unknown_device'> {
    try {
      this.#put.run(deviceId, s.endpoint, s.p256dh, s.auth);
      return 'stored';
    } catch (error) {
      // The device was removed after the request was verified.
      if ((error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'unknown_device';
      throw error;
    }
  }

  async get(deviceId: string): Promise<StoredSubscription | undefined> {
    const row = this.#get.get(deviceId);
    return row ? { endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth } : undefined;
  }

  async delete(deviceId: string): Promise<boolean> {
    return this.#delete.run(deviceId).changes > 0;
  }

  async deleteGone(deviceId: string, endpoint: string): Promise<void> {
    this.#deleteGone.run(deviceId, endpoint);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
