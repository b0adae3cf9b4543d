/**
 * Checks a signed device list against the account it is for: it names this handle and the
 * account's authority (identity) key signed exactly it. What only the store can decide — a
 * version above the stored one, devices that are registered — is decided in the store's
 * transaction (store.ts addDevice, publishDeviceList).
 */
import { verifyDeviceList } from '../../crypto/device-list.js';
import { CryptoError } from '../../crypto/errors.js';
import { RelayError } from '../errors.js';
import type { SignedDeviceListJson } from '../../protocol/http.js';
import type { DeviceListRefusal } from '../store/store.js';

export function checkDeviceList(list: SignedDeviceListJson, handle: string, identityKey: Uint8Array): void {
  if (list.handle !== handle) throw new RelayError('invalid', 'the device list names another handle');
  try {
    verifyDeviceList(list, identityKey);
  } catch (cause) {
    if (cause instanceof CryptoError && cause.code === 'bad_signature') {
      throw new RelayError('bad_signature', 'the device list is not signed by the account identity key', { cause });
    }
    if (cause instanceof CryptoError) throw new RelayError('invalid', `malformed device list: ${cause.message}`, { cause });
    throw cause;
  }
}

/** The store's refusal of a list as the route's error. */
export function deviceListRefused(refusal: DeviceListRefusal): RelayError {
  switch (refusal.status) {
    case 'no_account':
      return new RelayError('not_found', 'no such account');
    case 'stale_version':
      return new RelayError('conflict', `the device list version must increase (the relay holds version ${refusal.current})`);
    case 'unregistered_device':
      return new RelayError('invalid', 'the device list names a device that is not registered to this account');
  }
}
