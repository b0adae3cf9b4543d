/**
 * Looking up accounts and deciding whom to trust (protocol v2). The relay's answer carries the
 * account's signed device list; a device is trusted exactly while it is in the newest list
 * this device verified for that account. The directory
 *  - pins the account identity key on first use (a different key later blocks sending until the
 *    user accepts it) and the highest device-list version it verified (an older one is a
 *    rollback and is refused, as is an unsigned or forged one, or another list of the same version);
 *  - skips, and reports, device entries that are malformed or not in the signed list;
 *  - reports device-set changes, and forgets the sessions of devices that left the list in the
 *    same write, so nothing is ever sealed to a removed device again.
 * Our own account goes through the same checks (self-monitoring, on every connect).
 */
import {
  CryptoError, deviceListHead, fromBase64Url, parseSigningPublicKey, verifyDeviceList, verifySignedPrekey,
  type DeviceListHead,
} from '../../crypto/index.js';
import { Value } from '@sinclair/typebox/value';
import { PublicDevice, type PublicDeviceJson, type SignedDeviceListJson } from '../../protocol/http.js';
import { SdkError } from './errors.js';
import type { Emit } from './events.js';
import { deviceSigner } from './local-identity.js';
import type { LookupReplyJson, RelayHttp } from './relay-http.js';
import type { LocalStore, StoreBatch } from './store/local-store.js';
import type { AccountRecord, ContactRecord } from './store/records.js';

/** How long a verified list is used for sending before it is looked up again anyway. */
const LIST_REFRESH_MS = 24 * 3600_000;
/** How far a list's signing time may lie in our future (clock skew between devices). */
const LIST_CLOCK_SKEW_MS = 5 * 60_000;

export interface IdentityChange {
  handle: string;
  previousIdentityKey: string;
  newIdentityKey: string;
}

export interface DeviceRefusal {
  handle: string;
  deviceId: string;
  reason: 'malformed' | 'not_in_device_list' | 'invalid_signed_prekey';
}

export interface DeviceListRefusal {
  handle: string;
  /**
   * unsigned: not signed by the account's authority key (or malformed); rollback: older than a
   * list already verified; fork: same version as the verified one but different content;
   * future: signed more than 5 minutes ahead of our clock; wrong_handle: names another account.
   */
  reason: 'unsigned' | 'rollback' | 'fork' | 'future' | 'wrong_handle';
  served: DeviceListHead | { version: number };
  pinned?: DeviceListHead;
}

export interface DevicesChanged {
  handle: string;
  added: string[];
  removed: string[];
  version: number;
  /** Our own account's devices. */
  own: boolean;
}

export class Directory {
  private readonly inflight = new Map<string, Promise<ContactRecord>>();
  private ownHead: { signature: string; head: DeviceListHead } | undefined;

  constructor(
    private readonly store: LocalStore,
    private readonly http: RelayHttp,
    private readonly account: () => AccountRecord,
    private readonly emit: Emit,
  ) {}

  /** Fresh lookup, verified and pinned; concurrent lookups of one handle share a request. */
  lookup(handle: string): Promise<ContactRecord> {
    let pending = this.inflight.get(handle);
    if (!pending) {
      pending = this.fetchAndVerify(handle).finally(() => this.inflight.delete(handle));
      this.inflight.set(handle, pending);
    }
    return pending;
  }

  /** The last verified view (none before the first lookup); throws while a key change is pending. */
  cached(handle: string): ContactRecord | undefined {
    const contact = this.store.get('contacts', handle);
    if (contact?.changedIdentityKey) throw identityChangedError(handle);
    return contact?.listHead ? contact : undefined;
  }

  /**
   * The list to seal to: the cached verified one, without a round trip, unless there is none or
   * it is a day old. Changes reach us sooner without asking: the relay refuses an envelope
   * sealed under an older list (`stale_devices`), and every message carries the sender's head.
   * With the relay's HTTP side unreachable, the cached list is used whatever its age.
   */
  async forSend(handle: string): Promise<ContactRecord> {
    const contact = this.cached(handle);
    if (contact && Date.now() - contact.lookedUpAt < LIST_REFRESH_MS) return contact;
    try {
      return await this.lookup(handle);
    } catch (error) {
      if (contact && error instanceof SdkError && error.code === 'network') return contact;
      throw error;
    }
  }

  /** The head of the newest list verified for `handle` (our own from the account record). */
  pinnedHead(handle: string): DeviceListHead | undefined {
    const own = this.account();
    if (handle !== own.handle) return this.store.get('contacts', handle)?.listHead;
    // Every content carries it: hash the list once per version, not once per message.
    if (this.ownHead?.signature !== own.deviceList.signature) this.ownHead = { signature: own.deviceList.signature, head: deviceListHead(own.deviceList) };
    return this.ownHead.head;
  }

  private async fetchAndVerify(handle: string): Promise<ContactRecord> {
    const own = this.account();
    const view = await this.http.lookupAccount(handle, deviceSigner(own));
    const self = handle === own.handle;
    const previous = this.store.get('contacts', handle);
    const pinnedKey = self ? own.identityKey : previous?.identityKey;
    if (view.handle !== handle) throw this.refuseList({ handle, reason: 'wrong_handle', served: { version: view.deviceList.version } });
    if (pinnedKey !== undefined && view.identityKey !== pinnedKey) {
      if (self) throw new SdkError('untrusted_device', 'the relay reports a different identity key for our own account', { handle });
      if (previous && previous.changedIdentityKey !== view.identityKey) {
        await this.store.commit([{ collection: 'contacts', key: handle, value: { ...previous, changedIdentityKey: view.identityKey } }]);
        this.emit('identity_changed', { handle, previousIdentityKey: pinnedKey, newIdentityKey: view.identityKey });
      }
      throw identityChangedError(handle);
    }
    const pinned = self ? { head: deviceListHead(own.deviceList), time: own.deviceList.time } : previous?.listHead && { head: previous.listHead, time: previous.listTime ?? 0 };
    const head = this.checkList(handle, view, pinned);
    const list = view.deviceList;
    this.checkDeviceEntries(view);

    const devices = list.devices.map((d) => ({ deviceId: d.deviceId, createdAt: d.createdAt }));
    const before = self ? own.deviceList.devices.map((d) => d.deviceId) : previous?.listHead ? previous.devices.map((d) => d.deviceId) : undefined;
    const now = new Set(devices.map((d) => d.deviceId));
    const removed = before?.filter((id) => !now.has(id)) ?? [];
    const added = before ? devices.map((d) => d.deviceId).filter((id) => !before.includes(id)) : [];

    const contact: ContactRecord = {
      handle, identityKey: view.identityKey, devices, listHead: head, listTime: list.time, lookedUpAt: Date.now(),
      ...(previous?.verified ? { verified: true } : {}),
    };
    const batch = this.store.batch().put('contacts', handle, contact);
    // Sessions with devices that left the list go in the same write: nothing is sealed to them again.
    for (const deviceId of removed) batch.delete('sessions', deviceId);
    if (self) this.updateOwnList(batch, own, list);
    await batch.commit();
    if (added.length > 0 || removed.length > 0) this.emit('devices_changed', { handle, added, removed, version: list.version, own: self });
    if (self && !now.has(own.deviceId)) {
      this.emit('device_removed', { handle, version: list.version });
      throw new SdkError('device_removed', 'this device was removed from its account', { handle });
    }
    return contact;
  }

  /** Verifies the served list against the identity key and the pinned head; returns its head. */
  private checkList(handle: string, view: LookupReplyJson, pinned: { head: DeviceListHead; time: number } | undefined): DeviceListHead {
    const list = view.deviceList;
    let head: DeviceListHead;
    try {
      verifyDeviceList(list, fromBase64Url(view.identityKey, 32));
      head = deviceListHead(list);
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      throw this.refuseList({ handle, reason: 'unsigned', served: { version: list.version }, ...(pinned ? { pinned: pinned.head } : {}) });
    }
    const refusal = (reason: DeviceListRefusal['reason']) => this.refuseList({ handle, reason, served: head, ...(pinned ? { pinned: pinned.head } : {}) });
    if (list.handle !== handle) throw refusal('wrong_handle');
    if (list.time > Date.now() + LIST_CLOCK_SKEW_MS) throw refusal('future');
    if (pinned) {
      if (list.version < pinned.head.version || (list.version > pinned.head.version && list.time < pinned.time)) throw refusal('rollback');
      if (list.version === pinned.head.version && head.hash !== pinned.head.hash) throw refusal('fork');
    }
    return head;
  }

  /** Device entries are advisory (the list decides); bad ones are reported and skipped. */
  private checkDeviceEntries(view: LookupReplyJson): void {
    const listed = new Set(view.deviceList.devices.map((d) => d.deviceId));
    for (const entry of view.devices) {
      const deviceId = typeof (entry as { deviceId?: unknown })?.deviceId === 'string' ? (entry as { deviceId: string }).deviceId : '';
      if (!Value.Check(PublicDevice, entry)) {
        this.emit('device_refused', { handle: view.handle, deviceId, reason: 'malformed' });
      } else if (!listed.has(entry.deviceId)) {
        this.emit('device_refused', { handle: view.handle, deviceId, reason: 'not_in_device_list' });
      } else if (!signedPrekeyVerifies(entry)) {
        this.emit('device_refused', { handle: view.handle, deviceId, reason: 'invalid_signed_prekey' });
      }
    }
  }

  private updateOwnList(batch: StoreBatch, own: AccountRecord, list: SignedDeviceListJson): void {
    if (list.version > own.deviceList.version) batch.put('account', 'self', { ...own, deviceList: list });
  }

  private refuseList(refusal: DeviceListRefusal): SdkError {
    this.emit('device_list_refused', refusal);
    return new SdkError('untrusted_device_list', `the relay served a device list for ${refusal.handle} that cannot be trusted (${refusal.reason})`, { handle: refusal.handle });
  }
}

/** Whether a device entry's signed prekey is signed by that device's key. */
export function signedPrekeyVerifies(device: PublicDeviceJson): boolean {
  try {
    verifySignedPrekey(
      { devicePublicKey: parseSigningPublicKey(device.deviceId), keyId: device.signedPrekey.keyId, publicKey: fromBase64Url(device.signedPrekey.publicKey, 32) },
      fromBase64Url(device.signedPrekey.signature, 64),
    );
    return true;
  } catch (error) {
    if (error instanceof CryptoError) return false;
    throw error;
  }
}

/** Refused while a key change is pending: it would be unclear which of the two keys the user compared. */
export async function markVerified(store: LocalStore, handle: string, verified: boolean): Promise<void> {
  const contact = store.get('contacts', handle);
  if (!contact) throw new SdkError('unknown_contact', `no contact ${handle}; look it up first`, { handle });
  if (contact.changedIdentityKey) throw new SdkError('identity_changed', `${handle}'s identity key changed; accept or refuse it first`, { handle });
  const { verified: _previous, ...rest } = contact;
  await store.commit([{ collection: 'contacts', key: handle, value: verified ? { ...rest, verified: true } : rest }]);
}

export function identityChangedError(handle: string): SdkError {
  return new SdkError('identity_changed', `${handle}'s identity key changed; accept it (after comparing safety numbers) to send again`, { handle });
}
