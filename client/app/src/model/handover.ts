/**
 * Sends the SDK never queued (the app keeps them in memory: see UnsentMessage) are handed from a
 * tab that loses the profile to the tab that takes it, over the BroadcastChannel of
 * profile-lock.ts — never through localStorage, which holds no message text.
 */
import type { UnsentMessage } from './timeline.js';

/** Unsent messages handed over by the tab that had the profile (a structured clone: checked, not trusted). */
export function readHandover(handedOver: unknown): UnsentMessage[] {
  if (!Array.isArray(handedOver)) return [];
  return handedOver.flatMap((item: Partial<UnsentMessage>, index): UnsentMessage[] => {
    const conversation = item?.conversation;
    const valid = typeof item?.text === 'string' && typeof item.ts === 'number' && typeof item.reason === 'string' &&
      (conversation?.kind === 'direct' ? typeof conversation.handle === 'string' : conversation?.kind === 'group' && typeof conversation.groupId === 'string');
    if (!valid) return [];
    return [{ localId: `handed-over-${index}-${Date.now().toString(36)}`, conversation: conversation!, text: item.text!, ts: item.ts!, reason: item.reason!, retryOnReconnect: item.retryOnReconnect === true, permanent: item.permanent === true }];
  });
}
