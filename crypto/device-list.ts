/**
 * The signed device list (protocol v2): the account authority's statement of which devices
 * belong to the account right now. It replaces v1's per-device certificates, which could never
 * be revoked: a device is trusted exactly while it is in the newest list its contact has
 * verified, and removing it is publishing a list without it.
 *
 *   statement = "sealpost/v2/device-list" ‖ 0x00 ‖ field(utf8 handle) ‖ field(u64 version)
 *               ‖ field(u64 time) ‖ for each device, by public key ascending:
 *               field(device public key (32) ‖ u64 createdAt)
 *   signature = Ed25519(authority private key, statement)
 *   head      = (version, BLAKE2b-256(label "sealpost/v2/device-list-head", fields: statement))
 *
 * The relay keeps the latest and refuses any list that does not verify or whose version does
 * not increase; clients pin the highest version they verified per account, refuse rollbacks,
 * and compare heads carried inside every message (docs/PROTOCOL.md §"Device lists").
 */
import { concatBytes, fromBase64Url, toBase64Url, uintBE, utf8 } from './encoding.js';
import { CryptoError } from './errors.js';
import { KDF_LABELS, deriveKey } from './kdf.js';
import { assertSigningPublicKey } from './keys.js';
import { frameStatement, signBytes, verifyBytes } from './statements.js';

const LABEL_DEVICE_LIST = 'sealpost/v2/device-list';
/** Far more than any relay allows (6 by default); bounds the work of verifying one list. */
export const MAX_LIST_DEVICES = 64;

export interface DeviceListDevice {
  /** base64url Ed25519 device public key. */
  deviceId: string;
  /** When the authority added the device, ms since the epoch (never after the list's time). */
  createdAt: number;
}

/** What the authority signs; the JSON form on the wire adds `signature`. */
export interface DeviceListBody {
  handle: string;
  /** Strictly increasing per account, starting at 1. */
  version: number;
  /** When the authority signed it, ms since the epoch. */
  time: number;
  devices: DeviceListDevice[];
}

export interface SignedDeviceList extends DeviceListBody {
  /** base64url Ed25519 signature by the account authority key. */
  signature: string;
}

export interface DeviceListHead {
  version: number;
  /** base64url of the 32-byte head hash. */
  hash: string;
}

/**
 * Devices in canonical order: by public key BYTES, ascending. (Not by the base64url text: its
 * alphabet is not in byte order, e.g. 'A' is 0 but '0' is 52.)
 */
function canonicalDevices(devices: readonly DeviceListDevice[]): Array<{ key: Uint8Array; createdAt: number }> {
  if (devices.length === 0) throw new CryptoError('invalid_encoding', 'a device list names at least one device');
  if (devices.length > MAX_LIST_DEVICES) throw new CryptoError('invalid_encoding', `a device list names at most ${MAX_LIST_DEVICES} devices`);
  const parsed = devices.map((d) => {
    const key = fromBase64Url(d.deviceId, 32);
    assertSigningPublicKey(key);
    return { key, createdAt: d.createdAt };
  });
  parsed.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < parsed.length; i++) {
    if (compareBytes(parsed[i - 1]!.key, parsed[i]!.key) === 0) throw new CryptoError('invalid_encoding', 'a device appears twice in the list');
  }
  return parsed;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return a.length - b.length;
}

/** The exact bytes the authority signs (see the file comment). */
export function deviceListStatement(list: DeviceListBody): Uint8Array {
  if (!Number.isSafeInteger(list.version) || list.version < 1) throw new CryptoError('invalid_encoding', 'device list version must be ≥ 1');
  const devices = canonicalDevices(list.devices);
  for (const d of devices) {
    if (d.createdAt > list.time) throw new CryptoError('invalid_encoding', 'a device is dated after the list');
  }
  return frameStatement(
    LABEL_DEVICE_LIST,
    utf8(list.handle),
    uintBE(list.version, 8),
    uintBE(list.time, 8),
    ...devices.map((d) => concatBytes(d.key, uintBE(d.createdAt, 8))),
  );
}

/** Signs the list with the authority key; devices come back in canonical order. */
export function signDeviceList(list: DeviceListBody, authorityPrivateKey: Uint8Array): SignedDeviceList {
  const statement = deviceListStatement(list);
  const devices = [...list.devices].sort((a, b) => compareBytes(fromBase64Url(a.deviceId), fromBase64Url(b.deviceId)));
  // Only the signed fields: anything else on the caller's objects would travel unsigned.
  const signed = devices.map((d) => ({ deviceId: d.deviceId, createdAt: d.createdAt }));
  return { handle: list.handle, version: list.version, time: list.time, devices: signed, signature: toBase64Url(signBytes(statement, authorityPrivateKey)) };
}

/**
 * Throws `bad_signature` unless the authority signed exactly this list (any field, device or
 * order change fails), `invalid_encoding` for a malformed one.
 */
export function verifyDeviceList(list: SignedDeviceList, authorityPublicKey: Uint8Array): void {
  const statement = deviceListStatement(list);
  const signature = fromBase64Url(list.signature, 64);
  if (!verifyBytes(statement, signature, authorityPublicKey)) {
    throw new CryptoError('bad_signature', 'device list is not signed by the account authority key');
  }
  // Canonical order on the wire too, so one list has one JSON form to hash and compare.
  const canonical = canonicalDevices(list.devices).map((d) => toBase64Url(d.key));
  if (canonical.some((id, i) => id !== list.devices[i]?.deviceId)) throw new CryptoError('invalid_encoding', 'device list is not in canonical order');
}

/** The list's head: its version and a hash of what was signed. */
export function deviceListHead(list: DeviceListBody): DeviceListHead {
  return { version: list.version, hash: toBase64Url(deriveKey(KDF_LABELS.deviceListHead, null, [deviceListStatement(list)])) };
}

export function sameHead(a: DeviceListHead | undefined, b: DeviceListHead | undefined): boolean {
  return a !== undefined && b !== undefined && a.version === b.version && a.hash === b.hash;
}
