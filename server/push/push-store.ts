/**
 * Where the relay keeps what Web Push needs (DESIGN.md "What the relay stores"): per device that
 * enabled push, the subscription it registered (the push service's endpoint and the
 * subscription's two keys), and the relay's own VAPID key pair. Nothing else: no time, no
 * account, no count of pushes.
 *
 * Three homes, one contract: beside the SQLite store (sqlite-push-store.ts: a table of the same
 * file, so a device's row goes with the device by a foreign key, and the key pair in a file
 * beside it), in PostgreSQL for a cluster (pg-push-store.ts, same foreign key, the key pair in a
 * row every node reads), and in memory when the database is `:memory:` (tests).
 */
import type { VapidKeys } from './vapid.js';

export interface StoredSubscription {
  endpoint: string;
  /** The subscription's P-256 public key, base64url (what the payload is encrypted to). */
  p256dh: string;
  /** Its 16-byte auth secret, base64url. */
  auth: string;
}

export interface PushStore {
  /** The relay's VAPID key pair: made on first start and kept, so subscriptions stay valid. */
  vapidKeys(): Promise<VapidKeys>;
  /** Registers (or replaces) the device's one subscription; `unknown_device` when the device is gone. */
  put(deviceId: string, subscription: StoredSubscription): Promise<'stored' | 'unknown_device'>;
  get(deviceId: string): Promise<StoredSubscription | undefined>;
  /** Whether there was one to delete. */
  delete(deviceId: string): Promise<boolean>;
  /**
   * A push service said the subscription is gone (404/410): deletes it, unless the device has
   * registered another endpoint since the push began.
   */
  deleteGone(deviceId: string, endpoint: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * `:memory:` databases (tests): lost on exit like everything else then. Nothing cascades here:
 * a removed device's subscription stays until exit, unused (no envelope is stored for a device
 * the relay no longer has, so none wakes it).
 */
export class MemoryPushStore implements PushStore {
  readonly #subscriptions = new Map<string, StoredSubscription>();

  constructor(private readonly keys: VapidKeys) {}

  async vapidKeys(): Promise<VapidKeys> {
    return this.keys;
  }

  async put(deviceId: string, subscription: StoredSubscription): Promise<'stored'> {
    this.#subscriptions.set(deviceId, { ...subscription });
    return 'stored';
  }

  async get(deviceId: string): Promise<StoredSubscription | undefined> {
    return this.#subscriptions.get(deviceId);
  }

  async delete(deviceId: string): Promise<boolean> {
    return this.#subscriptions.delete(deviceId);
  }

  async deleteGone(deviceId: string, endpoint: string): Promise<void> {
    if (this.#subscriptions.get(deviceId)?.endpoint === endpoint) this.#subscriptions.delete(deviceId);
  }

  async close(): Promise<void> {}
}
