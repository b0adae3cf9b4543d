/**
 * The signed statements of Sealpost. Each signature is Ed25519 over a domain-separation
 * label followed by length-prefixed fields, so no statement can be replayed as another.
 * The relay verifies these (it imports only this file, device-list.ts, keys.ts and
 * encoding.ts from crypto/); clients verify device lists and signed prekeys on every lookup.
 * docs/PROTOCOL.md §"Signed statements" gives the byte layouts.
 */
import { concatBytes, uintBE, utf8 } from './encoding.js';
import { CryptoError } from './errors.js';
import { SIGNATURE_BYTES } from './keys.js';
import { sodium } from './sodium.js';

const LABEL_SIGNED_PREKEY = 'sealpost/v2/signed-prekey';
const LABEL_HANDSHAKE = 'sealpost/v2/relay-handshake';
const LABEL_REQUEST = 'sealpost/v2/relay-request';

/** label ‖ 0x00 ‖ for each field: u16 BE length ‖ bytes. */
export function frameStatement(label: string, ...fields: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [utf8(label), new Uint8Array([0])];
  for (const field of fields) parts.push(uintBE(field.length, 2), field);
  return concatBytes(...parts);
}

export function signBytes(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  return sodium().crypto_sign_detached(message, privateKey);
}

export function verifyBytes(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== SIGNATURE_BYTES || publicKey.length !== 32) return false;
  try {
    return sodium().crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

export interface SignedPrekeyFields {
  devicePublicKey: Uint8Array;
  keyId: number;
  /** X25519 public key. */
  publicKey: Uint8Array;
}

function signedPrekeyMessage(p: SignedPrekeyFields): Uint8Array {
  return frameStatement(LABEL_SIGNED_PREKEY, p.devicePublicKey, uintBE(p.keyId, 4), p.publicKey);
}

/**
 * Signed by the DEVICE key (v2): sessions are built on device keys, and the device itself is
 * bound to the account by the authority's signed device list (device-list.ts).
 */
export function signSignedPrekey(p: SignedPrekeyFields, devicePrivateKey: Uint8Array): Uint8Array {
  return signBytes(signedPrekeyMessage(p), devicePrivateKey);
}

export function verifySignedPrekey(p: SignedPrekeyFields, signature: Uint8Array): void {
  if (!verifyBytes(signedPrekeyMessage(p), signature, p.devicePublicKey)) {
    throw new CryptoError('bad_signature', 'signed prekey is not signed by its device key');
  }
}

export interface HandshakeFields {
  /** The relay's host as the client addressed it (`host[:port]`), binding the proof to one relay. */
  relayHost: string;
  deviceId: string;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  /** base64url of 16 random bytes. */
  nonce: string;
}

function handshakeMessage(h: HandshakeFields): Uint8Array {
  return frameStatement(LABEL_HANDSHAKE, utf8(h.relayHost), utf8(h.deviceId), uintBE(h.timestamp, 8), utf8(h.nonce));
}

export function signHandshake(h: HandshakeFields, devicePrivateKey: Uint8Array): Uint8Array {
  return signBytes(handshakeMessage(h), devicePrivateKey);
}

export function verifyHandshake(h: HandshakeFields, signature: Uint8Array, devicePublicKey: Uint8Array): boolean {
  return verifyBytes(handshakeMessage(h), signature, devicePublicKey);
}

export interface RequestFields {
  relayHost: string;
  /** Upper-case HTTP method. */
  method: string;
  /** Path without query string, e.g. `/v1/devices/abc/prekeys`. */
  path: string;
  timestamp: number;
  nonce: string;
  /** The exact request body bytes (empty for no body). */
  body: Uint8Array;
}

function requestMessage(r: RequestFields): Uint8Array {
  const bodyHash = sodium().crypto_generichash(32, r.body, null);
  return frameStatement(LABEL_REQUEST, utf8(r.relayHost), utf8(r.method), utf8(r.path), uintBE(r.timestamp, 8), utf8(r.nonce), bodyHash);
}

/** Signs an HTTP request to the relay (headers in docs/PROTOCOL.md §"Signed requests"). */
export function signRequest(r: RequestFields, privateKey: Uint8Array): Uint8Array {
  return signBytes(requestMessage(r), privateKey);
}

export function verifyRequest(r: RequestFields, signature: Uint8Array, publicKey: Uint8Array): boolean {
  return verifyBytes(requestMessage(r), signature, publicKey);
}
