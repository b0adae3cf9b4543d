/**
 * The envelopes written to the queue log since the last checkpoint, per device, in memory: they
 * are read, acknowledged and expired here without touching SQLite. Every sequence number here is
 * above every one of the same device in SQLite, because a checkpoint moves all of them at once.
 */
export interface HotEnvelope {
  seq: number;
  id: string;
  /** A view into the envelope's log record. */
  body: Uint8Array;
  expiresAt: number;
}

class DeviceQueue {
  /** In seq order: envelopes are added with increasing numbers and Maps keep insertion order. */
  readonly bySeq = new Map<number, HotEnvelope>();
  readonly seqById = new Map<string, number>();
  bytes = 0;
}

export interface Totals {
  count: number;
  bytes: number;
}

export class HotQueues {
  readonly #devices = new Map<string, DeviceQueue>();
  #count = 0;
  #bytes = 0;

  get totals(): Totals {
    return { count: this.#count, bytes: this.#bytes };
  }

  add(deviceId: string, envelope: HotEnvelope): void {
    let queue = this.#devices.get(deviceId);
    if (queue === undefined) {
      queue = new DeviceQueue();
      this.#devices.set(deviceId, queue);
    }
    queue.bySeq.set(envelope.seq, envelope);
    queue.seqById.set(envelope.id, envelope.seq);
    queue.bytes += envelope.body.byteLength;
    this.#count += 1;
    this.#bytes += envelope.body.byteLength;
  }

  has(deviceId: string, id: string): boolean {
    return this.#devices.get(deviceId)?.seqById.has(id) ?? false;
  }

  totalsOf(deviceId: string): Totals {
    const queue = this.#devices.get(deviceId);
    return { count: queue?.bySeq.size ?? 0, bytes: queue?.bytes ?? 0 };
  }

  /** Unexpired envelopes with seq > afterSeq, in seq order, at most `limit`. */
  read(deviceId: string, afterSeq: number, limit: number, now: number): HotEnvelope[] {
    const out: HotEnvelope[] = [];
    const queue = this.#devices.get(deviceId);
    if (queue === undefined || limit <= 0) return out;
    for (const envelope of queue.bySeq.values()) {
      if (envelope.seq <= afterSeq || envelope.expiresAt <= now) continue;
      out.push(envelope);
      if (out.length === limit) break;
    }
    return out;
  }

  removeUpTo(deviceId: string, upTo: number): HotEnvelope[] {
    const queue = this.#devices.get(deviceId);
    const removed: HotEnvelope[] = [];
    if (queue === undefined) return removed;
    for (const envelope of queue.bySeq.values()) {
      if (envelope.seq > upTo) break;
      removed.push(envelope);
    }
    return this.#remove(deviceId, queue, removed);
  }

  removeIds(deviceId: string, ids: readonly string[]): HotEnvelope[] {
    const queue = this.#devices.get(deviceId);
    if (queue === undefined) return [];
    const removed = ids.flatMap((id) => {
      const seq = queue.seqById.get(id);
      const envelope = seq === undefined ? undefined : queue.bySeq.get(seq);
      return envelope ? [envelope] : [];
    });
    return this.#remove(deviceId, queue, [...new Set(removed)]);
  }

  removeDevice(deviceId: string): HotEnvelope[] {
    const queue = this.#devices.get(deviceId);
    return queue === undefined ? [] : this.#remove(deviceId, queue, [...queue.bySeq.values()]);
  }

  /** Removes every envelope with expiresAt ≤ now; returns them by device. */
  removeExpired(now: number): Map<string, HotEnvelope[]> {
    const expired = new Map<string, HotEnvelope[]>();
    for (const [deviceId, queue] of this.#devices) {
      const gone = [...queue.bySeq.values()].filter((e) => e.expiresAt <= now);
      if (gone.length > 0) expired.set(deviceId, this.#remove(deviceId, queue, gone));
    }
    return expired;
  }

  /** Every device's envelopes, in seq order (for a checkpoint). */
  entries(): [string, HotEnvelope[]][] {
    return [...this.#devices].map(([deviceId, queue]) => [deviceId, [...queue.bySeq.values()]]);
  }

  clear(): void {
    this.#devices.clear();
    this.#count = 0;
    this.#bytes = 0;
  }

  #remove(deviceId: string, queue: DeviceQueue, envelopes: HotEnvelope[]): HotEnvelope[] {
    for (const envelope of envelopes) {
      queue.bySeq.delete(envelope.seq);
      queue.seqById.delete(envelope.id);
      queue.bytes -= envelope.body.byteLength;
      this.#count -= 1;
      this.#bytes -= envelope.body.byteLength;
    }
    if (queue.bySeq.size === 0) this.#devices.delete(deviceId);
    return envelopes;
  }
}
