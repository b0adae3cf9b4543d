/**
 * Migration 5 ('protocol v2: signed device lists'): v1 accounts, devices, prekeys and queued
 * envelopes cannot serve v2 clients, so the migration deletes them; and a queue log that a v1
 * relay left behind (a crash before its last checkpoint) must not bring any envelope back.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeStored, seal } from '../../server/store/sqlite/log-records.js';
import { MIGRATIONS, migrate } from '../../server/store/sqlite/migrations.js';
import { SqliteStore } from '../../server/store/sqlite/sqlite-store.js';
import { someAccount, someDevice } from '../support/store-records.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-migration-v2-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = () => join(dir, `db-${++n}.sqlite`);
const V1_DEVICE = 'v'.repeat(43);
const count = (db: Database.Database, table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

/** A database as the last v1 relay (schema version 4) left it: one account, two devices, prekeys, envelopes. */
function v1Database(path: string): void {
  const db = new Database(path);
  migrate(db, MIGRATIONS.slice(0, 4));
  db.exec(`INSERT INTO accounts VALUES ('old', 'k');
           INSERT INTO devices (device_id, handle, cert_created_at, cert_signature, spk_key_id, spk_public_key, spk_signature, next_seq)
             VALUES ('${V1_DEVICE}', 'old', 1, 's', 1, 'p', 's', 5), ('${'w'.repeat(43)}', 'old', 1, 's', 1, 'p', 's', 1);
           INSERT INTO one_time_prekeys (device_id, key_id, public_key) VALUES ('${V1_DEVICE}', 1, 'p');
           INSERT INTO queue VALUES ('${V1_DEVICE}', 4, 'x', x'01020304', 4, ${Date.now() + 60_000});`);
  db.close();
}

describe('migration 5: protocol v2', () => {
  it('deletes every v1 account, device, prekey and envelope', () => {
    const path = file();
    v1Database(path);
    const db = new Database(path);
    db.pragma('foreign_keys = ON');
    expect(migrate(db, MIGRATIONS.slice(0, 5))).toBe(5);
    for (const table of ['accounts', 'devices', 'one_time_prekeys', 'queue']) expect(count(db, table), table).toBe(0);
    // The device list is required from now on; the certificate is gone.
    expect(() => db.prepare("INSERT INTO accounts (handle, identity_key) VALUES ('new', 'k')").run()).toThrow(/NOT NULL/);
    db.close();
  });

  it('brings back nothing from a queue log a v1 relay left, even for a device id registered again', async () => {
    const path = file();
    v1Database(path);
    // The v1 relay crashed with two envelopes for its device in the log (generation 1), not checkpointed.
    const records = [5, 6].map((seq) => seal(encodeStored(V1_DEVICE, seq, Date.now() + 60_000, `e${seq}`, new Uint8Array([seq])).record, 1));
    writeFileSync(`${path}-queue-1`, Buffer.concat(records), { mode: 0o600 });

    const store = new SqliteStore(path);
    expect(existsSync(`${path}-queue-1`)).toBe(false);
    expect(await store.relayStats()).toEqual({ devices: 0, envelopes: 0, bytes: 0 });
    // The same key registered under v2 is a new device: an empty queue, numbered from 1.
    expect(await store.createAccount(someAccount('new', V1_DEVICE), someDevice(V1_DEVICE, 'new'), [])).toBe(true);
    expect(await store.readQueue(V1_DEVICE, 0, 10, Date.now())).toEqual([]);
    expect(await store.enqueue([{ to: V1_DEVICE, id: 'fresh', body: new Uint8Array(1), expiresAt: Date.now() + 60_000 }], { maxEnvelopes: 10, maxBytes: 100 })).toEqual([{ status: 'stored', seq: 1 }]);
    await store.close();

    const reopened = new SqliteStore(path);
    expect((await reopened.readQueue(V1_DEVICE, 0, 10, Date.now())).map((e) => e.id)).toEqual(['fresh']);
    await reopened.close();
  });
});
