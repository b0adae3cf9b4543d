/**
 * The Double Ratchet state of one session (one local device ↔ one remote device), its deep
 * copy and wipe (decrypt works on a copy and commits only on success), and its versioned
 * binary encoding. Used message keys are never part of the state: only keys of messages not
 * yet received (skipped) are stored, and each is deleted and wiped once used.
 */
import { BytesReader } from './bytes-reader.js';
import { concatBytes, uintBE } from './encoding.js';
import { CryptoError } from './errors.js';
import type { DhKeyPair } from './keys.js';
import { sodium } from './sodium.js';

export const DEFAULT_MAX_SKIP = 1000;
/** Remote ratchet keys remembered (public values) so a late message on a finished chain reads as a replay, not as a new ratchet step. */
export const MAX_PREVIOUS_RECEIVING_KEYS = 32;
const STATE_VERSION = 2;
const STATE_KIND = 0x53; // 'S'

export interface SkippedKey {
  ratchetKey: Uint8Array;
  index: number;
  /** Message-key seed from the chain, before the AD + header binding. */
  seed: Uint8Array;
}

export interface SessionState {
  /** True on the side that called initiateSession (fixes the order of keys in the AD). */
  initiator: boolean;
  localIdentity: Uint8Array;
  remoteIdentity: Uint8Array;
  localDevice: Uint8Array;
  remoteDevice: Uint8Array;
  maxSkip: number;
  /** Fixed for the session (from SK): authenticates every header before any ratchet work. */
  headerKey: Uint8Array;
  rootKey: Uint8Array;
  sendRatchet: DhKeyPair;
  sendChain?: Uint8Array;
  sendIndex: number;
  previousSendCount: number;
  recvRatchetKey?: Uint8Array;
  recvChain?: Uint8Array;
  recvIndex: number;
  previousRecvKeys: Uint8Array[];
  /** Oldest first; at most maxSkip entries. */
  skipped: SkippedKey[];
  /** Initiator only: the X3DH part repeated in every message until the first reply decrypts. */
  pendingPrekey?: Uint8Array;
  /** Responder only: the initiator's X3DH ephemeral key, to recognise its later prekey messages. */
  baseKey?: Uint8Array;
}

/** Opaque to callers; mutable. */
export class Session {
  /** @internal */
  state: SessionState;
  constructor(state: SessionState) {
    this.state = state;
  }
}

/** AD = initiator identity ‖ responder identity ‖ initiator device ‖ responder device (Ed25519 publics). */
export function associatedData(s: SessionState): Uint8Array {
  return s.initiator
    ? concatBytes(s.localIdentity, s.remoteIdentity, s.localDevice, s.remoteDevice)
    : concatBytes(s.remoteIdentity, s.localIdentity, s.remoteDevice, s.localDevice);
}

const copy = (b: Uint8Array): Uint8Array => Uint8Array.from(b);
const copyOpt = (b: Uint8Array | undefined): Uint8Array | undefined => (b ? Uint8Array.from(b) : undefined);

export function cloneState(s: SessionState): SessionState {
  const out: SessionState = {
    initiator: s.initiator,
    localIdentity: copy(s.localIdentity),
    remoteIdentity: copy(s.remoteIdentity),
    localDevice: copy(s.localDevice),
    remoteDevice: copy(s.remoteDevice),
    maxSkip: s.maxSkip,
    headerKey: copy(s.headerKey),
    rootKey: copy(s.rootKey),
    sendRatchet: { publicKey: copy(s.sendRatchet.publicKey), privateKey: copy(s.sendRatchet.privateKey) },
    sendIndex: s.sendIndex,
    previousSendCount: s.previousSendCount,
    recvIndex: s.recvIndex,
    previousRecvKeys: s.previousRecvKeys.map(copy),
    skipped: s.skipped.map((k) => ({ ratchetKey: copy(k.ratchetKey), index: k.index, seed: copy(k.seed) })),
  };
  const optional = {
    sendChain: copyOpt(s.sendChain),
    recvRatchetKey: copyOpt(s.recvRatchetKey),
    recvChain: copyOpt(s.recvChain),
    pendingPrekey: copyOpt(s.pendingPrekey),
    baseKey: copyOpt(s.baseKey),
  };
  for (const [name, value] of Object.entries(optional)) if (value) (out as unknown as Record<string, unknown>)[name] = value;
  return out;
}

/** Zeroes every secret of a state that is being discarded (a failed attempt, or a replaced state). */
export function wipeState(s: SessionState): void {
  const zero = (b: Uint8Array | undefined): void => {
    if (b) sodium().memzero(b);
  };
  zero(s.rootKey);
  zero(s.headerKey);
  zero(s.sendRatchet.privateKey);
  zero(s.sendChain);
  zero(s.recvChain);
  for (const k of s.skipped) zero(k.seed);
}

const FLAG_INITIATOR = 1;
const FLAG_SEND_CHAIN = 2;
const FLAG_RECV_RATCHET = 4;
const FLAG_RECV_CHAIN = 8;
const FLAG_PENDING_PREKEY = 16;
const FLAG_BASE_KEY = 32;
const KNOWN_FLAGS = 63;

/** Layout in docs/PROTOCOL.md §"Session state encoding". */
export function encodeState(s: SessionState): Uint8Array {
  const flags =
    (s.initiator ? FLAG_INITIATOR : 0) |
    (s.sendChain ? FLAG_SEND_CHAIN : 0) |
    (s.recvRatchetKey ? FLAG_RECV_RATCHET : 0) |
    (s.recvChain ? FLAG_RECV_CHAIN : 0) |
    (s.pendingPrekey ? FLAG_PENDING_PREKEY : 0) |
    (s.baseKey ? FLAG_BASE_KEY : 0);
  const parts: Uint8Array[] = [
    new Uint8Array([STATE_VERSION, STATE_KIND, flags]),
    s.localIdentity, s.remoteIdentity, s.localDevice, s.remoteDevice,
    uintBE(s.maxSkip, 4),
    s.headerKey,
    s.rootKey,
    s.sendRatchet.publicKey, s.sendRatchet.privateKey,
  ];
  if (s.sendChain) parts.push(s.sendChain);
  parts.push(uintBE(s.sendIndex, 4), uintBE(s.previousSendCount, 4));
  if (s.recvRatchetKey) parts.push(s.recvRatchetKey);
  if (s.recvChain) parts.push(s.recvChain);
  parts.push(uintBE(s.recvIndex, 4));
  if (s.pendingPrekey) parts.push(uintBE(s.pendingPrekey.length, 2), s.pendingPrekey);
  if (s.baseKey) parts.push(s.baseKey);
  parts.push(new Uint8Array([s.previousRecvKeys.length]), ...s.previousRecvKeys);
  parts.push(uintBE(s.skipped.length, 4));
  for (const k of s.skipped) parts.push(k.ratchetKey, uintBE(k.index, 4), k.seed);
  return concatBytes(...parts);
}

export function decodeState(bytes: Uint8Array): SessionState {
  const r = new BytesReader(bytes);
  const version = r.u8();
  if (version !== STATE_VERSION) throw new CryptoError('unsupported_version', `session state version ${version}`);
  if (r.u8() !== STATE_KIND) throw new CryptoError('invalid_encoding', 'not a session state');
  const flags = r.u8();
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new CryptoError('invalid_encoding', 'unknown session state flags');
  const s: SessionState = {
    initiator: (flags & FLAG_INITIATOR) !== 0,
    localIdentity: r.take(32),
    remoteIdentity: r.take(32),
    localDevice: r.take(32),
    remoteDevice: r.take(32),
    maxSkip: r.u32(),
    headerKey: r.take(32),
    rootKey: r.take(32),
    sendRatchet: { publicKey: r.take(32), privateKey: r.take(32) },
    sendIndex: 0,
    previousSendCount: 0,
    recvIndex: 0,
    previousRecvKeys: [],
    skipped: [],
  };
  if (flags & FLAG_SEND_CHAIN) s.sendChain = r.take(32);
  s.sendIndex = r.u32();
  s.previousSendCount = r.u32();
  if (flags & FLAG_RECV_RATCHET) s.recvRatchetKey = r.take(32);
  if (flags & FLAG_RECV_CHAIN) s.recvChain = r.take(32);
  s.recvIndex = r.u32();
  if (flags & FLAG_PENDING_PREKEY) s.pendingPrekey = r.field();
  if (flags & FLAG_BASE_KEY) s.baseKey = r.take(32);
  const previousCount = r.u8();
  if (previousCount > MAX_PREVIOUS_RECEIVING_KEYS) throw new CryptoError('invalid_encoding', 'too many previous ratchet keys');
  for (let i = 0; i < previousCount; i++) s.previousRecvKeys.push(r.take(32));
  const skippedCount = r.u32();
  if (skippedCount > s.maxSkip) throw new CryptoError('invalid_encoding', 'more skipped keys than the skip window');
  for (let i = 0; i < skippedCount; i++) s.skipped.push({ ratchetKey: r.take(32), index: r.u32(), seed: r.take(32) });
  r.end();
  return s;
}
