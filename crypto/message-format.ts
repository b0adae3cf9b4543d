/**
 * Byte layout of session messages (docs/PROTOCOL.md §"Message format"):
 *
 *   version  u8 = 0x02
 *   type     u8 = 0x01 message | 0x02 prekey message
 *   [prekey only]  sender identity key (32, Ed25519) ‖ base key (32, X25519 ephemeral)
 *                  ‖ signed prekey id (u32 BE) ‖ has one-time prekey (u8: 0 | 1)
 *                  ‖ [one-time prekey id (u32 BE)]
 *   ratchet key (32, X25519) ‖ previous chain length PN (u32 BE) ‖ message number N (u32 BE)
 *   nonce (24, random per message)
 *   header tag (16): keyed BLAKE2b of the header under the session's header key
 *   ciphertext: crypto_secretbox_easy(padded content, nonce, message key) — 16-byte tag ‖ ≥ 256 bytes
 *
 * "Header" means every byte before the header tag; all of it is bound into the message key, so
 * a flipped bit anywhere (including the prekey part and the nonce) makes the message fail to
 * open. The header tag lets a receiver drop a forged message after one keyed hash per session,
 * before any ratchet work. The nonce is random, not derived, so two encryptions from one state
 * (two tabs, a restored backup) never reuse a (key, nonce) pair: the nonce changes the header,
 * and the header changes the key.
 */
import { BytesReader } from './bytes-reader.js';
import { concatBytes, uintBE } from './encoding.js';
import { CryptoError } from './errors.js';

export const MESSAGE_VERSION = 2;
export const MESSAGE_TYPE_RATCHET = 1;
export const MESSAGE_TYPE_PREKEY = 2;
const MIN_CIPHERTEXT = 16 + 1;
export const NONCE_BYTES = 24;
export const HEADER_TAG_BYTES = 16;

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
  nonce: Uint8Array;
  /** Every byte before the header tag (the nonce included), exactly as received. */
  header: Uint8Array;
  headerTag: Uint8Array;
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

export function encodeHeader(prekeyPart: Uint8Array | undefined, ratchetKey: Uint8Array, previousCount: number, index: number, nonce: Uint8Array): Uint8Array {
  const type = prekeyPart ? MESSAGE_TYPE_PREKEY : MESSAGE_TYPE_RATCHET;
  return concatBytes(
    new Uint8Array([MESSAGE_VERSION, type]),
    prekeyPart ?? new Uint8Array(0),
    ratchetKey,
    uintBE(previousCount, 4),
    uintBE(index, 4),
    nonce,
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
  const nonce = reader.take(NONCE_BYTES);
  const header = message.slice(0, reader.position);
  const headerTag = reader.take(HEADER_TAG_BYTES);
  const ciphertext = reader.rest();
  if (ciphertext.length < MIN_CIPHERTEXT) throw new CryptoError('invalid_encoding', 'ciphertext too short');
  const parsed: ParsedMessage = { ratchetKey, previousCount, index, nonce, header, headerTag, ciphertext };
  if (prekey) parsed.prekey = prekey;
  return parsed;
}
