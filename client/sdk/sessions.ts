/**
 * Ratchet sessions, one list per remote device. Sessions are stored serialized and loaded per
 * use, so a state change reaches memory only together with everything else in its batch.
 * Several sessions per device are kept (newest first) because two devices that start sessions
 * with each other at the same time end up with two; a message decrypts in whichever it
 * belongs to, and that one becomes the active one — the two sides converge.
 */
import {
  acceptSession, decrypt, prekeyBaseKey, deserializeSession, encrypt, equalBytes, fromBase64Url, initiateSession, isPrekeyMessage,
  parseSigningPublicKey, serializeSession, sessionRemoteIdentityKey, toBase64Url, CryptoError, type LocalIdentity,
} from '../../crypto/index.js';
import type { PrekeyBundleJson } from '../../protocol/http.js';
import { signedPrekeyVerifies } from './directory.js';
import { SdkError } from './errors.js';
import { prekeySourceOf } from './local-identity.js';
import type { RelayHttp, RequestSigner } from './relay-http.js';
import type { LocalStore, StoreBatch } from './store/local-store.js';
import type { SessionRecord } from './store/records.js';

const KEPT_SESSIONS_PER_DEVICE = 4;

export interface RemoteDevice {
  handle: string;
  deviceId: string;
  /** The pinned account identity key (base64url) whose verified device list names this device. */
  identityKey: string;
}

export class Sessions {
  constructor(
    private readonly store: LocalStore,
    private readonly http: RelayHttp,
    private readonly local: () => LocalIdentity,
    private readonly signer: () => RequestSigner,
  ) {}

  has(deviceId: string): boolean {
    return (this.store.get('sessions', deviceId)?.sessions.length ?? 0) > 0;
  }

  /** Encrypts with the device's active session, first claiming and verifying a bundle if there is none (or `fresh`). */
  async encrypt(batch: StoreBatch, remote: RemoteDevice, plaintext: Uint8Array, fresh = false): Promise<Uint8Array> {
    const record = batch.get('sessions', remote.deviceId);
    const pinned = fromBase64Url(remote.identityKey, 32);
    const active = fresh || record?.sessions[0] === undefined ? undefined : deserializeSession(fromBase64Url(record.sessions[0]));
    // A session bound to another identity key (from before an accepted key change) is not reused.
    const session = active && equalBytes(sessionRemoteIdentityKey(active), pinned) ? active : await this.initiate(remote, pinned);
    const message = encrypt(session, plaintext);
    const rest = (record?.sessions ?? []).slice(session === active ? 1 : 0);
    this.save(batch, remote, [toBase64Url(serializeSession(session)), ...rest]);
    return message;
  }

  /**
   * Decrypts a message from `deviceId`: tries each stored session, then — for a prekey message —
   * accepts a new one (deleting its one-time prekey in the same batch). A replay is reported as
   * such, never turned into a new session.
   */
  decrypt(batch: StoreBatch, handle: string, deviceId: string, message: Uint8Array): { plaintext: Uint8Array; remoteIdentityKey: Uint8Array } {
    const record = batch.get('sessions', deviceId);
    const stored = record?.sessions ?? [];
    let lastError: unknown = new SdkError('decrypt_failed', 'no session with this device');
    for (const [index, serialized] of stored.entries()) {
      const session = deserializeSession(fromBase64Url(serialized));
      try {
        const plaintext = decrypt(session, message);
        const others = stored.filter((_, i) => i !== index);
        this.save(batch, { handle, deviceId }, [toBase64Url(serializeSession(session)), ...others]);
        return { plaintext, remoteIdentityKey: sessionRemoteIdentityKey(session) };
      } catch (error) {
        if (error instanceof CryptoError && error.code === 'replay') throw error;
        lastError = error;
      }
    }
    if (!isPrekeyMessage(message)) throw lastError;
    // A first message whose base key we accepted before is a replay, however old: acceptSession
    // refuses it (prekeySourceOf answers from the record written below).
    const baseKey = toBase64Url(prekeyBaseKey(message)!);
    const accepted = acceptSession(this.local(), parseSigningPublicKey(deviceId), message, prekeySourceOf(this.store));
    this.save(batch, { handle, deviceId }, [toBase64Url(serializeSession(accepted.session)), ...stored]);
    batch.put('acceptedBaseKeys', baseKey, { signedPrekeyId: accepted.signedPrekeyId, at: Date.now() });
    if (accepted.usedOneTimePrekeyId !== undefined) batch.delete('oneTimePrekeys', String(accepted.usedOneTimePrekeyId));
    return { plaintext: accepted.plaintext, remoteIdentityKey: accepted.remoteIdentityKey };
  }

  /** Forgets every session with these devices (removed device, accepted identity change). */
  forget(batch: StoreBatch, deviceIds: Iterable<string>): void {
    for (const deviceId of deviceIds) batch.delete('sessions', deviceId);
  }

  private async initiate(remote: RemoteDevice, pinned: Uint8Array) {
    const bundle = await this.http.claimBundle(remote.deviceId, this.signer());
    checkBundle(bundle, remote);
    return initiateSession(this.local(), {
      identityKey: pinned,
      devicePublicKey: parseSigningPublicKey(bundle.deviceId),
      signedPrekey: { keyId: bundle.signedPrekey.keyId, publicKey: fromBase64Url(bundle.signedPrekey.publicKey, 32) },
      ...(bundle.oneTimePrekey
        ? { oneTimePrekey: { keyId: bundle.oneTimePrekey.keyId, publicKey: fromBase64Url(bundle.oneTimePrekey.publicKey, 32) } }
        : {}),
    });
  }

  private save(batch: StoreBatch, remote: { handle: string; deviceId: string }, sessions: string[]): void {
    const record: SessionRecord = { deviceId: remote.deviceId, handle: remote.handle, sessions: sessions.slice(0, KEPT_SESSIONS_PER_DEVICE) };
    batch.put('sessions', remote.deviceId, record);
  }
}

/**
 * The claimed bundle must be the device we looked up (which the caller took from the verified
 * device list), under the pinned identity key, with a signed prekey signed by that device.
 */
function checkBundle(bundle: PrekeyBundleJson, remote: RemoteDevice): void {
  const refuse = (why: string) =>
    new SdkError('untrusted_device', `refusing ${remote.handle}'s device ${remote.deviceId}: ${why}`, { handle: remote.handle, deviceId: remote.deviceId });
  if (bundle.deviceId !== remote.deviceId || bundle.handle !== remote.handle) throw refuse('the bundle is for another device');
  if (bundle.identityKey !== remote.identityKey) throw refuse('the bundle names another identity key');
  if (!signedPrekeyVerifies(bundle)) throw refuse('invalid_signed_prekey');
}
