/**
 * The push store's contract (server/push/push-store.ts), run against each home it has: the
 * SQLite file (migration 6, through a connection of its own beside the store's), PostgreSQL
 * (migration 6) and memory. One subscription per device; a push service's "gone" deletes only
 * the endpoint it was about; the foreign key refuses an unknown device and deletes a device's
 * subscription with the device. Also the VAPID key file and the PostgreSQL key row: made once,
 * never replaced, refused when damaged.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgPushStore } from '../../server/push/pg-push-store.js';
import { MemoryPushStore, type PushStore } from '../../server/push/push-store.js';
import { SqlitePushStore } from '../../server/push/sqlite-push-store.js';
import { isVapidKeys, loadOrCreateVapidFile, newVapidKeys, VapidKeyError } from '../../server/push/vapid.js';
import { openDatabase } from '../../server/store/sqlite/database.js';
import { startTestPostgres, type TestPostgres } from '../support/postgres.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-push-store-'));
let postgres: TestPostgres;
beforeAll(async () => {
  postgres = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const SUB = { endpoint: 'https://push.example.org/a', p256dh: 'p'.repeat(87), auth: 'a'.repeat(22) };
const OTHER = { endpoint: 'https://push.example.org/b', p256dh: 'q'.repeat(87), auth: 'b'.repeat(22) };

/** A store with devices d1 and d2 of account ann, and how to delete a device as the relay's store would. */
interface Home {
  store: PushStore;
  deleteDevice(id: string): Promise<void>;
  close(): Promise<void>;
}

let n = 0;
const homes: Record<string, () => Promise<Home>> = {
  sqlite: async () => {
    const path = join(dir, `relay-${++n}.db`);
    const db: Database.Database = openDatabase(path);
    db.exec("INSERT INTO accounts VALUES ('ann', 'k', '{}'); INSERT INTO devices (device_id, handle, spk_key_id, spk_public_key, spk_signature) VALUES ('d1', 'ann', 1, 'p', 's'), ('d2', 'ann', 1, 'p', 's')");
    const store = new SqlitePushStore(path, newVapidKeys());
    return {
      store,
      deleteDevice: async (id) => void db.prepare('DELETE FROM devices WHERE device_id = ?').run(id),
      close: async () => {
        await store.close();
        db.close();
      },
    };
  },
  postgres: async () => {
    const url = await postgres.createDatabase();
    const store = await PgPushStore.open(url);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO accounts VALUES ('ann', 'k', '{}'); INSERT INTO devices (device_id, handle, spk_key_id, spk_public_key, spk_signature) VALUES ('d1', 'ann', 1, 'p', 's'), ('d2', 'ann', 1, 'p', 's')");
    return {
      store,
      deleteDevice: async (id) => void (await client.query('DELETE FROM devices WHERE device_id = $1', [id])),
      close: async () => {
        await store.close();
        await client.end();
      },
    };
  },
};

describe.each(Object.keys(homes))('the push store in %s', (name) => {
  const open = homes[name]!;

  it('keeps one subscription per device, replaced by the next, deleted on request', async () => {
    const home = await open();
    try {
      const { store } = home;
      expect(await store.put('d1', SUB)).toBe('stored');
      expect(await store.put('d1', OTHER)).toBe('stored');
      expect(await store.get('d1')).toEqual(OTHER);
      expect(await store.get('d2')).toBeUndefined();
      expect(await store.delete('d1')).toBe(true);
      expect(await store.delete('d1')).toBe(false);
      expect(await store.get('d1')).toBeUndefined();
    } finally {
      await home.close();
    }
  });

  it('deletes a gone subscription only if the device still has that endpoint', async () => {
    const home = await open();
    try {
      const { store } = home;
      await store.put('d1', OTHER);
      await store.deleteGone('d1', SUB.endpoint);
      expect(await store.get('d1')).toEqual(OTHER);
      await store.deleteGone('d1', OTHER.endpoint);
      expect(await store.get('d1')).toBeUndefined();
    } finally {
      await home.close();
    }
  });

  it('refuses an unknown device and deletes a subscription with its device', async () => {
    const home = await open();
    try {
      const { store } = home;
      expect(await store.put('nobody', SUB)).toBe('unknown_device');
      await store.put('d1', SUB);
      await store.put('d2', OTHER);
      await home.deleteDevice('d1');
      expect(await store.get('d1')).toBeUndefined();
      expect(await store.get('d2')).toEqual(OTHER);
    } finally {
      await home.close();
    }
  });
});

describe('the memory push store (:memory: databases)', () => {
  it('keeps and replaces subscriptions like the others', async () => {
    const store = new MemoryPushStore(newVapidKeys());
    await store.put('d1', SUB);
    await store.deleteGone('d1', OTHER.endpoint);
    expect(await store.get('d1')).toEqual(SUB);
    await store.deleteGone('d1', SUB.endpoint);
    expect(await store.get('d1')).toBeUndefined();
  });
});

describe('the VAPID key pair', () => {
  it('is made once in its file and read back unchanged; a damaged file is refused, never replaced', () => {
    const file = join(dir, 'keys-vapid');
    const made = loadOrCreateVapidFile(file);
    expect(isVapidKeys(made)).toBe(true);
    expect(loadOrCreateVapidFile(file)).toEqual(made);
    writeFileSync(file, JSON.stringify({ ...made, publicKey: newVapidKeys().publicKey }));
    expect(() => loadOrCreateVapidFile(file)).toThrow(VapidKeyError);
    writeFileSync(file, '{');
    expect(() => loadOrCreateVapidFile(file)).toThrow(VapidKeyError);
  });

  it('is one row in PostgreSQL: stores opened at once on one database sign with the same key', async () => {
    const url = await postgres.createDatabase();
    const stores = await Promise.all([PgPushStore.open(url), PgPushStore.open(url), PgPushStore.open(url)]);
    try {
      const keys = await Promise.all(stores.map((s) => s.vapidKeys()));
      expect(new Set(keys.map((k) => k.publicKey)).size).toBe(1);
      expect(isVapidKeys(keys[0])).toBe(true);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
