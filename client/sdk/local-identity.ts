import { fromBase64Url, toBase64Url, type DhKeyPair, type LocalIdentity, type PrekeySource, type SigningKeyPair } from '../../crypto/index.js';
import type { RequestSigner } from './relay-http.js';
import type { LocalStore } from './store/local-store.js';
import type { AccountRecord, KeyPairRecord } from './store/records.js';

export function keyPairOf(record: KeyPairRecord): SigningKeyPair & DhKeyPair {
  return { publicKey: fromBase64Url(record.publicKey), privateKey: fromBase64Url(record.privateKey) };
}

export function keyPairRecord(pair: { publicKey: Uint8Array; privateKey: Uint8Array }): KeyPairRecord {
  return { publicKey: toBase64Url(pair.publicKey), privateKey: toBase64Url(pair.privateKey) };
}

export function localIdentityOf(account: AccountRecord): LocalIdentity {
  return { identityKey: fromBase64Url(account.identityKey, 32), device: keyPairOf(account.device) };
}

/** The crypto core asks for prekeys synchronously; the store's working copy is in memory. */
export function prekeySourceOf(store: LocalStore): PrekeySource {
  return {
    signedPrekey: (keyId) => {
      const record = store.get('signedPrekeys', String(keyId));
      return record && keyPairOf(record);
    },
    oneTimePrekey: (keyId) => {
      const record = store.get('oneTimePrekeys', String(keyId));
      return record && keyPairOf(record);
    },
    acceptedBaseKey: (baseKey) => store.get('acceptedBaseKeys', toBase64Url(baseKey)) !== undefined,
  };
}

/** This device as the signer of relay requests. */
export function deviceSigner(account: AccountRecord): RequestSigner {
  return { deviceId: account.deviceId, privateKey: fromBase64Url(account.device.privateKey) };
}
