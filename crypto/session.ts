/**
 * Sessions: X3DH-style establishment (x3dh.ts) feeding the Double Ratchet (ratchet.ts), with
 * padding, the prekey header until the first reply, and commit-on-success decryption.
 * One session per (local device, remote device) pair. docs/PROTOCOL.md §"Sessions".
 */
import { equalBytes } from './encoding.js';
import { CryptoError } from './errors.js';
import type { DhKeyPair, SigningKeyPair } from './keys.js';
import { assertDhPublicKey, assertSigningPublicKey, generateDhKeyPair } from './keys.js';
import { computeDh } from './dh.js';
import type { ParsedMessage } from './message-format.js';
import { encodePrekeyHeader, parseMessage } from './message-format.js';
import { padContent, unpadContent } from './padding.js';
import { ratchetDecrypt, ratchetEncrypt } from './ratchet.js';
import { deriveHeaderKey, deriveRootKeys } from './ratchet-kdf.js';
import type { SessionState } from './session-state.js';
import { DEFAULT_MAX_SKIP, Session, associatedData, cloneState, decodeState, encodeState, wipeState } from './session-state.js';
import { deriveInitiatorSecret, deriveResponderSecret } from './x3dh.js';
import { sodium } from './sodium.js';

export { Session } from './session-state.js';
export { isPrekeyMessage } from './message-format.js';

export interface LocalIdentity {
  /** The ACCOUNT identity (authority) PUBLIC key; its private half stays on the primary device (v2). */
  identityKey: Uint8Array;
  /** This device's Ed25519 key; deviceId = deviceIdOf(device.publicKey). */
  device: SigningKeyPair;
}

/** From the relay's prekey bundle, AFTER the caller checked the device is in the account's verified device list and its signed prekey verifies. */
export interface RemoteBundle {
  identityKey: Uint8Array;
  devicePublicKey: Uint8Array;
  signedPrekey: { keyId: number; publicKey: Uint8Array };
  oneTimePrekey?: { keyId: number; publicKey: Uint8Array };
}

/** The receiver's private prekeys, looked up by id, and its record of accepted base keys. */
export interface PrekeySource {
  signedPrekey(keyId: number): DhKeyPair | undefined;
  oneTimePrekey(keyId: number): DhKeyPair | undefined;
  /**
   * True when a session was already accepted from this X3DH base key: the message is then a
   * replay and never becomes a session (X3DH §4.2; without a one-time prekey nothing else stops
   * it). The caller records the base key of every session it stores, for as long as it keeps the
   * signed prekey that session used.
   */
  acceptedBaseKey?(baseKey: Uint8Array): boolean;
}

export interface SessionOptions {
  /** Most message keys skipped in one step, and most stored in total. Default 1000. */
  maxSkip?: number;
}

function maxSkipOf(options?: SessionOptions): number {
  const maxSkip = options?.maxSkip ?? DEFAULT_MAX_SKIP;
  if (!Number.isSafeInteger(maxSkip) || maxSkip < 0 || maxSkip > 0xffffffff) {
    throw new CryptoError('invalid_encoding', 'maxSkip must be an integer in [0, 2^32)');
  }
  return maxSkip;
}

/** Fixed ephemeral and ratchet keys are for test vectors only; initiateSession draws fresh ones. */
export function initiateSessionWithKeys(
  local: LocalIdentity,
  remote: RemoteBundle,
  keys: { ephemeral: DhKeyPair; ratchet: DhKeyPair },
  options?: SessionOptions,
): Session {
  assertSigningPublicKey(remote.identityKey);
  assertSigningPublicKey(remote.devicePublicKey);
  assertDhPublicKey(remote.signedPrekey.publicKey);
  if (remote.oneTimePrekey) assertDhPublicKey(remote.oneTimePrekey.publicKey);
  const partial = {
    initiator: true,
    localIdentity: Uint8Array.from(local.identityKey),
    remoteIdentity: Uint8Array.from(remote.identityKey),
    localDevice: Uint8Array.from(local.device.publicKey),
    remoteDevice: Uint8Array.from(remote.devicePublicKey),
  };
  const ad = associatedData({ ...partial } as SessionState);
  const secret = deriveInitiatorSecret({
    devicePrivateKey: local.device.privateKey,
    ephemeral: keys.ephemeral,
    remoteDeviceKey: remote.devicePublicKey,
    signedPrekey: remote.signedPrekey.publicKey,
    ...(remote.oneTimePrekey ? { oneTimePrekey: remote.oneTimePrekey.publicKey } : {}),
    ad,
  });
  // Signal's initialisation: Alice's first sending chain comes from DH(ratchet, SPK_B).
  const first = deriveRootKeys(secret, computeDh(keys.ratchet.privateKey, remote.signedPrekey.publicKey));
  const headerKey = deriveHeaderKey(secret);
  sodium().memzero(secret);
  const state: SessionState = {
    ...partial,
    maxSkip: maxSkipOf(options),
    headerKey,
    rootKey: first.rootKey,
    sendRatchet: { publicKey: Uint8Array.from(keys.ratchet.publicKey), privateKey: Uint8Array.from(keys.ratchet.privateKey) },
    sendChain: first.chainKey,
    sendIndex: 0,
    previousSendCount: 0,
    recvRatchetKey: Uint8Array.from(remote.signedPrekey.publicKey),
    recvIndex: 0,
    previousRecvKeys: [],
    skipped: [],
    pendingPrekey: encodePrekeyHeader({
      identityKey: local.identityKey,
      baseKey: keys.ephemeral.publicKey,
      signedPrekeyId: remote.signedPrekey.keyId,
      ...(remote.oneTimePrekey ? { oneTimePrekeyId: remote.oneTimePrekey.keyId } : {}),
    }),
  };
  return new Session(state);
}

export function initiateSession(local: LocalIdentity, remote: RemoteBundle, options?: SessionOptions): Session {
  const ephemeral = generateDhKeyPair();
  try {
    return initiateSessionWithKeys(local, remote, { ephemeral, ratchet: generateDhKeyPair() }, options);
  } finally {
    // The ephemeral private key is needed only for SK: forget it at once.
    sodium().memzero(ephemeral.privateKey);
  }
}

/** Pads then encrypts under a fresh random nonce; mutates the session. Until the first reply arrives, messages carry the X3DH prekey header. */
export function encrypt(session: Session, plaintext: Uint8Array): Uint8Array {
  return ratchetEncrypt(session.state, padContent(plaintext));
}

/** A fixed nonce is for test vectors only: `encrypt` draws a fresh one for every message. */
export function encryptWithNonce(session: Session, plaintext: Uint8Array, nonce: Uint8Array): Uint8Array {
  return ratchetEncrypt(session.state, padContent(plaintext), nonce);
}

/** Runs a decryption on a copy of the state; the session takes the copy only if it all succeeded. */
function decryptParsed(session: Session, m: ParsedMessage): Uint8Array {
  const attempt = cloneState(session.state);
  try {
    const plaintext = unpadContent(ratchetDecrypt(attempt, m));
    // Any message from the responder proves it holds the session: stop sending the prekey header.
    delete attempt.pendingPrekey;
    wipeState(session.state);
    session.state = attempt;
    return plaintext;
  } catch (error) {
    wipeState(attempt);
    throw error;
  }
}

/** Decrypts and unpads; mutates the session only on success. Also accepts a prekey message for this session. */
export function decrypt(session: Session, message: Uint8Array): Uint8Array {
  const m = parseMessage(message);
  if (m.prekey) {
    const s = session.state;
    // A prekey message belongs to this session only if it repeats the X3DH this session was built from.
    if (!s.baseKey || !equalBytes(m.prekey.baseKey, s.baseKey) || !equalBytes(m.prekey.identityKey, s.remoteIdentity)) {
      throw new CryptoError('decrypt_failed', 'prekey message starts a different session (use acceptSession)');
    }
  }
  return decryptParsed(session, m);
}

/** Receiver side of X3DH + first decrypt. Consumes nothing: the caller deletes usedOneTimePrekeyId after storing the result. */
export function acceptSession(
  local: LocalIdentity,
  remoteDevicePublicKey: Uint8Array,
  message: Uint8Array,
  prekeys: PrekeySource,
  options?: SessionOptions,
): { session: Session; plaintext: Uint8Array; remoteIdentityKey: Uint8Array; signedPrekeyId: number; usedOneTimePrekeyId?: number } {
  const m = parseMessage(message);
  if (!m.prekey) throw new CryptoError('invalid_encoding', 'not a prekey message');
  const { identityKey, baseKey, signedPrekeyId, oneTimePrekeyId } = m.prekey;
  if (prekeys.acceptedBaseKey?.(baseKey)) throw new CryptoError('replay', 'a session was already accepted from this first message');
  assertSigningPublicKey(identityKey);
  assertSigningPublicKey(remoteDevicePublicKey);
  assertDhPublicKey(baseKey);
  const signedPrekey = prekeys.signedPrekey(signedPrekeyId);
  if (!signedPrekey) throw new CryptoError('unknown_prekey', `no signed prekey ${signedPrekeyId}`);
  let oneTimePrekey: DhKeyPair | undefined;
  if (oneTimePrekeyId !== undefined) {
    oneTimePrekey = prekeys.oneTimePrekey(oneTimePrekeyId);
    if (!oneTimePrekey) throw new CryptoError('unknown_prekey', `no one-time prekey ${oneTimePrekeyId} (already used?)`);
  }
  const partial = {
    initiator: false,
    localIdentity: Uint8Array.from(local.identityKey),
    remoteIdentity: Uint8Array.from(identityKey),
    localDevice: Uint8Array.from(local.device.publicKey),
    remoteDevice: Uint8Array.from(remoteDevicePublicKey),
  };
  const ad = associatedData({ ...partial } as SessionState);
  const secret = deriveResponderSecret({
    devicePrivateKey: local.device.privateKey,
    signedPrekey,
    ...(oneTimePrekey ? { oneTimePrekey } : {}),
    remoteDeviceKey: remoteDevicePublicKey,
    baseKey,
    ad,
  });
  // Bob's initialisation: his first ratchet key pair is the signed prekey; the first message's
  // ratchet key triggers a DH ratchet step at once, after which the copy is wiped.
  const session = new Session({
    ...partial,
    maxSkip: maxSkipOf(options),
    headerKey: deriveHeaderKey(secret),
    rootKey: secret,
    sendRatchet: { publicKey: Uint8Array.from(signedPrekey.publicKey), privateKey: Uint8Array.from(signedPrekey.privateKey) },
    sendIndex: 0,
    previousSendCount: 0,
    recvIndex: 0,
    previousRecvKeys: [],
    skipped: [],
    baseKey: Uint8Array.from(baseKey),
  });
  let plaintext: Uint8Array;
  try {
    plaintext = decryptParsed(session, m);
  } catch (error) {
    wipeState(session.state); // holds SK and a copy of the signed prekey's private key
    throw error;
  }
  const result = { session, plaintext, remoteIdentityKey: Uint8Array.from(identityKey), signedPrekeyId };
  return oneTimePrekeyId === undefined ? result : { ...result, usedOneTimePrekeyId: oneTimePrekeyId };
}

/**
 * The X3DH base key of a prekey message (undefined for other messages). Receivers keep the base
 * keys they accepted and refuse a second session from one (a replayed first message), as
 * libsignal does; X3DH §4.2 warns that without a one-time prekey nothing else stops it.
 */
export function prekeyBaseKey(message: Uint8Array): Uint8Array | undefined {
  return parseMessage(message).prekey?.baseKey;
}

export function serializeSession(session: Session): Uint8Array {
  return encodeState(session.state);
}

export function deserializeSession(bytes: Uint8Array): Session {
  return new Session(decodeState(bytes));
}

export function sessionRemoteIdentityKey(session: Session): Uint8Array {
  return Uint8Array.from(session.state.remoteIdentity);
}

export function sessionRemoteDeviceKey(session: Session): Uint8Array {
  return Uint8Array.from(session.state.remoteDevice);
}
