/**
 * Byte layout of session messages (docs/PROTOCOL.md §"Message format"):
 *
 *   version  u8 = 0x02
 *   type     u8 = 0x01 message | 0x02 prekey message
 *   [prekey only]  sender identity key (32, Ed25519) ‖ base key (32, X25519 ephemeral)
 *                  ‖ signed prekey id (u32 BE) ‖ has one-time prekey (u8: 0 | 1)
 *                  ‖ [one-time prekey id (u32 BE)]
 *   ratchet key (32, X25519) ‖ previous chain length PN (u32 BE) ‖ message number N (u32 BE)
 *   ciphertext: crypto_secretbox_easy(padded content) — 16-byte tag ‖ ≥ 256 bytes
 *
 * "Header" means every byte before the ciphertext; all of it is bound into the message key, so
 * a flipped bit anywhere (including the prekey part) makes the message fail to open.
 */
import { BytesReader } from './bytes-reader.js';
import { concatBytes, uintBE } from './encoding.js';
import { CryptoError } from './errors.js';

export const MESSAGE_VERSION = 2;
export const MESSAGE_TYPE_RATCHET = 1;
export const MESSAGE_TYPE_PREKEY = 2;
const MIN_CIPHERTEXT = 16 + 1;

export interface PrekeyHeader {
  identityKey: Uint8Array;
  baseKey: Uint8Array;
  signedPrekeyId: number;
  oneTimePrekeyId?: number;
}

export interface ParsedMessage {
  prekey?: PrekeyHeader;
  ratchetKey: Uint8Array;
  previousCount: number;
  index: number;
  /** Every byte before the ciphertext, exactly as received. */
  header: Uint8Array;
  ciphertext: Uint8Array;
}

/** The prekey part (after version and type) that an initiator repeats until the first reply. */
export function encodePrekeyHeader(p: PrekeyHeader): Uint8Array {
  const hasOneTime = p.oneTimePrekeyId !== undefined;
  return concatBytes(
    p.identityKey,
    p.baseKey,
    uintBE(p.signedPrekeyId, 4),
    new Uint8Array([hasOneTime ? 1 : 0]),
    hasOneTime ? uintBE(p.oneTimePrekeyId as number, 4) : new Uint8Array(0),
  );
}

export function encodeHeader(prekeyPart: Uint8Array | undefined, ratchetKey: Uint8Array, previousCount: number, index: number): Uint8Array {
  const type = prekeyPart ? MESSAGE_TYPE_PREKEY : MESSAGE_TYPE_RATCHET;
  return concatBytes(
    new Uint8Array([MESSAGE_VERSION, type]),
    prekeyPart ?? new Uint8Array(0),
    ratchetKey,
    uintBE(previousCount, 4),
    uintBE(index, 4),
  );
}

export function isPrekeyMessage(message: Uint8Array): boolean {
  return message.length >= 2 && message[0] === MESSAGE_VERSION && message[1] === MESSAGE_TYPE_PREKEY;
}

export function parseMessage(message: Uint8Array): ParsedMessage {
  const reader = new BytesReader(message);
  const version = reader.u8();
  if (version !== MESSAGE_VERSION) throw new CryptoError('unsupported_version', `message version ${version}`);
  const type = reader.u8();
  let prekey: PrekeyHeader | undefined;
  if (type === MESSAGE_TYPE_PREKEY) {
    const identityKey = reader.take(32);
    const baseKey = reader.take(32);
    const signedPrekeyId = reader.u32();
    const flag = reader.u8();
    if (flag > 1) throw new CryptoError('invalid_encoding', 'bad one-time prekey flag');
    prekey = { identityKey, baseKey, signedPrekeyId };
    if (flag === 1) prekey.oneTimePrekeyId = reader.u32();
  } else if (type !== MESSAGE_TYPE_RATCHET) {
    throw new CryptoError('invalid_encoding', `unknown message type ${type}`);
  }
  const ratchetKey = reader.take(32);
  const previousCount = reader.u32();
  const index = reader.u32();
  const header = message.slice(0, reader.position);
  const ciphertext = reader.rest();
  if (ciphertext.length < MIN_CIPHERTEXT) throw new CryptoError('invalid_encoding', 'ciphertext too short');
  return prekey ? { prekey, ratchetKey, previousCount, index, header, ciphertext } : { ratchetKey, previousCount, index, header, ciphertext };
}
