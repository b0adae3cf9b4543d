/**
 * One `envelopes` event from the relay: each envelope through the receive pipeline, its
 * effects committed and reported, then ONE cumulative ack for the batch — after everything in
 * it is persisted, never before. Envelopes held for an unaccepted identity change come back
 * through the same steps once the user accepts the new key.
 */
import { fromBase64Url } from '../../crypto/index.js';
import type { DeliveredEnvelope } from '../../protocol/events.js';
import { applyContent } from './apply-content.js';
import type { ClientContext } from './context.js';
import type { Emit } from './events.js';
import { checkHeads } from './list-heads.js';
import { openIncoming, type ReceiveOutcome } from './receiver.js';

/** Message ids to confirm with a delivered receipt, per sender handle. */
export type Receipts = Map<string, string[]>;

/** Devices (id → handle) whose messages we could not decrypt: each gets a decryption-error notice. */
export type Undecryptable = Map<string, string>;

export interface Received {
  receipts: Receipts;
  undecryptable: Undecryptable;
  /** Devices whose messages decrypted in this batch. */
  heardFrom: Set<string>;
}

/** Returns the delivered receipts and the decryption-error notices to send. */
export async function receiveBatch(ctx: ClientContext, batch: DeliveredEnvelope[], emit: Emit): Promise<Received> {
  let ackUpTo: number | undefined;
  const received: Received = { receipts: new Map(), undecryptable: new Map(), heardFrom: new Set() };
  for (const envelope of batch) {
    if (!(await receiveOne(ctx, envelope, emit, received.receipts, received))) break;
    if (envelope.seq !== undefined) ackUpTo = envelope.seq;
  }
  // The relay deletes what we ack: only once everything it carried is on our disk (a store that
  // failed throws here, and nothing is acked: the relay delivers it again after a reopen).
  await ctx.store.durable();
  if (ackUpTo !== undefined) await ctx.connection.ack({ upTo: ackUpTo }).catch(() => undefined);
  return received;
}

/** Runs `handle`'s held envelopes again (after its new identity key was accepted), oldest first. */
export async function releaseHeld(ctx: ClientContext, handle: string, emit: Emit): Promise<Receipts> {
  const receipts: Receipts = new Map();
  const held = ctx.store.all('heldEnvelopes').filter((h) => h.handle === handle).sort((a, b) => a.heldAt - b.heldAt);
  for (const record of held) {
    if (!(await receiveOne(ctx, { id: record.id, body: fromBase64Url(record.body) }, emit, receipts))) break;
    await ctx.store.commit([{ collection: 'heldEnvelopes', key: record.id, value: null }]);
  }
  return receipts;
}

/** False when the relay became unreachable mid-check: stop, and let the rest come back later. */
async function receiveOne(ctx: ClientContext, envelope: DeliveredEnvelope, emit: Emit, receipts: Receipts, seen?: Omit<Received, 'receipts'>): Promise<boolean> {
  let outcome: ReceiveOutcome;
  try {
    outcome = await openIncoming(ctx, envelope);
  } catch (error) {
    emit('error', error);
    ctx.connection.simulateNetworkFailure();
    return false;
  }
  if (outcome.kind === 'rejected') {
    emit('rejected', outcome.error);
    const { code, details } = outcome.error;
    // Typing (ephemeral) needs no recovery, and must not spend the device's one notice.
    if (code === 'decrypt_failed' && envelope.ephemeral !== true && details.handle !== undefined && details.deviceId !== undefined) {
      seen?.undecryptable.set(details.deviceId, details.handle);
    }
  }
  if (outcome.kind === 'duplicate' && outcome.confirm) {
    // A resend of what we have: confirm it again (the first receipt may be what was lost).
    const { handle, messageId } = outcome.confirm;
    receipts.set(handle, [...(receipts.get(handle) ?? []), messageId]);
  }
  if (outcome.kind === 'content') {
    seen?.heardFrom.add(outcome.received.senderDeviceId);
    await checkHeads(ctx, outcome.received.senderHandle, outcome.received.content.heads, emit);
    const applied = applyContent(ctx.store, ctx.account().handle, outcome.received);
    // Not awaited: the batch's ack waits for durable() (one disk flush for the whole batch).
    outcome.received.batch.commit().catch(() => undefined);
    for (const pending of applied.events) emit(pending.event, pending.payload);
    if (applied.deliveredReceipt) {
      const { handle, messageIds } = applied.deliveredReceipt;
      receipts.set(handle, [...(receipts.get(handle) ?? []), ...messageIds]);
    }
  }
  return true;
}
