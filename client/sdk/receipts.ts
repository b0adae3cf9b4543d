/**
 * Receipts and typing: contents about messages and the user, never shown as messages. A
 * receipt goes through the outbox like a text, so it is resent after a reconnect; typing is
 * ephemeral (the relay never stores it), so it reaches only devices online now.
 */
import { fromBase64Url } from '../../crypto/index.js';
import type { ContentDraft } from './content.js';
import type { ClientContext } from './context.js';
import { randomId } from './random.js';
import { prepareFanout } from './sender.js';

export async function queueReceipt(ctx: ClientContext, handle: string, receipt: 'delivered' | 'read', messageIds: string[]): Promise<void> {
  const content: ContentDraft = { type: 'receipt', id: randomId(), ts: Date.now(), receipt, messageIds };
  const fanout = await prepareFanout(ctx, [handle], content, { includeOwnDevices: false, strict: false });
  for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
  await fanout.batch.commit();
  void ctx.outbox.flush();
}

/** Best effort: the ratchet steps are committed either way, but a push offline or refused is dropped. */
export async function pushTyping(ctx: ClientContext, recipients: string[], typing: boolean, groupId: string | undefined): Promise<void> {
  const content: ContentDraft = { type: 'typing', id: randomId(), ts: Date.now(), typing, ...(groupId === undefined ? {} : { groupId }) };
  const fanout = await prepareFanout(ctx, recipients, content, { includeOwnDevices: false, strict: false, existingSessionsOnly: true });
  await fanout.batch.commit();
  if (fanout.envelopes.length === 0 || !ctx.connection.connected) return;
  await ctx.connection.send(fanout.envelopes.map((e) => ({ to: e.to, id: e.id, body: fromBase64Url(e.body), ephemeral: true }))).catch(() => undefined);
}

/** Own-device control contents (`linked`, `sync`): through the outbox, to every other device of this account. */
export async function queueToOwnDevices(ctx: ClientContext, contents: ContentDraft[]): Promise<void> {
  for (const content of contents) {
    const fanout = await prepareFanout(ctx, [], content, { includeOwnDevices: true, strict: false });
    for (const { error } of fanout.problems) throw error;
    for (const envelope of fanout.envelopes) fanout.batch.put('outbox', envelope.id, envelope);
    await fanout.batch.commit();
  }
  void ctx.outbox.flush();
}
