/**
 * X3DH-style agreement (Signal's X3DH) between two DEVICES (protocol v2). DK = device keys
 * (their X25519 forms), SPK/OPK = the responder's signed and one-time prekeys, EK = the
 * initiator's ephemeral ("base") key. A = initiator.
 *
 *   DH1 = DH(DK_A, SPK_B)  DH2 = DH(EK_A, DK_B)  DH3 = DH(EK_A, SPK_B)
 *   DH4 = DH(EK_A, OPK_B) if a one-time prekey was used
 *   SK  = BLAKE2b-256(unkeyed, "sealpost/v2/x3dh", fields: AD, DH1, DH2, DH3[, DH4])
 *
 * v1 used the ACCOUNT key's private half here, which every device had to hold — so a removed
 * device kept the account's authority. In v2 only device keys do DH; the account (authority)
 * key enters through AD (both account keys and both device keys) and through the signed device
 * list that binds each device to its account, and never has to leave the primary device.
 */
import { computeDh } from './dh.js';
import { KDF_LABELS, deriveKey } from './kdf.js';
import type { DhKeyPair } from './keys.js';
import { signingKeyToDh, signingPrivateKeyToDh } from './keys.js';
import { sodium } from './sodium.js';

export interface X3dhInitiatorInput {
  devicePrivateKey: Uint8Array; // Ed25519 (64 bytes)
  ephemeral: DhKeyPair;
  remoteDeviceKey: Uint8Array; // Ed25519 public
  signedPrekey: Uint8Array; // X25519 public
  oneTimePrekey?: Uint8Array; // X25519 public
  ad: Uint8Array;
}

export interface X3dhResponderInput {
  devicePrivateKey: Uint8Array; // Ed25519 (64 bytes)
  signedPrekey: DhKeyPair;
  oneTimePrekey?: DhKeyPair;
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
  const dk = signingPrivateKeyToDh(i.devicePrivateKey);
  const remoteDk = signingKeyToDh(i.remoteDeviceKey);
  try {
    const dhs = [
      computeDh(dk, i.signedPrekey),
      computeDh(i.ephemeral.privateKey, remoteDk),
      computeDh(i.ephemeral.privateKey, i.signedPrekey),
    ];
    if (i.oneTimePrekey) dhs.push(computeDh(i.ephemeral.privateKey, i.oneTimePrekey));
    return finish(i.ad, dhs);
  } finally {
    sodium().memzero(dk);
  }
}

export function deriveResponderSecret(r: X3dhResponderInput): Uint8Array {
  const dk = signingPrivateKeyToDh(r.devicePrivateKey);
  const remoteDk = signingKeyToDh(r.remoteDeviceKey);
  try {
    const dhs = [
      computeDh(r.signedPrekey.privateKey, remoteDk),
      computeDh(dk, r.baseKey),
      computeDh(r.signedPrekey.privateKey, r.baseKey),
    ];
    if (r.oneTimePrekey) dhs.push(computeDh(r.oneTimePrekey.privateKey, r.baseKey));
    return finish(r.ad, dhs);
  } finally {
    sodium().memzero(dk);
  }
}
