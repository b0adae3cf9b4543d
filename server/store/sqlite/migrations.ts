/**
 * Numbered schema migrations, applied in order inside one transaction each; PRAGMA
 * user_version records the last one applied. Never edit a released migration: add one.
 * Each table holds only what DESIGN.md "What the relay stores" allows — note what is absent:
 * no sender, no IP address, no timestamp other than an envelope's expiry.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up: (db: Database.Database) => void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts and devices',
    up: (db) =>
      db.exec(`
        CREATE TABLE accounts (
          handle       TEXT PRIMARY KEY,
          identity_key TEXT NOT NULL
        );
        CREATE TABLE devices (
          device_id       TEXT PRIMARY KEY,
          handle          TEXT NOT NULL REFERENCES accounts(handle) ON DELETE CASCADE,
          cert_created_at INTEGER NOT NULL,
          cert_signature  TEXT NOT NULL,
          spk_key_id      INTEGER NOT NULL,
          spk_public_key  TEXT NOT NULL,
          spk_signature   TEXT NOT NULL,
          -- per-device queue bookkeeping: next sequence number (never reused, so "ack up to N"
          -- can never delete a later envelope) and the running totals the quotas check.
          next_seq        INTEGER NOT NULL DEFAULT 1,
          queue_count     INTEGER NOT NULL DEFAULT 0,
          queue_bytes     INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX devices_by_handle ON devices(handle);`),
  },
  {
    version: 2,
    name: 'one-time prekeys',
    up: (db) =>
      db.exec(`
        CREATE TABLE one_time_prekeys (
          inserted   INTEGER PRIMARY KEY, -- insertion order: the oldest key is handed out first
          device_id  TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
          key_id     INTEGER NOT NULL,
          public_key TEXT NOT NULL,
          UNIQUE (device_id, key_id)
        );
        CREATE INDEX one_time_prekeys_by_device ON one_time_prekeys(device_id, inserted);`),
  },
  {
    version: 3,
    name: 'envelope queue',
    up: (db) =>
      db.exec(`
        CREATE TABLE queue (
          device_id   TEXT NOT NULL REFERENCES devices(device_id) ON DELETE CASCADE,
          seq         INTEGER NOT NULL,
          envelope_id TEXT NOT NULL,
          body        BLOB NOT NULL,
          size        INTEGER NOT NULL,
          expires_at  INTEGER NOT NULL,
          PRIMARY KEY (device_id, seq),
          UNIQUE (device_id, envelope_id)
        );
        CREATE INDEX queue_by_expiry ON queue(expires_at);`),
  },
  {
    version: 4,
    // The store keeps each device's queue totals in memory (read from the queue on first use),
    // so an enqueue or an ack no longer writes the device row. next_seq stays, now as an upper
    // bound of the sequence numbers handed out (a value written by version 3 is one as well).
    name: 'queue totals out of devices',
    up: (db) =>
      db.exec(`
        ALTER TABLE devices DROP COLUMN queue_count;
        ALTER TABLE devices DROP COLUMN queue_bytes;`),
  },
  {
    version: 5,
    // Protocol v2 binds devices to an account by the authority's signed device list instead of
    // per-device certificates, and every v2 signature differs from its v1 form: no v1 account,
    // device or prekey can be served to a v2 client, and a v1 device cannot fetch its queue from
    // a v2 relay. With no production users yet, v1 data is deleted rather than carried along.
    // The queue log replayed after this (sqlite-store.ts opens, migrates, then replays) finds
    // no device, so it brings back no envelope (queue-replay.ts skips unknown devices).
    name: 'protocol v2: signed device lists',
    up: (db) =>
      db.exec(`
        DELETE FROM queue;
        DELETE FROM one_time_prekeys;
        DELETE FROM devices;
        -- Recreated rather than altered: SQLite adds a NOT NULL column only with a default, and
        -- an account never exists without its list. devices references accounts by name, so
        -- its foreign key holds again once the table is back.
        DROP TABLE accounts;
        CREATE TABLE accounts (
          handle       TEXT PRIMARY KEY,
          identity_key TEXT NOT NULL,
          device_list  TEXT NOT NULL -- the latest signed device list, as JSON
        );
        ALTER TABLE devices DROP COLUMN cert_created_at;
        ALTER TABLE devices DROP COLUMN cert_signature;`),
  },
  {
    version: 6,
    // Web Push (server/push/): the one subscription a device registered, so the relay can wake
    // it with a content-free push while none of its sockets is connected. Deleted with its
    // device by the foreign key; no time, no account column.
    name: 'push subscriptions',
    up: (db) =>
      db.exec(`
        CREATE TABLE push_subscriptions (
          device_id TEXT PRIMARY KEY REFERENCES devices(device_id) ON DELETE CASCADE,
          endpoint  TEXT NOT NULL, -- the push service's URL for this subscription
          p256dh    TEXT NOT NULL, -- the subscription's P-256 key, base64url
          auth      TEXT NOT NULL  -- its auth secret, base64url
        );`),
  },
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** Applies every migration newer than the file's user_version; refuses a file from a newer relay. */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.reduce((v, m) => Math.max(v, m.version), 0);
  if (current > latest) {
    throw new Error(`database schema version ${current} is newer than this relay (${latest}); upgrade the relay`);
  }
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      migration.up(db);
      db.pragma(`user_version = ${migration.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
