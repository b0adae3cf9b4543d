/**
 * The directory half of the PostgreSQL store: accounts with their device lists, devices and
 * their prekeys, with SqliteStore's transactional rules. A new device list is checked against
 * the stored one with the account row locked (SELECT … FOR UPDATE), so of two lists published
 * at once on different nodes the second sees the first. Deleted devices take their prekeys and
 * queued envelopes with them (ON DELETE CASCADE) in the same transaction. Lock order: queue.ts.
 */
import pg from 'pg';
import type { SignedDeviceListJson } from '../../../protocol/http.js';
import type {
  AccountRecord,
  AddDeviceOutcome,
  BundleRecord,
  DeviceListRefusal,
  DeviceRecord,
  OneTimePrekeyRecord,
  PublishDeviceListOutcome,
  SignedPrekeyRecord,
} from '../store.js';
import { listJson, toAccount, toBundle, toDevice, type AccountRow, type DeviceRow } from '../row-mapping.js';
import type { PgPool } from './pool.js';

export const DIRECTORY_SQL = {
  insertAccount: 'INSERT INTO accounts (handle, identity_key, device_list) VALUES ($1, $2, $3)',
  getAccount: 'SELECT handle, identity_key, device_list FROM accounts WHERE handle = $1',
  lockAccount: 'SELECT device_list FROM accounts WHERE handle = $1 FOR UPDATE',
  setDeviceList: 'UPDATE accounts SET device_list = $1 WHERE handle = $2',
  insertDevice: `INSERT INTO devices (device_id, handle, spk_key_id, spk_public_key, spk_signature)
                 VALUES ($1, $2, $3, $4, $5)`,
  getDevice: 'SELECT device_id, handle, spk_key_id, spk_public_key, spk_signature FROM devices WHERE device_id = $1',
  listDevices: 'SELECT device_id, handle, spk_key_id, spk_public_key, spk_signature FROM devices WHERE handle = $1 ORDER BY device_id',
  deviceExists: 'SELECT 1 FROM devices WHERE device_id = $1',
  // Locks the rows in device id order (the subquery) before deleting them: see queue.ts.
  deleteDevices: `DELETE FROM devices WHERE device_id IN (
                    SELECT device_id FROM devices WHERE device_id = ANY($1::text[]) AND handle = $2
                    ORDER BY device_id FOR UPDATE)`,
  rotateSignedPrekey: 'UPDATE devices SET spk_key_id = $1, spk_public_key = $2, spk_signature = $3 WHERE device_id = $4',
  // Existing key ids are kept; the ORDER BY gives the keys their `inserted` numbers in upload order.
  insertOneTimePrekeys: `INSERT INTO one_time_prekeys (device_id, key_id, public_key)
                         SELECT $1, k.key_id, k.public_key FROM unnest($2::bigint[], $3::text[]) WITH ORDINALITY AS k(key_id, public_key, n)
                         ORDER BY k.n
                         ON CONFLICT (device_id, key_id) DO NOTHING`,
  countOneTimePrekeys: 'SELECT count(*) AS n FROM one_time_prekeys WHERE device_id = $1',
  // One statement, so one transaction. SKIP LOCKED: a claim running at the same moment takes the
  // next key instead of waiting for this one's and finding it gone, and no key goes out twice.
  // The count reads the statement's snapshot, from before the deletion.
  claimBundle: `WITH claimed AS (
                  DELETE FROM one_time_prekeys WHERE inserted = (
                    SELECT inserted FROM one_time_prekeys WHERE device_id = $1
                    ORDER BY inserted LIMIT 1 FOR UPDATE SKIP LOCKED)
                  RETURNING key_id, public_key)
                SELECT d.device_id, d.handle, d.spk_key_id, d.spk_public_key, d.spk_signature,
                       a.identity_key, a.device_list, c.key_id AS otp_key_id, c.public_key AS otp_public_key,
                       (SELECT count(*) FROM one_time_prekeys WHERE device_id = $1) - (SELECT count(*) FROM claimed) AS remaining
                FROM devices d JOIN accounts a ON a.handle = d.handle LEFT JOIN claimed c ON true
                WHERE d.device_id = $1`,
} as const;

/** The claimBundle query's row: the device joined with its account, and the claimed key's columns. */
interface BundleRow extends DeviceRow, AccountRow {
  otp_key_id: number | null;
  otp_public_key: string | null;
  remaining: number;
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return error instanceof pg.DatabaseError && error.code === UNIQUE_VIOLATION;
}

async function insertDevice(client: pg.PoolClient, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<void> {
  const p = device.signedPrekey;
  await client.query(DIRECTORY_SQL.insertDevice, [device.deviceId, device.handle, p.keyId, p.publicKey, p.signature]);
  await insertOneTimePrekeys(client, device.deviceId, oneTimePrekeys);
}

async function insertOneTimePrekeys(client: pg.PoolClient, deviceId: string, keys: readonly OneTimePrekeyRecord[]): Promise<void> {
  if (keys.length > 0) await client.query(DIRECTORY_SQL.insertOneTimePrekeys, [deviceId, keys.map((k) => k.keyId), keys.map((k) => k.publicKey)]);
}

/**
 * Inside a transaction, with the account row locked from here to the commit: what every new list
 * of `handle` must pass — a higher version than the stored one, and no device other than
 * `joining` that is not registered to the account. Returns the registered device ids, in order.
 */
async function admitList(client: pg.PoolClient, handle: string, list: SignedDeviceListJson, joining: string | undefined): Promise<DeviceListRefusal | { registered: string[] }> {
  const [account] = (await client.query<{ device_list: string }>(DIRECTORY_SQL.lockAccount, [handle])).rows;
  if (!account) return { status: 'no_account' };
  const current = (JSON.parse(account.device_list) as SignedDeviceListJson).version;
  if (list.version <= current) return { status: 'stale_version', current };
  const registered = (await client.query<DeviceRow>(DIRECTORY_SQL.listDevices, [handle])).rows.map((d) => d.device_id);
  const known = new Set(registered);
  const stranger = list.devices.find((d) => d.deviceId !== joining && !known.has(d.deviceId));
  if (stranger) return { status: 'unregistered_device', deviceId: stranger.deviceId };
  return { registered };
}

/** Inside the same transaction: stores the list and deletes the registered devices it leaves out. */
async function replaceList(client: pg.PoolClient, handle: string, list: SignedDeviceListJson, registered: readonly string[]): Promise<string[]> {
  await client.query(DIRECTORY_SQL.setDeviceList, [listJson(list), handle]);
  const listed = new Set(list.devices.map((d) => d.deviceId));
  const removed = registered.filter((id) => !listed.has(id));
  // ON DELETE CASCADE removes their one-time prekeys and queued envelopes.
  if (removed.length > 0) await client.query(DIRECTORY_SQL.deleteDevices, [removed, handle]);
  return removed;
}

export class PgDirectory {
  constructor(private readonly pool: PgPool) {}

  async createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    try {
      await this.pool.transaction(async (client) => {
        await client.query(DIRECTORY_SQL.insertAccount, [account.handle, account.identityKey, listJson(account.deviceList)]);
        await insertDevice(client, device, oneTimePrekeys);
      });
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async getAccount(handle: string): Promise<AccountRecord | undefined> {
    const [row] = await this.pool.query<AccountRow>({ text: DIRECTORY_SQL.getAccount, values: [handle] });
    return row && toAccount(row);
  }

  async listDevices(handle: string): Promise<DeviceRecord[]> {
    return (await this.pool.query<DeviceRow>({ text: DIRECTORY_SQL.listDevices, values: [handle] })).map(toDevice);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const [row] = await this.pool.query<DeviceRow>({ text: DIRECTORY_SQL.getDevice, values: [deviceId] });
    return row && toDevice(row);
  }

  async addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], list: SignedDeviceListJson, maxDevices: number): Promise<AddDeviceOutcome> {
    try {
      return await this.pool.transaction(async (client): Promise<AddDeviceOutcome> => {
        const admitted = await admitList(client, device.handle, list, device.deviceId);
        if ('status' in admitted) return admitted;
        if ((await client.query(DIRECTORY_SQL.deviceExists, [device.deviceId])).rowCount) return { status: 'conflict' };
        if (list.devices.length > maxDevices) return { status: 'quota_exceeded' };
        await insertDevice(client, device, oneTimePrekeys);
        return { status: 'added', removed: await replaceList(client, device.handle, list, admitted.registered) };
      });
    } catch (error) {
      // Registered by another account's transaction after this one looked.
      if (isUniqueViolation(error)) return { status: 'conflict' };
      throw error;
    }
  }

  publishDeviceList(handle: string, list: SignedDeviceListJson): Promise<PublishDeviceListOutcome> {
    return this.pool.transaction(async (client): Promise<PublishDeviceListOutcome> => {
      const admitted = await admitList(client, handle, list, undefined);
      if ('status' in admitted) return admitted;
      return { status: 'published', removed: await replaceList(client, handle, list, admitted.registered) };
    });
  }

  async claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    const [row] = await this.pool.query<BundleRow>({ text: DIRECTORY_SQL.claimBundle, values: [deviceId] });
    if (!row) return undefined;
    const claimed = row.otp_key_id === null || row.otp_public_key === null ? undefined : { key_id: row.otp_key_id, public_key: row.otp_public_key };
    return toBundle(row, row, claimed, row.remaining);
  }

  putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    return this.pool.transaction(async (client) => {
      if (signedPrekey) await client.query(DIRECTORY_SQL.rotateSignedPrekey, [signedPrekey.keyId, signedPrekey.publicKey, signedPrekey.signature, deviceId]);
      await insertOneTimePrekeys(client, deviceId, oneTimePrekeys);
      return (await client.query<{ n: number }>(DIRECTORY_SQL.countOneTimePrekeys, [deviceId])).rows[0]?.n ?? 0;
    });
  }

  async countOneTimePrekeys(deviceId: string): Promise<number> {
    const [row] = await this.pool.query<{ n: number }>({ text: DIRECTORY_SQL.countOneTimePrekeys, values: [deviceId] });
    return row?.n ?? 0;
  }
}
