/**
 * Names of the account's own devices ("Work laptop"), chosen by the user on any own device and
 * shared only among them: inside `sync` contents (end-to-end encrypted, own devices only,
 * docs/PROTOCOL.md §14.6), never in anything the relay reads. The relay knows devices by id alone.
 *
 * Every device keeps one record per device id and takes a name only if it is newer, with the
 * same tie-break everywhere, so two devices that rename at once still end up agreeing.
 */
import { SdkError } from './errors.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord, DeviceNameRecord } from './store/records.js';

export const MAX_DEVICE_NAME = 64;

/**
 * Trimmed, inner runs of whitespace as one space; 1 to 64 characters with no control characters
 * (a name is shown on one line in every client).
 */
export function normalizeDeviceName(name: string): string {
  const normalized = name.replace(/\s+/g, ' ').trim();
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(normalized)) throw new SdkError('invalid_content', 'a device name cannot contain control characters');
  if (normalized.length < 1 || normalized.length > MAX_DEVICE_NAME) throw new SdkError('invalid_content', `a device name has 1 to ${MAX_DEVICE_NAME} characters`);
  return normalized;
}

/** Whether `incoming` replaces `existing`: a later `at`, or on the same `at` the name that sorts last. */
export function isNewerName(existing: DeviceNameRecord | undefined, incoming: DeviceNameRecord): boolean {
  if (!existing) return true;
  if (existing.at !== incoming.at) return existing.at < incoming.at;
  return existing.name < incoming.name;
}

/**
 * The names worth sending: those of devices in the account's current list. Names of removed
 * devices stay in the store (harmless) but are not shared, so a sync stays within its 64 names.
 */
export function namesToShare(store: LocalStore, account: AccountRecord | undefined): DeviceNameRecord[] {
  const listed = new Set(account?.deviceList.devices.map((d) => d.deviceId) ?? []);
  return store.all('deviceNames').filter((n) => listed.has(n.deviceId)).map(({ deviceId, name, at }) => ({ deviceId, name, at }));
}

/**
 * The record for naming `deviceId` now. Only a device of the account's verified list can be named
 * (a name for an id nobody shows would travel to every own device for nothing). `at` never goes
 * back: a device whose clock is behind still replaces the name it holds.
 */
export function nameRecord(store: LocalStore, account: AccountRecord, deviceId: string, name: string, now = Date.now()): DeviceNameRecord {
  const normalized = normalizeDeviceName(name);
  if (!account.deviceList.devices.some((d) => d.deviceId === deviceId)) {
    throw new SdkError('invalid_content', 'that device is not one of this account’s devices');
  }
  const existing = store.get('deviceNames', deviceId);
  return { deviceId, name: normalized, at: Math.max(now, (existing?.at ?? 0) + 1) };
}
