/**
 * The conversation list, derived from the SDK's history, its groups, the conversations it knows
 * without history (synced to a newly linked device) and the app's memory: title, last message,
 * unread count, newest first.
 */
import type { Conversation, ConversationRecord, GroupRecord, MessageRecord } from '../../../sdk/index.js';
import type { AppMemory } from './app-memory.js';
import { conversationFromKey, conversationKey } from './conversation-key.js';

export interface ConversationSummary {
  key: string;
  conversation: Conversation;
  title: string;
  last?: MessageRecord;
  unread: number;
  /** For ordering: the last message, else when the conversation or group was created. */
  activeAt: number;
}

export function titleOf(conversation: Conversation, groups: readonly GroupRecord[]): string {
  if (conversation.kind === 'direct') return conversation.handle;
  return groups.find((g) => g.groupId === conversation.groupId)?.name || 'Group';
}

export function summarize(
  messages: readonly MessageRecord[], groups: readonly GroupRecord[], memory: AppMemory, known: readonly ConversationRecord[] = [],
): ConversationSummary[] {
  const byKey = new Map<string, ConversationSummary>();
  const ensure = (conversation: Conversation, activeAt: number): ConversationSummary => {
    const key = conversationKey(conversation);
    let summary = byKey.get(key);
    if (!summary) {
      summary = { key, conversation, title: titleOf(conversation, groups), unread: 0, activeAt };
      byKey.set(key, summary);
    }
    return summary;
  };
  for (const key of memory.startedKeys()) {
    const conversation = conversationFromKey(key);
    if (conversation) ensure(conversation, memory.startedAt(key) ?? 0);
  }
  for (const record of known) ensure(record.conversation, record.at);
  for (const group of groups) ensure({ kind: 'group', groupId: group.groupId }, group.updatedAt);
  for (const message of messages) {
    const summary = ensure(message.conversation, message.storedAt);
    summary.last = message;
    summary.activeAt = Math.max(summary.activeAt, message.storedAt);
    if (!message.outgoing && message.storedAt > memory.readUpTo(summary.key)) summary.unread++;
  }
  return [...byKey.values()].sort((a, b) => b.activeAt - a.activeAt);
}
