/** Shared fixtures for test/crypto: real libsodium, real keys, a bundle the way the SDK builds one. */
import type { DhKeyPair, LocalIdentity, PrekeySource, RemoteBundle, SigningKeyPair } from '../../crypto/index.js';
import { expect } from 'vitest';
import { CryptoError, generateDhKeyPair, generateSigningKeyPair, utf8, fromUtf8 } from '../../crypto/index.js';

export interface Party {
  /** The account authority (identity) key pair; in v2 only its public half is part of a device's identity. */
  authority: SigningKeyPair;
  local: LocalIdentity;
  signedPrekey: DhKeyPair;
  oneTimePrekeys: Map<number, DhKeyPair>;
  prekeys: PrekeySource;
}

export function makeParty(oneTimeCount = 3): Party {
  const signedPrekey = generateDhKeyPair();
  const oneTimePrekeys = new Map<number, DhKeyPair>();
  for (let id = 1; id <= oneTimeCount; id++) oneTimePrekeys.set(id, generateDhKeyPair());
  const authority = generateSigningKeyPair();
  return {
    authority,
    local: { identityKey: authority.publicKey, device: generateSigningKeyPair() },
    signedPrekey,
    oneTimePrekeys,
    prekeys: {
      signedPrekey: (id) => (id === 7 ? signedPrekey : undefined),
      oneTimePrekey: (id) => oneTimePrekeys.get(id),
    },
  };
}

export function bundleOf(party: Party, oneTimeId?: number): RemoteBundle {
  const bundle: RemoteBundle = {
    identityKey: party.local.identityKey,
    devicePublicKey: party.local.device.publicKey,
    signedPrekey: { keyId: 7, publicKey: party.signedPrekey.publicKey },
  };
  const oneTime = oneTimeId === undefined ? undefined : party.oneTimePrekeys.get(oneTimeId);
  if (oneTime && oneTimeId !== undefined) bundle.oneTimePrekey = { keyId: oneTimeId, publicKey: oneTime.publicKey };
  return bundle;
}

export const text = utf8;
export const untext = fromUtf8;

/** Runs `fn` and returns the code of the CryptoError it throws (any other error fails the test). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(CryptoError);
    return (error as CryptoError).code;
  }
  return undefined;
}
