/**
 * X3DH-style agreement (Signal's X3DH, adapted to Sealpost's account + device keys).
 * IK = account identity keys, DK = device keys (their X25519 forms), SPK/OPK = the responder's
 * signed and one-time prekeys, EK = the initiator's ephemeral ("base") key. A = initiator.
 *
 *   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)
 *   DH4 = DH(DK_A, SPK_B)  DH5 = DH(EK_A, OPK_B) if a one-time prekey was used
 *   SK  = BLAKE2b-256(unkeyed, "sealpost/v1/x3dh", fields: AD, DH1, DH2, DH3, DH4[, DH5])
 *
 * DH4 is ours: an account's identity key is shared by all its devices, so DH1 alone would let
 * any device of the account pose as another; DH4 proves the initiating *device*. AD (both
 * identity and both device keys) enters SK as well as every message key.
 */
import { computeDh } from './dh.js';
import { KDF_LABELS, deriveKey } from './kdf.js';
import type { DhKeyPair } from './keys.js';
import { signingKeyToDh, signingPrivateKeyToDh } from './keys.js';
import { sodium } from './sodium.js';

export interface X3dhInitiatorInput {
  identityPrivateKey: Uint8Array; // Ed25519 (64 bytes)
  devicePrivateKey: Uint8Array; // Ed25519 (64 bytes)
  ephemeral: DhKeyPair;
  remoteIdentityKey: Uint8Array; // Ed25519 public
  signedPrekey: Uint8Array; // X25519 public
  oneTimePrekey?: Uint8Array; // X25519 public
  ad: Uint8Array;
}

export interface X3dhResponderInput {
  identityPrivateKey: Uint8Array;
  signedPrekey: DhKeyPair;
  oneTimePrekey?: DhKeyPair;
  remoteIdentityKey: Uint8Array; // Ed25519 public
  remoteDeviceKey: Uint8Array; // Ed25519 public
  baseKey: Uint8Array; // X25519 public
  ad: Uint8Array;
}

function finish(ad: Uint8Array, dhs: Uint8Array[]): Uint8Array {
  const secret = deriveKey(KDF_LABELS.x3dh, null, [ad, ...dhs]);
  for (const dh of dhs) sodium().memzero(dh);
  return secret;
}

export function deriveInitiatorSecret(i: X3dhInitiatorInput): Uint8Array {
  const ik = signingPrivateKeyToDh(i.identityPrivateKey);
  const dk = signingPrivateKeyToDh(i.devicePrivateKey);
  const remoteIk = signingKeyToDh(i.remoteIdentityKey);
  try {
    const dhs = [
      computeDh(ik, i.signedPrekey),
      computeDh(i.ephemeral.privateKey, remoteIk),
      computeDh(i.ephemeral.privateKey, i.signedPrekey),
      computeDh(dk, i.signedPrekey),
    ];
    if (i.oneTimePrekey) dhs.push(computeDh(i.ephemeral.privateKey, i.oneTimePrekey));
    return finish(i.ad, dhs);
  } finally {
    sodium().memzero(ik);
    sodium().memzero(dk);
  }
}

export function deriveResponderSecret(r: X3dhResponderInput): Uint8Array {
  const ik = signingPrivateKeyToDh(r.identityPrivateKey);
  const remoteIk = signingKeyToDh(r.remoteIdentityKey);
  const remoteDk = signingKeyToDh(r.remoteDeviceKey);
  try {
    const dhs = [
      computeDh(r.signedPrekey.privateKey, remoteIk),
      computeDh(ik, r.baseKey),
      computeDh(r.signedPrekey.privateKey, r.baseKey),
      computeDh(r.signedPrekey.privateKey, remoteDk),
    ];
    if (r.oneTimePrekey) dhs.push(computeDh(r.oneTimePrekey.privateKey, r.baseKey));
    return finish(r.ad, dhs);
  } finally {
    sodium().memzero(ik);
  }
}
