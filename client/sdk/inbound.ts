/**
 * One `envelopes` event from the relay: each envelope through the receive pipeline, its
 * effects committed and reported, then ONE cumulative ack for the batch — after everything in
 * it is persisted, never before.
 */
import type { DeliveredEnvelope } from '../../server/protocol/events.js';
import { applyContent } from './apply-content.js';
import type { ClientContext } from './context.js';
import type { SealpostEvents } from './events.js';
import { openIncoming, type ReceiveOutcome } from './receiver.js';

export type Emit = <E extends keyof SealpostEvents>(event: E, payload: SealpostEvents[E]) => void;

/** Returns the delivered receipts to send: message ids per sender handle. */
export async function receiveBatch(ctx: ClientContext, batch: DeliveredEnvelope[], emit: Emit): Promise<Map<string, string[]>> {
  const own = ctx.account().handle;
  let ackUpTo: number | undefined;
  const receipts = new Map<string, string[]>();
  for (const envelope of batch) {
    let outcome: ReceiveOutcome;
    try {
      outcome = await openIncoming(ctx, envelope);
    } catch (error) {
      // Relay unreachable mid-check: stop here, ack what is done, get the rest redelivered.
      emit('error', error);
      ctx.connection.simulateNetworkFailure();
      break;
    }
    if (outcome.kind === 'rejected') emit('rejected', outcome.error);
    if (outcome.kind === 'content') {
      const applied = applyContent(ctx.store, own, outcome.received);
      await outcome.received.batch.commit();
      for (const pending of applied.events) emit(pending.event, pending.payload);
      if (applied.deliveredReceipt) {
        const { handle, messageIds } = applied.deliveredReceipt;
        receipts.set(handle, [...(receipts.get(handle) ?? []), ...messageIds]);
      }
    }
    if (envelope.seq !== undefined) ackUpTo = envelope.seq;
  }
  if (ackUpTo !== undefined) await ctx.connection.ack({ upTo: ackUpTo }).catch(() => undefined);
  return receipts;
}
