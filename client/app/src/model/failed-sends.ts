/**
 * Sends that failed, and what the user can do about them. Two kinds: sends the SDK refused
 * before queuing anything (kept here, in this tab's memory only; see UnsentMessage) and messages
 * the SDK stored and marked failed. Retry sends the text again as a new message and drops the
 * failed copy; Delete drops it without sending. Which of them cannot succeed again (no Retry)
 * is decided in describe-error.ts.
 */
import { SdkError, type Conversation, type SealpostClient } from '../../../sdk/index.js';
import { sameConversation } from './conversation-key.js';
import { describeError, isPermanentSendError } from './describe-error.js';
import { localId } from './local-id.js';
import type { UnsentMessage } from './timeline.js';

/** A failed send on screen: a stored message by its id, or an unsent one by its local id. */
export type FailedItem = { messageId: string } | { localId: string };

export class FailedSends {
  private unsent: UnsentMessage[] = [];

  constructor(private readonly client: SealpostClient) {}

  /** Sends handed over by the tab that had the profile before (they were only in its memory). */
  restore(handedOver: UnsentMessage[]): void {
    this.unsent = handedOver;
  }

  /** Copies of every unsent one, to hand over to the tab that takes the profile. */
  all(): UnsentMessage[] {
    return this.unsent.map((u) => ({ ...u }));
  }

  in(conversation: Conversation): UnsentMessage[] {
    return this.unsent.filter((u) => sameConversation(u.conversation, conversation));
  }

  /** A send the SDK refused. `cutOff`: this tab lost the profile meanwhile (the next tab sends it). */
  add(conversation: Conversation, text: string, error: unknown, cutOff: boolean): void {
    const retryOnReconnect = cutOff || (error instanceof SdkError && error.code === 'network');
    this.unsent.push({ localId: localId(), conversation, text, ts: Date.now(), reason: describeError(error), retryOnReconnect, permanent: isPermanentSendError(error) });
  }

  /** Takes a failed send out for Retry: what to send again, if it is still there. */
  async takeForRetry(item: FailedItem): Promise<{ conversation: Conversation; text: string } | undefined> {
    if ('localId' in item) {
      const unsent = this.unsent.find((u) => u.localId === item.localId);
      this.unsent = this.unsent.filter((u) => u !== unsent);
      return unsent;
    }
    const message = this.client.store.get('messages', item.messageId);
    if (!message || message.state !== 'failed') return undefined;
    await this.client.store.batch().delete('messages', message.id).commit();
    return message;
  }

  /** Drops a failed send without sending it (only a message that is still failed). */
  async discard(item: FailedItem): Promise<void> {
    if ('localId' in item) this.unsent = this.unsent.filter((u) => u.localId !== item.localId);
    else if (this.client.store.get('messages', item.messageId)?.state === 'failed') await this.client.store.batch().delete('messages', item.messageId).commit();
  }

  /** Takes out the sends that failed only because the relay was unreachable, in their order. */
  takeWaitingForReconnect(): UnsentMessage[] {
    const waiting = this.unsent.filter((u) => u.retryOnReconnect);
    this.unsent = this.unsent.filter((u) => !u.retryOnReconnect);
    return waiting;
  }
}
