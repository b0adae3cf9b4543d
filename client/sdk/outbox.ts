/**
 * Sealed envelopes waiting for the relay's "stored" ack. They are written to the store in the
 * same batch as the ratchet state that produced them, and resent with the SAME id after a
 * reconnect (the relay stores an id once per device, so a resend is harmless). Flushes go in
 * order, at most MAX_ENVELOPES_PER_SEND envelopes per `send`.
 */
import { fromBase64Url } from '../../crypto/index.js';
import type { ErrorCode } from '../../protocol/errors.js';
import type { SendAck, SendFailure } from '../../protocol/events.js';
import type { RelayConnection } from './connection.js';
import type { LocalStore } from './store/local-store.js';
import type { OutboxRecord } from './store/records.js';

/** The relay's default `maxBatch`: envelopes per `send`. */
const MAX_ENVELOPES_PER_SEND = 100;
const RETRY_MS = 2_000;
/** Batches awaiting the relay's ack at once. */
const SENDS_IN_FLIGHT = 4;
/** Refusals a later resend can cure; anything else fails the envelope for good. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['rate_limited', 'quota_exceeded', 'unavailable', 'internal']);

export interface OutboxResult {
  stored: OutboxRecord[];
  failed: Array<{ record: OutboxRecord; code: ErrorCode }>;
}

export class Outbox {
  private readonly inFlight = new Set<string>();
  /** Envelopes refused for a transient reason, held back until the retry timer. */
  private readonly waitingRetry = new Set<string>();
  private lastOrder = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: LocalStore,
    private readonly connection: RelayConnection,
    private readonly onResult: (result: OutboxResult) => void,
  ) {
    for (const record of store.all('outbox')) this.lastOrder = Math.max(this.lastOrder, record.order);
  }

  nextOrder(): number {
    return ++this.lastOrder;
  }

  /** After a disconnect nothing is in flight any more: everything unacked is sent again. */
  reset(): void {
    this.inFlight.clear();
    this.waitingRetry.clear();
  }

  flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /**
   * Sends what is ready in batches of up to MAX_ENVELOPES_PER_SEND, with up to SENDS_IN_FLIGHT
   * batches awaiting the relay's ack at once (the relay answers each after its disk flush, so
   * one at a time would leave the link idle). The relay takes a socket's sends in order, so each
   * device's queue keeps the order they were written in.
   */
  private async flushAll(): Promise<void> {
    const running = new Set<Promise<void>>();
    for (;;) {
      try {
        // An envelope leaves only once the ratchet state that sealed it is on disk: a crash must
        // never roll a session back behind what the relay already holds.
        await this.store.durable();
      } catch {
        break; // the store failed: nothing more goes out (the client reports the failure)
      }
      if (!this.connection.connected) break;
      const ready = this.store.all('outbox').filter((record) => !this.inFlight.has(record.id)).sort((a, b) => a.order - b.order);
      if (ready.length === 0) {
        if (running.size === 0) break;
        await Promise.race(running);
        continue;
      }
      const send: Promise<void> = this.sendBatch(ready.slice(0, MAX_ENVELOPES_PER_SEND)).finally(() => running.delete(send));
      running.add(send);
      if (running.size >= SENDS_IN_FLIGHT) await Promise.race(running);
    }
    await Promise.all(running);
  }

  private async sendBatch(records: OutboxRecord[]): Promise<void> {
    for (const record of records) this.inFlight.add(record.id);
    let ack: SendAck;
    try {
      ack = await this.connection.send(records.map((r) => ({ to: r.to, id: r.id, body: fromBase64Url(r.body), list: r.list })));
    } catch {
      // Timed out or disconnected: left in the outbox; the next connect sends them again.
      for (const record of records) this.inFlight.delete(record.id);
      return;
    }
    if (!ack.ok) {
      // The batch as a whole was refused (rate, size, shape): every envelope shares the reason.
      const error = ack.error;
      await this.settle(records, records.map((record) => ({ id: record.id, to: record.to, error })));
      return;
    }
    await this.settle(records, ack.failed);
  }

  private async settle(records: OutboxRecord[], failures: SendFailure[]): Promise<void> {
    const failedById = new Map(failures.map((failure) => [failure.id, failure.error.code]));
    const result: OutboxResult = { stored: [], failed: [] };
    const batch = this.store.batch();
    let retry = false;
    for (const record of records) {
      const code = failedById.get(record.id);
      if (code !== undefined && TRANSIENT.has(code)) {
        retry = true;
        continue; // stays in the outbox and in flight until the retry timer
      }
      batch.delete('outbox', record.id);
      if (code === undefined) result.stored.push(record);
      else result.failed.push({ record, code });
    }
    await batch.commit();
    for (const record of records) {
      if (TRANSIENT.has(failedById.get(record.id) as ErrorCode)) this.waitingRetry.add(record.id);
      else this.inFlight.delete(record.id);
    }
    this.onResult(result);
    if (retry) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      for (const id of this.waitingRetry) this.inFlight.delete(id);
      this.waitingRetry.clear();
      void this.flush();
    }, RETRY_MS);
  }
}
