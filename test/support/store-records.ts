/**
 * Placeholder records for store-level tests (test/relay/store*.test.ts, queue-log.test.ts): the
 * store keeps what the routes verified and checks no signature itself, so these carry shapes,
 * not valid keys.
 */
import type { SignedDeviceListJson } from '../../protocol/http.js';
import type { AccountRecord, DeviceRecord } from '../../server/store/store.js';

export function someDevice(deviceId: string, handle: string): DeviceRecord {
  return { deviceId, handle, signedPrekey: { keyId: 1, publicKey: 'p', signature: 's' } };
}

export function someList(handle: string, deviceIds: readonly string[], version = 1): SignedDeviceListJson {
  return { handle, version, time: 1, devices: deviceIds.map((deviceId) => ({ deviceId, createdAt: 1 })), signature: 's' };
}

/** An account whose list (version 1) names these devices. */
export function someAccount(handle: string, ...deviceIds: string[]): AccountRecord {
  return { handle, identityKey: 'k', deviceList: someList(handle, deviceIds) };
}
