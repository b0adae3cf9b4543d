import type { Conversation, MessageEvent } from '../../../sdk/index.js';
import { conversationKey } from './conversation-key.js';

/**
 * What a screen reader hears when messages arrive (a polite live region, components/Announcer).
 * A message in the conversation on screen is read out with its sender, like the bubble that just
 * appeared; one elsewhere only says who wrote, so text from another conversation is not spoken
 * unasked. Several in one burst (a backlog after reconnecting) are one sentence, not a queue of
 * them the user has to sit through.
 */
export function describeArrivals(arrivals: MessageEvent[], open: Conversation | undefined, title: (conversation: Conversation) => string): string {
  const incoming = arrivals.filter((event) => !event.outgoing);
  if (incoming.length === 0) return '';
  const openKey = open ? conversationKey(open) : undefined;
  const where = (event: MessageEvent) => (event.conversation.kind === 'group' ? ` in ${title(event.conversation)}` : '');
  if (incoming.length === 1) {
    const event = incoming[0]!;
    if (conversationKey(event.conversation) !== openKey) return `New message from @${event.from}${where(event)}`;
    const body = event.text || (event.attachment ? `sent a file, ${event.attachment.fileName}` : '');
    return event.text ? `@${event.from}${where(event)}: ${body}` : `@${event.from}${where(event)} ${body}`;
  }
  const senders = new Set(incoming.map((event) => event.from));
  const conversations = new Set(incoming.map((event) => conversationKey(event.conversation)));
  if (senders.size === 1 && conversations.size === 1) return `${incoming.length} new messages from @${incoming[0]!.from}${where(incoming[0]!)}`;
  return `${incoming.length} new messages in ${conversations.size === 1 ? title(incoming[0]!.conversation) : `${conversations.size} conversations`}`;
}
