/**
 * Delivered receipts wait DELAY_MS and go out together: one receipt per sender for a burst
 * instead of one per delivered batch (each costs both sides a ratchet step and a seal).
 */
import type { Receipts } from './inbound.js';

const DELAY_MS = 50;
/** The receipt content's limit (content.ts ReceiptContent). */
const MAX_IDS = 500;

export class ReceiptBatcher {
  private readonly waiting = new Map<string, Set<string>>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `send` queues one delivered receipt for `handle` (the client runs it in its serial queue). */
  constructor(private readonly send: (handle: string, messageIds: string[]) => void) {}

  add(receipts: Receipts): void {
    for (const [handle, ids] of receipts) {
      const waiting = this.waiting.get(handle) ?? new Set<string>();
      for (const id of ids) waiting.add(id);
      this.waiting.set(handle, waiting);
    }
    if (this.waiting.size > 0) this.timer ??= setTimeout(() => this.flush(), DELAY_MS);
  }

  /** Sends what is waiting now (also on close: into the outbox, out at the next connect). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [handle, ids] of this.waiting) {
      const all = [...ids];
      for (let i = 0; i < all.length; i += MAX_IDS) this.send(handle, all.slice(i, i + MAX_IDS));
    }
    this.waiting.clear();
  }
}
