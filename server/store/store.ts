/**
 * The relay's storage seam: everything the routes and the gateway persist goes through this
 * async interface, so a PostgreSQL implementation can replace SQLite without touching them.
 * It holds exactly DESIGN.md "What the relay stores": public keys and undelivered sealed
 * bodies addressed to device ids — no sender, no IP, no timestamp except an expiry.
 *
 * Ordering contract the gateway relies on: a write is visible to every read that starts after
 * its promise resolves, and `enqueue` assigns each device's sequence numbers in call order.
 * Account, device and prekey writes resolve once durable; `enqueue` resolves once committed,
 * and `durable()` then says when it survives power loss; the gateway answers senders and
 * pushes to recipients only after that. The split lets the disk flush run off the event loop.
 */

import { RelayError } from '../errors.js';
import type { SignedDeviceListJson } from '../../protocol/http.js';

/**
 * A write refused because the store cannot take it now — the disk is full or below its reserve —
 * though nothing failed for good: answered `unavailable` (503), and the same write succeeds once
 * space returns, without a restart. Other errors of a write are failures (`internal`).
 */
export class StoreUnavailableError extends RelayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

export interface AccountRecord {
  handle: string;
  identityKey: string;
  /**
   * The newest device list the account's authority signed (the routes verified it before it got
   * here). The account's registered devices are exactly the devices it names.
   */
  deviceList: SignedDeviceListJson;
}

export interface SignedPrekeyRecord {
  keyId: number;
  publicKey: string;
  signature: string;
}

export interface OneTimePrekeyRecord {
  keyId: number;
  publicKey: string;
}

export interface DeviceRecord {
  deviceId: string;
  handle: string;
  signedPrekey: SignedPrekeyRecord;
}

export interface BundleRecord {
  account: AccountRecord;
  device: DeviceRecord;
  oneTimePrekey: OneTimePrekeyRecord | undefined;
  /** One-time prekeys left after this claim. */
  remaining: number;
}

export interface EnqueueItem {
  to: string;
  id: string;
  body: Uint8Array;
  expiresAt: number;
}

export type EnqueueOutcome =
  | { status: 'stored'; seq: number }
  | { status: 'duplicate' }
  | { status: 'unknown_device' }
  | { status: 'quota_exceeded' };

export interface QueueLimits {
  /** Per device. */
  maxEnvelopes: number;
  maxBytes: number;
  /** Across every device together; unset = no global cap. */
  maxTotalBytes?: number;
}

export interface QueuedEnvelope {
  seq: number;
  id: string;
  body: Uint8Array;
}

export interface QueueStats {
  envelopes: number;
  bytes: number;
}

/** Totals for the metrics scrape: registered devices and every undelivered envelope. */
export interface RelayStats {
  devices: number;
  envelopes: number;
  bytes: number;
}

/**
 * Why the store refused a new device list. Decided inside the write transaction, so two lists
 * published at once cannot both pass on the same stored version.
 */
export type DeviceListRefusal =
  | { status: 'no_account' }
  /** The list's version is not above the stored one (a replay or a rollback). */
  | { status: 'stale_version'; current: number }
  /** The list names a device that is not a registered device of this account. */
  | { status: 'unregistered_device'; deviceId: string };

/** `removed`: registered devices the new list leaves out, deleted with their prekeys and queues. */
export type AddDeviceOutcome =
  | { status: 'added'; removed: string[] }
  | DeviceListRefusal
  /** The device id is registered already (to this account or another). */
  | { status: 'conflict' }
  | { status: 'quota_exceeded' };

export type PublishDeviceListOutcome = { status: 'published'; removed: string[] } | DeviceListRefusal;

export interface Store {
  /** Creates the account (with its device list) and its first device; false when the handle (or device id) is taken. */
  createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean>;
  getAccount(handle: string): Promise<AccountRecord | undefined>;
  listDevices(handle: string): Promise<DeviceRecord[]>;
  getDevice(deviceId: string): Promise<DeviceRecord | undefined>;
  /**
   * In ONE transaction: registers `device` (of account `device.handle`) with its one-time
   * prekeys, stores `deviceList` (which names it), and deletes every registered device of the
   * account the list leaves out, with its prekeys and queued envelopes. Refused unless the list's
   * version is above the stored one, every other device it names is registered to the account,
   * and it names at most `maxDevices`.
   */
  addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], deviceList: SignedDeviceListJson, maxDevices: number): Promise<AddDeviceOutcome>;
  /**
   * In ONE transaction: stores `deviceList` as the account's list and deletes every registered
   * device it leaves out (prekeys and queue too). Refused unless its version is above the stored
   * one and it names only registered devices of the account.
   */
  publishDeviceList(handle: string, deviceList: SignedDeviceListJson): Promise<PublishDeviceListOutcome>;

  /** Returns the bundle and deletes the oldest one-time prekey in the same transaction. */
  claimBundle(deviceId: string): Promise<BundleRecord | undefined>;
  /** Rotates the signed prekey and/or adds one-time prekeys (existing key ids are kept); returns the count held. */
  putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number>;
  countOneTimePrekeys(deviceId: string): Promise<number>;

  /** Stores all items in ONE transaction (group commit); resolves when committed; outcomes in item order. */
  enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]>;
  /** Resolves once every write committed before the call survives power loss. */
  durable(): Promise<void>;
  /** Unexpired envelopes of `deviceId` with seq > afterSeq, in seq order. */
  readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]>;
  /** Deletes this device's envelopes with seq ≤ upTo; returns how many. */
  ackUpTo(deviceId: string, upTo: number): Promise<number>;
  /** Deletes this device's envelopes with these ids; returns how many. */
  ackIds(deviceId: string, ids: readonly string[]): Promise<number>;
  /** Deletes every envelope with expiresAt ≤ now; returns how many. */
  sweepExpired(now: number): Promise<number>;
  queueStats(deviceId: string): Promise<QueueStats>;
  relayStats(): Promise<RelayStats>;

  /**
   * True when a write transaction succeeds (readiness probe); false when another process holds
   * the write lock. Rejects with a StoreUnavailableError that says why when the store refuses
   * writes for a reason it can name (a full disk, less free space than the reserve), so the probe
   * answers 503 with that reason.
   */
  isWritable(): Promise<boolean>;
  close(): Promise<void>;
}
