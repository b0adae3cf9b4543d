/**
 * In-band device-list heads (protocol v2). Every content carries the head of the sender's own
 * device list and the head of the recipient's list it was encrypted to. The receiver compares
 * both with what the relay served it, so a relay that shows different device sets to different
 * people (a split view: e.g. an old list that still names a removed device) is caught on the
 * next message — there is no third party to ask for a relay you host yourself.
 *
 * Rules (docs/PROTOCOL.md §"In-band heads"):
 * - sender head newer than ours for that account → refresh the lookup; still different →
 *   `device_list_mismatch` (the relay hides the sender's newest list from us);
 * - sender head of the same version but another hash → mismatch (a fork);
 * - sender head older than ours → the sender's device is behind on its own account; no event;
 * - recipient head (our own list as the sender saw it) different from our newest → refresh
 *   ours if it is newer; still different → mismatch (the sender was shown another list of ours).
 */
import { sameHead, type DeviceListHead } from '../../crypto/index.js';
import type { ContentHeads } from './content.js';
import type { ClientContext } from './context.js';
import { SdkError } from './errors.js';
import type { Emit } from './events.js';

/** The heads to put into a content for `recipientHandle` (our own handle for own-device copies). */
export function headsFor(ctx: ClientContext, recipientHandle: string): ContentHeads {
  const from = ctx.directory.pinnedHead(ctx.account().handle);
  const to = ctx.directory.pinnedHead(recipientHandle);
  if (!from || !to) throw new SdkError('untrusted_device_list', `no verified device list for ${from ? recipientHandle : 'our own account'} yet`);
  return { from, to };
}

export async function checkHeads(ctx: ClientContext, senderHandle: string, heads: ContentHeads, emit: Emit): Promise<void> {
  const own = ctx.account().handle;
  await compare(ctx, senderHandle, heads.from, 'sender', senderHandle, emit);
  if (senderHandle !== own) await compare(ctx, own, heads.to, 'recipient', senderHandle, emit);
}

async function compare(
  ctx: ClientContext, handle: string, inBand: DeviceListHead, kind: 'sender' | 'recipient', from: string, emit: Emit,
): Promise<void> {
  let known = ctx.directory.pinnedHead(handle);
  if (sameHead(inBand, known)) return;
  if (kind === 'sender' && known && inBand.version < known.version) return;
  if (!known || inBand.version > known.version) {
    // We may simply be behind: ask the relay again before calling it a split view.
    try {
      await ctx.directory.lookup(handle);
    } catch (error) {
      if (error instanceof SdkError && error.code === 'network') return;
    }
    known = ctx.directory.pinnedHead(handle);
    if (sameHead(inBand, known)) return;
  }
  emit('device_list_mismatch', { handle, kind, from, inBand, known });
}
