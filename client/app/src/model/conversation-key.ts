import type { Conversation } from '../../../sdk/index.js';

/** One string per conversation, for maps, routes and DOM data attributes. */
export function conversationKey(conversation: Conversation): string {
  return conversation.kind === 'direct' ? `d:${conversation.handle}` : `g:${conversation.groupId}`;
}

export function conversationFromKey(key: string): Conversation | undefined {
  if (key.startsWith('d:')) return { kind: 'direct', handle: key.slice(2) };
  if (key.startsWith('g:')) return { kind: 'group', groupId: key.slice(2) };
  return undefined;
}

export function sameConversation(a: Conversation, b: Conversation): boolean {
  return conversationKey(a) === conversationKey(b);
}
