/**
 * The account authority (protocol v2): the one key that may change an account's device set.
 * It lives on the device that created the account (or recovered it) and in the recovery key;
 * linked devices never hold it, so a removed linked device keeps no power over the account.
 * Every change is a new signed device list with the next version.
 */
import { signDeviceList, type DeviceListDevice, type SigningKeyPair } from '../../crypto/index.js';
import type { SignedDeviceListJson } from '../../protocol/http.js';
import { SdkError } from './errors.js';
import { keyPairOf } from './local-identity.js';
import type { AccountRecord } from './store/records.js';

export function requireAuthority(account: AccountRecord): SigningKeyPair {
  if (!account.authority) {
    throw new SdkError('no_authority', 'only the device that created the account (or one recovered with the recovery key) can add or remove devices');
  }
  return keyPairOf(account.authority);
}

/** The next list after `current`: version + 1, never dated before it. */
export function nextDeviceList(authority: SigningKeyPair, current: SignedDeviceListJson, devices: DeviceListDevice[], now = Date.now()): SignedDeviceListJson {
  const time = Math.max(now, current.time);
  return signDeviceList({ handle: current.handle, version: current.version + 1, time, devices }, authority.privateKey);
}

/** The first list of a new account: this device alone, version 1. */
export function firstDeviceList(authority: SigningKeyPair, handle: string, deviceId: string, now = Date.now()): SignedDeviceListJson {
  return signDeviceList({ handle, version: 1, time: now, devices: [{ deviceId, createdAt: now }] }, authority.privateKey);
}

export function listWith(account: AccountRecord, deviceId: string, now = Date.now()): SignedDeviceListJson {
  const authority = requireAuthority(account);
  const devices = account.deviceList.devices.filter((d) => d.deviceId !== deviceId);
  return nextDeviceList(authority, account.deviceList, [...devices, { deviceId, createdAt: Math.max(now, account.deviceList.time) }], now);
}

export function listWithout(account: AccountRecord, deviceId: string, now = Date.now()): SignedDeviceListJson {
  const authority = requireAuthority(account);
  if (deviceId === account.deviceId) throw new SdkError('no_authority', 'the device that holds the account authority cannot remove itself');
  const devices = account.deviceList.devices.filter((d) => d.deviceId !== deviceId);
  if (devices.length === account.deviceList.devices.length) throw new SdkError('unknown_contact', `no device ${deviceId} in this account's list`, { deviceId });
  return nextDeviceList(authority, account.deviceList, devices, now);
}

/** The same devices at the next version: supersedes a list handed out but never used (a link that timed out). */
export function listRenewed(account: AccountRecord, now = Date.now()): SignedDeviceListJson {
  return nextDeviceList(requireAuthority(account), account.deviceList, account.deviceList.devices.map((d) => ({ ...d })), now);
}
