/**
 * Checks a device registration: every key parses (Ed25519 device key, X25519 prekeys, no
 * low-order points) and the signed prekey is signed by the device's own key (protocol v2).
 * Whether the device belongs to an account is the device list's business (device-list-check.ts).
 */
import { verifySignedPrekey } from '../../crypto/statements.js';
import { RelayError } from '../errors.js';
import { dhKey, signatureBytes, signingKey } from '../http/keys.js';
import type { DeviceRegistrationJson, OneTimePrekeyJson, SignedPrekeyJson } from '../../protocol/http.js';
import type { DeviceRecord } from '../store/store.js';

export function checkSignedPrekey(devicePublicKey: Uint8Array, prekey: SignedPrekeyJson): void {
  const publicKey = dhKey(prekey.publicKey, 'signedPrekey.publicKey');
  const signature = signatureBytes(prekey.signature, 'signedPrekey.signature');
  try {
    verifySignedPrekey({ devicePublicKey, keyId: prekey.keyId, publicKey }, signature);
  } catch (cause) {
    throw new RelayError('bad_signature', 'signed prekey is not signed by its device key', { cause });
  }
}

export function checkOneTimePrekeys(prekeys: readonly OneTimePrekeyJson[]): void {
  const ids = new Set<number>();
  prekeys.forEach((k, i) => {
    dhKey(k.publicKey, `oneTimePrekeys[${i}].publicKey`);
    if (ids.has(k.keyId)) throw new RelayError('invalid', `oneTimePrekeys[${i}].keyId is repeated`);
    ids.add(k.keyId);
  });
}

/** Returns the device's Ed25519 public key and its store record (a device of `handle`). */
export function checkDeviceRegistration(registration: DeviceRegistrationJson, handle: string): { devicePublicKey: Uint8Array; record: DeviceRecord } {
  const devicePublicKey = signingKey(registration.deviceId, 'deviceId');
  checkSignedPrekey(devicePublicKey, registration.signedPrekey);
  checkOneTimePrekeys(registration.oneTimePrekeys);
  return {
    devicePublicKey,
    record: { deviceId: registration.deviceId, handle, signedPrekey: { ...registration.signedPrekey } },
  };
}
