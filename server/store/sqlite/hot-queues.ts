/**
 * The envelopes written to the queue log since the last checkpoint, per device, in memory: they
 * are read, acknowledged and expired here without touching SQLite. Every sequence number here is
 * above every one of the same device in SQLite, because a checkpoint moves all of them at once.
 *
 * Shaped for chat, where a device's queue fills and empties with every message: a device's queue
 * is an array in seq order that is emptied in place, and it stays (empty) until the checkpoint.
 * A Map that empties reallocates its table on every delete, and a table made for a long-lived
 * Map survives into V8's old space: that churn alone brought a full collection, and a stall of
 * every socket, about once a second under load.
 */
import type { Totals } from './cold-totals.js';

export interface HotEnvelope {
  seq: number;
  id: string;
  /** A view into the envelope's log record. */
  body: Uint8Array;
  expiresAt: number;
}

/** Past this many envelopes a device's queue also indexes them by id. */
const INDEX_FROM = 16;

class DeviceQueue {
  /** In seq order (added with increasing numbers); the ones before `head` are gone. */
  #envelopes: HotEnvelope[] = [];
  #head = 0;
  /** id → envelope, only while the queue is long: below that a scan is cheaper than a Map. */
  #byId: Map<string, HotEnvelope> | undefined;
  bytes = 0;

  get size(): number {
    return this.#envelopes.length - this.#head;
  }

  /** The live envelopes, in seq order. */
  *[Symbol.iterator](): Generator<HotEnvelope> {
    for (let i = this.#head; i < this.#envelopes.length; i++) yield this.#envelopes[i]!;
  }

  add(envelope: HotEnvelope): void {
    this.#envelopes.push(envelope);
    this.bytes += envelope.body.byteLength;
    if (this.#byId) this.#byId.set(envelope.id, envelope);
    else if (this.size > INDEX_FROM) this.#byId = new Map([...this].map((e) => [e.id, e]));
  }

  get(id: string): HotEnvelope | undefined {
    if (this.#byId) return this.#byId.get(id);
    for (let i = this.#head; i < this.#envelopes.length; i++) if (this.#envelopes[i]!.id === id) return this.#envelopes[i];
    return undefined;
  }

  /** The index of the first live envelope with seq > `seq`. */
  after(seq: number): number {
    let low = this.#head;
    let high = this.#envelopes.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#envelopes[mid]!.seq <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  at(index: number): HotEnvelope | undefined {
    return index >= this.#head ? this.#envelopes[index] : undefined;
  }

  /** Removes the envelopes with seq ≤ upTo (a prefix) and returns them. */
  removeUpTo(upTo: number): HotEnvelope[] {
    const end = this.after(upTo);
    const removed = this.#envelopes.slice(this.#head, end);
    this.#head = end;
    this.#forget(removed);
    return removed;
  }

  /** Removes the envelopes that `gone` picks, wherever they are, and returns them. */
  removeWhere(gone: (envelope: HotEnvelope) => boolean): HotEnvelope[] {
    const removed: HotEnvelope[] = [];
    const kept: HotEnvelope[] = [];
    for (const envelope of this) (gone(envelope) ? removed : kept).push(envelope);
    if (removed.length === 0) return removed;
    this.#envelopes = kept;
    this.#head = 0;
    this.#forget(removed);
    return removed;
  }

  #forget(removed: readonly HotEnvelope[]): void {
    for (const envelope of removed) {
      this.bytes -= envelope.body.byteLength;
      this.#byId?.delete(envelope.id);
    }
    if (this.size === 0) {
      // Emptied in place: the array keeps its capacity for the next envelope.
      this.#envelopes.length = 0;
      this.#head = 0;
      this.#byId = undefined;
    } else if (this.#head > INDEX_FROM && this.#head * 2 > this.#envelopes.length) {
      this.#envelopes = this.#envelopes.slice(this.#head);
      this.#head = 0;
    }
  }
}

export class HotQueues {
  /** Every device given an envelope since the last checkpoint, its queue possibly empty. */
  readonly #devices = new Map<string, DeviceQueue>();
  #count = 0;
  #bytes = 0;

  get totals(): Totals {
    return { count: this.#count, bytes: this.#bytes };
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(deviceId: string, envelope: HotEnvelope): void {
    let queue = this.#devices.get(deviceId);
    if (queue === undefined) {
      queue = new DeviceQueue();
      this.#devices.set(deviceId, queue);
    }
    queue.add(envelope);
    this.#count += 1;
    this.#bytes += envelope.body.byteLength;
  }

  has(deviceId: string, id: string): boolean {
    return this.#devices.get(deviceId)?.get(id) !== undefined;
  }

  totalsOf(deviceId: string): Totals {
    const queue = this.#devices.get(deviceId);
    return { count: queue?.size ?? 0, bytes: queue?.bytes ?? 0 };
  }

  /** Unexpired envelopes with seq > afterSeq, in seq order, at most `limit`. */
  read(deviceId: string, afterSeq: number, limit: number, now: number): HotEnvelope[] {
    const out: HotEnvelope[] = [];
    const queue = this.#devices.get(deviceId);
    if (queue === undefined || limit <= 0) return out;
    for (let i = queue.after(afterSeq), envelope = queue.at(i); envelope !== undefined && out.length < limit; envelope = queue.at(++i)) {
      if (envelope.expiresAt > now) out.push(envelope);
    }
    return out;
  }

  removeUpTo(deviceId: string, upTo: number): HotEnvelope[] {
    const queue = this.#devices.get(deviceId);
    return queue === undefined ? [] : this.#counted(queue.removeUpTo(upTo));
  }

  removeIds(deviceId: string, ids: readonly string[]): HotEnvelope[] {
    const queue = this.#devices.get(deviceId);
    if (queue === undefined) return [];
    const wanted = new Set(ids);
    return this.#counted(queue.removeWhere((e) => wanted.has(e.id)));
  }

  removeDevice(deviceId: string): HotEnvelope[] {
    const queue = this.#devices.get(deviceId);
    if (queue === undefined) return [];
    this.#devices.delete(deviceId);
    return this.#counted(queue.removeWhere(() => true));
  }

  /** Removes every envelope with expiresAt ≤ now; returns them by device. */
  removeExpired(now: number): Map<string, HotEnvelope[]> {
    const expired = new Map<string, HotEnvelope[]>();
    for (const [deviceId, queue] of this.#devices) {
      const gone = this.#counted(queue.removeWhere((e) => e.expiresAt <= now));
      if (gone.length > 0) expired.set(deviceId, gone);
    }
    return expired;
  }

  /** Every device's envelopes, in seq order (for a checkpoint); devices with none are left out. */
  entries(): [string, HotEnvelope[]][] {
    return [...this.#devices].filter(([, queue]) => queue.size > 0).map(([deviceId, queue]) => [deviceId, [...queue]]);
  }

  clear(): void {
    this.#devices.clear();
    this.#count = 0;
    this.#bytes = 0;
  }

  #counted(removed: HotEnvelope[]): HotEnvelope[] {
    for (const envelope of removed) {
      this.#count -= 1;
      this.#bytes -= envelope.body.byteLength;
    }
    return removed;
  }
}
