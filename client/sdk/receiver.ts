/**
 * Inbound pipeline, per envelope: drop a duplicate envelope id → open the seal → decrypt in
 * the sender device's session → check the sender really is that account's certified device
 * with the pinned identity key → parse → drop a duplicate message id → persist everything in
 * one batch → report. The caller acks the relay only after this resolves, so a crash at any
 * point means redelivery, and redelivery means a duplicate that is dropped here.
 */
import { CryptoError, equalBytes, fromBase64Url, openEnvelope, toBase64Url } from '../../crypto/index.js';
import type { DeliveredEnvelope } from '../../protocol/events.js';
import { decodeContent, type Content } from './content.js';
import type { ClientContext } from './context.js';
import { SdkError } from './errors.js';
import { keyPairOf } from './local-identity.js';
import type { LocalStore, StoreBatch } from './store/local-store.js';

export interface Received {
  senderHandle: string;
  senderDeviceId: string;
  content: Content;
  ephemeral: boolean;
  /** Writes the content handler adds (message record, group state) before the batch commits. */
  batch: StoreBatch;
}

export type ReceiveOutcome =
  | { kind: 'content'; received: Received }
  /** `confirm`: a text we already have, sent again — its sender may have missed our receipt. */
  | { kind: 'duplicate'; confirm?: { handle: string; messageId: string } }
  | { kind: 'held'; handle: string }
  | { kind: 'rejected'; error: SdkError };

/** Opens and decrypts; the returned batch (on `content`) must be committed by the caller. */
export async function openIncoming(ctx: ClientContext, envelope: DeliveredEnvelope): Promise<ReceiveOutcome> {
  const ephemeral = envelope.ephemeral === true;
  if (!ephemeral && ctx.store.get('seenEnvelopes', envelope.id)) return { kind: 'duplicate' };
  const account = ctx.account();
  const batch = ctx.store.batch();
  if (!ephemeral) batch.put('seenEnvelopes', envelope.id, { at: Date.now() });
  const reject = async (error: SdkError): Promise<ReceiveOutcome> => {
    // Remember the envelope id only: a bad envelope must not come back, but no state changes.
    if (!ephemeral) await ctx.store.commit([{ collection: 'seenEnvelopes', key: envelope.id, value: { at: Date.now() } }]);
    return { kind: 'rejected', error };
  };
  let sender: { senderHandle: string; senderDeviceId: string; message: Uint8Array };
  try {
    sender = openEnvelope(envelope.body, keyPairOf(account.device));
  } catch (cause) {
    return reject(new SdkError('decrypt_failed', 'envelope is not sealed to this device', { cause }));
  }
  let decrypted: { plaintext: Uint8Array; remoteIdentityKey: Uint8Array };
  try {
    decrypted = ctx.sessions.decrypt(batch, sender.senderHandle, sender.senderDeviceId, sender.message);
  } catch (cause) {
    if (cause instanceof CryptoError && cause.code === 'replay') {
      await reject(new SdkError('decrypt_failed', 'replayed message'));
      return { kind: 'duplicate' };
    }
    return reject(new SdkError('decrypt_failed', `cannot decrypt a message from ${sender.senderHandle}`, { cause, handle: sender.senderHandle, deviceId: sender.senderDeviceId }));
  }
  const trust = await checkSender(ctx, sender.senderHandle, sender.senderDeviceId, decrypted.remoteIdentityKey);
  if (trust?.code === 'identity_changed' && !ephemeral) {
    // Not lost and not shown: kept sealed, without its session, until the user accepts the new key.
    const held = { id: envelope.id, body: toBase64Url(envelope.body), handle: sender.senderHandle, heldAt: Date.now() };
    await ctx.store.commit([{ collection: 'heldEnvelopes', key: envelope.id, value: held }]);
    return { kind: 'held', handle: sender.senderHandle };
  }
  if (trust) return reject(trust);
  let content: Content;
  try {
    content = decodeContent(decrypted.plaintext);
  } catch (error) {
    await batch.commit(); // the ratchet did advance; keep it in step with the peer
    return { kind: 'rejected', error: error as SdkError };
  }
  const messageKey = `${sender.senderHandle}:${content.id}`;
  if (!ephemeral && ctx.store.get('seenMessages', messageKey)) {
    // A duplicate never commits session state (only the envelope id is remembered): a replay
    // that somehow decrypted must not become the active session.
    await ctx.store.commit([{ collection: 'seenEnvelopes', key: envelope.id, value: { at: Date.now() } }]);
    const resent = content.type === 'text' && sender.senderHandle !== account.handle;
    return resent ? { kind: 'duplicate', confirm: { handle: sender.senderHandle, messageId: content.id } } : { kind: 'duplicate' };
  }
  if (!ephemeral) batch.put('seenMessages', messageKey, { at: Date.now() });
  return { kind: 'content', received: { ...sender, content, ephemeral, batch } };
}

/** Null when the device is a certified device of `handle` and the session's identity key is the pinned one. */
async function checkSender(ctx: ClientContext, handle: string, deviceId: string, remoteIdentityKey: Uint8Array): Promise<SdkError | null> {
  let contact = ctx.store.get('contacts', handle);
  const known = (c: typeof contact) => c?.devices.some((device) => device.deviceId === deviceId) === true;
  if (!known(contact) || contact?.changedIdentityKey) {
    try {
      contact = await ctx.directory.lookup(handle);
    } catch (error) {
      // Unreachable relay: not the sender's fault; throw so the envelope stays unacked and comes back.
      if (error instanceof SdkError && error.code === 'network') throw error;
      return error instanceof SdkError ? error : new SdkError('untrusted_sender', `cannot verify ${handle}`, { cause: error });
    }
  }
  if (!contact || !known(contact)) {
    return new SdkError('untrusted_sender', `${deviceId} is not a certified device of ${handle}`, { handle, deviceId });
  }
  if (!equalBytes(fromBase64Url(contact.identityKey, 32), remoteIdentityKey)) {
    return new SdkError('untrusted_sender', `the session's identity key is not ${handle}'s pinned key`, { handle, deviceId });
  }
  return null;
}

/** Dedup ids outlive any redelivery only up to the relay's envelope TTL (30 days by default). */
const DEDUP_RETENTION_MS = 31 * 24 * 3600_000;

export async function pruneDedupIds(store: LocalStore, now = Date.now()): Promise<void> {
  const batch = store.batch();
  for (const collection of ['seenEnvelopes', 'seenMessages'] as const) {
    for (const [key, seen] of store.entries(collection)) if (now - seen.at > DEDUP_RETENTION_MS) batch.delete(collection, key);
  }
  await batch.commit();
}
