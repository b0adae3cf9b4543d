/**
 * Checks a device registration against the account it joins: every key parses (Ed25519 device
 * key, X25519 prekeys, no low-order points), the certificate is the identity key's signature over
 * this device, handle and creation time, and the signed prekey verifies too.
 */
import { verifyDeviceCertificate, verifySignedPrekey } from '../../crypto/statements.js';
import { RelayError } from '../errors.js';
import { dhKey, signatureBytes, signingKey } from '../http/keys.js';
import type { DeviceRegistrationJson, OneTimePrekeyJson, SignedPrekeyJson } from '../protocol/http.js';
import type { DeviceRecord } from '../store/store.js';

export function checkSignedPrekey(devicePublicKey: Uint8Array, prekey: SignedPrekeyJson, identityKey: Uint8Array): void {
  const publicKey = dhKey(prekey.publicKey, 'signedPrekey.publicKey');
  const signature = signatureBytes(prekey.signature, 'signedPrekey.signature');
  try {
    verifySignedPrekey({ devicePublicKey, keyId: prekey.keyId, publicKey }, signature, identityKey);
  } catch (cause) {
    throw new RelayError('bad_signature', 'signed prekey is not signed by the account identity key', { cause });
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

/** Returns the device's Ed25519 public key and its store record. */
export function checkDeviceRegistration(
  registration: DeviceRegistrationJson,
  handle: string,
  identityKey: Uint8Array,
): { devicePublicKey: Uint8Array; record: DeviceRecord } {
  const devicePublicKey = signingKey(registration.deviceId, 'deviceId');
  const certSignature = signatureBytes(registration.certificate.signature, 'certificate.signature');
  try {
    verifyDeviceCertificate({ devicePublicKey, handle, createdAt: registration.certificate.createdAt }, certSignature, identityKey);
  } catch (cause) {
    throw new RelayError('bad_signature', 'device certificate is not signed by the account identity key', { cause });
  }
  checkSignedPrekey(devicePublicKey, registration.signedPrekey, identityKey);
  checkOneTimePrekeys(registration.oneTimePrekeys);
  return {
    devicePublicKey,
    record: {
      deviceId: registration.deviceId,
      handle,
      certificate: { ...registration.certificate },
      signedPrekey: { ...registration.signedPrekey },
    },
  };
}
