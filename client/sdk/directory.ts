/**
 * Looking up accounts and deciding whom to trust. Every device the relay lists must carry a
 * certificate and a signed prekey that verify against the account identity key; a device
 * that does not is refused (never encrypted to) and reported. The identity key itself is
 * pinned on first use: a different key later blocks sending until the user accepts it.
 */
import {
  parseSigningPublicKey, fromBase64Url, verifyDeviceCertificate, verifySignedPrekey, CryptoError,
} from '../../crypto/index.js';
import type { AccountViewJson, PublicDeviceJson } from '../../server/protocol/http.js';
import { SdkError } from './errors.js';
import type { RelayHttp } from './relay-http.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord, ContactRecord } from './store/records.js';

export interface IdentityChange {
  handle: string;
  previousIdentityKey: string;
  newIdentityKey: string;
}

export interface DeviceRefusal {
  handle: string;
  deviceId: string;
  reason: 'invalid_certificate' | 'invalid_signed_prekey';
}

export interface DirectoryEvents {
  onIdentityChanged(change: IdentityChange): void;
  onDeviceRefused(refusal: DeviceRefusal): void;
}

export class Directory {
  private readonly inflight = new Map<string, Promise<ContactRecord>>();

  constructor(
    private readonly store: LocalStore,
    private readonly http: RelayHttp,
    private readonly account: () => AccountRecord,
    private readonly events: DirectoryEvents,
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

  /** The last verified view, for sending while the relay's HTTP side is unreachable. */
  cached(handle: string): ContactRecord | undefined {
    const contact = this.store.get('contacts', handle);
    if (contact?.changedIdentityKey) throw identityChangedError(handle);
    return contact;
  }

  private async fetchAndVerify(handle: string): Promise<ContactRecord> {
    const view = await this.http.lookupAccount(handle);
    const own = this.account();
    const pinned = handle === own.handle ? own.identity.publicKey : this.store.get('contacts', handle)?.identityKey;
    const previous = this.store.get('contacts', handle);
    if (pinned !== undefined && view.identityKey !== pinned) {
      if (handle === own.handle) throw new SdkError('untrusted_device', 'the relay reports a different identity key for our own account', { handle });
      if (previous && previous.changedIdentityKey !== view.identityKey) {
        await this.store.commit([{ collection: 'contacts', key: handle, value: { ...previous, changedIdentityKey: view.identityKey } }]);
        this.events.onIdentityChanged({ handle, previousIdentityKey: pinned, newIdentityKey: view.identityKey });
      }
      throw identityChangedError(handle);
    }
    const contact: ContactRecord = {
      handle,
      identityKey: view.identityKey,
      devices: this.verifiedDevices(view),
      lookedUpAt: Date.now(),
      ...(previous?.verified ? { verified: true } : {}),
    };
    await this.store.commit([{ collection: 'contacts', key: handle, value: contact }]);
    return contact;
  }

  private verifiedDevices(view: AccountViewJson): ContactRecord['devices'] {
    const identityKey = fromBase64Url(view.identityKey, 32);
    const verified: ContactRecord['devices'] = [];
    for (const device of view.devices) {
      const reason = verifyDevice(view.handle, device, identityKey);
      if (reason) this.events.onDeviceRefused({ handle: view.handle, deviceId: device.deviceId, reason });
      else verified.push({ deviceId: device.deviceId, createdAt: device.certificate.createdAt });
    }
    return verified;
  }
}

/** Null when the device's certificate and signed prekey both verify under the account key. */
export function verifyDevice(handle: string, device: PublicDeviceJson, identityKey: Uint8Array): DeviceRefusal['reason'] | null {
  let devicePublicKey: Uint8Array;
  try {
    devicePublicKey = parseSigningPublicKey(device.deviceId);
    verifyDeviceCertificate(
      { devicePublicKey, handle, createdAt: device.certificate.createdAt },
      fromBase64Url(device.certificate.signature, 64),
      identityKey,
    );
  } catch (error) {
    if (error instanceof CryptoError) return 'invalid_certificate';
    throw error;
  }
  try {
    verifySignedPrekey(
      { devicePublicKey, keyId: device.signedPrekey.keyId, publicKey: fromBase64Url(device.signedPrekey.publicKey, 32) },
      fromBase64Url(device.signedPrekey.signature, 64),
      identityKey,
    );
  } catch (error) {
    if (error instanceof CryptoError) return 'invalid_signed_prekey';
    throw error;
  }
  return null;
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
