/**
 * Rows of the directory tables (accounts, devices, one-time prekeys) to the store's records and
 * back, shared by the SQLite and PostgreSQL directories (sqlite/directory.ts, postgres/directory.ts):
 * both schemas name these columns alike, so a record reads and a device list is stored the same
 * way whichever store holds it.
 */
import type { SignedDeviceListJson } from '../../protocol/http.js';
import type { AccountRecord, BundleRecord, DeviceRecord } from './store.js';

export interface AccountRow {
  handle: string;
  identity_key: string;
  device_list: string;
}

export interface DeviceRow {
  device_id: string;
  handle: string;
  spk_key_id: number;
  spk_public_key: string;
  spk_signature: string;
}

export interface OneTimePrekeyRow {
  key_id: number;
  public_key: string;
}

export function toAccount(row: AccountRow): AccountRecord {
  return { handle: row.handle, identityKey: row.identity_key, deviceList: JSON.parse(row.device_list) as SignedDeviceListJson };
}

export function toDevice(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id,
    handle: row.handle,
    signedPrekey: { keyId: row.spk_key_id, publicKey: row.spk_public_key, signature: row.spk_signature },
  };
}

/** A claimed bundle: the device's account and device rows, the one-time prekey taken (if any was left) and how many remain. */
export function toBundle(account: AccountRow, device: DeviceRow, oneTimePrekey: OneTimePrekeyRow | undefined, remaining: number): BundleRecord {
  return {
    account: toAccount(account),
    device: toDevice(device),
    oneTimePrekey: oneTimePrekey && { keyId: oneTimePrekey.key_id, publicKey: oneTimePrekey.public_key },
    remaining,
  };
}

/** The list as stored (`device_list`): its signed fields and signature only, in a fixed key order. */
export function listJson(list: SignedDeviceListJson): string {
  const { handle, version, time, devices, signature } = list;
  return JSON.stringify({ handle, version, time, devices: devices.map(({ deviceId, createdAt }) => ({ deviceId, createdAt })), signature });
}
