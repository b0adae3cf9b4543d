/**
 * An outgoing text: fanned out, then written as one batch with its message record and its
 * outbox envelopes, so a crash leaves either all of it or none; from then on it is tracked
 * until the relay has stored it.
 */
import type { ContentDraft } from './content.js';
import type { ClientContext } from './context.js';
import type { DeliveryTracker } from './delivery-tracker.js';
import { SdkError } from './errors.js';
import type { Emit } from './events.js';
import { randomId } from './random.js';
import { prepareFanout, reportProblems, type FanoutOptions } from './sender.js';
import type { Conversation, MessageRecord } from './store/records.js';

export interface OutgoingMessage {
  id: string;
  /** Resolves once the relay durably stored it for the recipient; rejects with the reason if it refused. */
  stored: Promise<void>;
}

export async function queueText(
  ctx: ClientContext, tracker: DeliveryTracker, recipients: string[], conversation: Conversation, text: string, emit: Emit,
): Promise<OutgoingMessage> {
  const account = ctx.account();
  const id = randomId();
  const ts = Date.now();
  const content: ContentDraft = {
    type: 'text', id, ts, text,
    ...(conversation.kind === 'direct' ? { to: conversation.handle } : { groupId: conversation.groupId }),
  };
  const options: FanoutOptions = { includeOwnDevices: true, strict: conversation.kind === 'direct', messageId: id };
  const fanout = await prepareFanout(ctx, recipients, content, options);
  reportProblems(fanout.problems, emit);
  if (!fanout.envelopes.some((e) => e.toRecipient)) throw new SdkError('no_devices', 'no recipient device can be sent to');
  const record: MessageRecord = {
    id, conversation, from: account.handle, fromDevice: account.deviceId, text, ts, storedAt: Date.now(), outgoing: true, state: 'sending',
  };
  fanout.batch.put('messages', id, record);
  fanout.batch.put('seenMessages', `${account.handle}:${id}`, { at: ts });
  for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
  await fanout.batch.commit();
  const stored = tracker.track(id);
  emit('message_state', { id, state: 'sending' });
  void ctx.outbox.flush();
  return { id, stored };
}
