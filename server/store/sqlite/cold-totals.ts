/**
 * The totals of SQLite's queue table, in memory: each device's envelopes there (count and bytes),
 * loaded on first use, and every envelope there (for relayStats), counted once at open. Every
 * write to the table keeps them up to date, so quotas and stats never count rows on the hot
 * path. They hold only while the store's connection is the table's one writer; after a failed
 * write the store (sqlite-tables.ts) calls `reload`, because SQLite rolled back what the totals
 * may already hold.
 */
import type { Statements } from './directory.js';

/** Envelopes and their body bytes. */
export interface Totals {
  count: number;
  bytes: number;
}

export class ColdTotals {
  readonly #devices = new Map<string, Totals>();
  #all: Totals;

  constructor(private readonly s: Statements) {
    this.#all = s.allQueueTotals.get() as Totals;
  }

  /** Every envelope in SQLite. */
  get all(): Totals {
    return this.#all;
  }

  /** A device's envelopes in SQLite; undefined for an unknown device. */
  of(deviceId: string): Totals | undefined {
    let cold = this.#devices.get(deviceId);
    if (cold) return cold;
    if (!this.s.reservedSeq.get(deviceId)) return undefined;
    cold = this.s.queueTotals.get(deviceId) as Totals;
    this.#devices.set(deviceId, cold);
    return cold;
  }

  /** Inside a write: an envelope added to the queue table. */
  added(cold: Totals, bytes: number): void {
    cold.count += 1;
    cold.bytes += bytes;
    this.#all.count += 1;
    this.#all.bytes += bytes;
  }

  /** Inside a write: envelopes deleted from a device's queue table. */
  removed(deviceId: string, count: number, bytes: number): void {
    // A queue not loaded yet is counted from the table when first needed.
    const cold = this.#devices.get(deviceId);
    if (cold) {
      cold.count -= count;
      cold.bytes -= bytes;
    }
    this.#all.count -= count;
    this.#all.bytes -= bytes;
  }

  /** Inside the transaction that deletes a device (its rows go by cascade): they leave the totals. */
  dropDevice(deviceId: string): void {
    const queue = this.s.queueTotals.get(deviceId) as Totals;
    this.removed(deviceId, queue.count, queue.bytes);
    this.#devices.delete(deviceId);
  }

  /** After a failed write: forget everything loaded and recount what is committed. */
  reload(): void {
    this.#devices.clear();
    this.#all = this.s.allQueueTotals.get() as Totals;
  }
}
