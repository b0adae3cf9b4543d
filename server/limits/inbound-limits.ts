/**
 * Budgets of durable envelopes, in memory (per relay process), so that no one sender can fill a
 * device's queue (issue 18 item 7):
 *
 * - per (sending device, recipient device) pair, a token bucket: one token per durable envelope;
 * - per recipient device, a byte budget per fixed window (the window starts with the first
 *   envelope after the previous one ended), shared by every sender.
 *
 * An envelope over either is refused `rate_limited` (in the send ack, that envelope only). Both
 * maps are bounded: a pair's bucket is forgotten once it has refilled, a recipient's window once it
 * has ended; past `maxKeys` the oldest entry is dropped (it starts over with a full budget). Keys
 * naming a device that does not exist are forgotten as soon as the store says so, so a flood of
 * made-up recipients cannot push real entries out. A restart starts every budget afresh.
 */
import type { BucketPolicy } from './rate-policy.js';
import { KeyedBuckets } from './token-bucket.js';

export interface InboundPolicy {
  readonly perPair: BucketPolicy;
  readonly perRecipient: { readonly bytes: number; readonly windowMs: number };
}

interface Window {
  start: number;
  bytes: number;
}

export type InboundRefusal = 'pair' | 'recipient';

export class InboundLimits {
  readonly #pairs: KeyedBuckets;
  /** Recipient device → its current window; in order of window start (a new window is re-inserted). */
  readonly #windows = new Map<string, Window>();

  constructor(
    private readonly policy: InboundPolicy,
    private readonly maxKeys = 100_000,
  ) {
    this.#pairs = new KeyedBuckets(policy.perPair, maxKeys);
  }

  /** Which budget is spent, if one is; otherwise charges the envelope to both and returns undefined. */
  take(from: string, to: string, bytes: number, now = Date.now()): InboundRefusal | undefined {
    const pair = pairKey(from, to);
    if (!this.#pairs.has(pair, now)) return 'pair';
    const window = this.#window(to, now);
    if (window.bytes + bytes > this.policy.perRecipient.bytes) return 'recipient';
    this.#pairs.take(pair, now);
    window.bytes += bytes;
    return undefined;
  }

  /**
   * An admitted envelope the store did not keep (a duplicate, a full queue, an unknown device):
   * its bytes go back to the recipient's window. The pair's token is not given back. For an
   * unknown device both entries are dropped.
   */
  refund(from: string, to: string, bytes: number, unknownDevice: boolean): void {
    if (unknownDevice) {
      this.#pairs.forget(pairKey(from, to));
      this.#windows.delete(to);
      return;
    }
    const window = this.#windows.get(to);
    if (window) window.bytes = Math.max(0, window.bytes - bytes);
  }

  /** Entries held (for tests): pair buckets and recipient windows. */
  get sizes(): { pairs: number; recipients: number } {
    return { pairs: this.#pairs.size, recipients: this.#windows.size };
  }

  #window(to: string, now: number): Window {
    const windowMs = this.policy.perRecipient.windowMs;
    let window = this.#windows.get(to);
    if (window !== undefined && now - window.start < windowMs) return window;
    if (window !== undefined) this.#windows.delete(to);
    // Windows are in order of start, so the ended ones come first: they go (amortized, one
    // deletion per window ever opened), and past maxKeys the oldest running one too.
    for (const [key, w] of this.#windows) {
      const ended = now - w.start >= windowMs;
      if (!ended && this.#windows.size < this.maxKeys) break;
      this.#windows.delete(key);
      if (!ended) break;
    }
    window = { start: now, bytes: 0 };
    this.#windows.set(to, window);
    return window;
  }
}

/** Device ids are base64url (no newline), so this key names one pair. */
const pairKey = (from: string, to: string): string => `${from}\n${to}`;
