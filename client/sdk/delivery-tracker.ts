/**
 * Turns outbox acks into message states: a message is `stored` once every envelope carrying
 * it is acked and at least one reached a recipient device; `failed` (with the relay's reason)
 * when none did. Also settles the promise `send()` handed out.
 */
import type { MessageStateEvent } from './events.js';
import { SdkError } from './errors.js';
import type { Outbox, OutboxResult } from './outbox.js';
import type { LocalStore } from './store/local-store.js';

interface Tracking {
  reachedRecipient: boolean;
  failures: string[];
  settle?: { resolve: () => void; reject: (error: SdkError) => void };
}

export class DeliveryTracker {
  private readonly tracking = new Map<string, Tracking>();

  constructor(private readonly store: LocalStore, private readonly outbox: Outbox) {}

  /** A promise for "stored on the relay"; never an unhandled rejection if the caller ignores it. */
  track(messageId: string): Promise<void> {
    const stored = new Promise<void>((resolve, reject) => {
      this.entry(messageId).settle = { resolve, reject };
    });
    stored.catch(() => undefined);
    return stored;
  }

  /** Applies an outbox result; returns the state changes to emit. */
  async apply(result: OutboxResult): Promise<MessageStateEvent[]> {
    const touched = new Set<string>();
    for (const record of result.stored) {
      if (record.messageId === undefined) continue;
      if (record.toRecipient) this.entry(record.messageId).reachedRecipient = true;
      touched.add(record.messageId);
    }
    for (const { record, code } of result.failed) {
      if (record.messageId === undefined) continue;
      if (record.toRecipient) this.entry(record.messageId).failures.push(code);
      touched.add(record.messageId);
    }
    const changes: MessageStateEvent[] = [];
    const settles: Array<() => void> = [];
    const batch = this.store.batch();
    for (const id of touched) {
      if (this.outbox.pendingFor(id) > 0) continue;
      const tracking = this.entry(id);
      this.tracking.delete(id);
      const message = this.store.get('messages', id);
      const failed = !tracking.reachedRecipient && tracking.failures.length > 0;
      if (failed) {
        const reason = tracking.failures[0]!;
        if (message) batch.put('messages', id, { ...message, state: 'failed', failure: reason });
        changes.push({ id, state: 'failed', reason });
        const settle = tracking.settle;
        if (settle) settles.push(() => settle.reject(new SdkError('send_failed', `the relay refused the message: ${reason}`)));
      } else {
        if (message?.state === 'sending') {
          batch.put('messages', id, { ...message, state: 'stored' });
          changes.push({ id, state: 'stored' });
        }
        const settle = tracking.settle;
        if (settle) settles.push(() => settle.resolve());
      }
    }
    await batch.commit();
    for (const settle of settles) settle();
    return changes;
  }

  private entry(messageId: string): Tracking {
    let tracking = this.tracking.get(messageId);
    if (!tracking) this.tracking.set(messageId, (tracking = { reachedRecipient: false, failures: [] }));
    return tracking;
  }
}
