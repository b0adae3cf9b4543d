/**
 * Acknowledgement deletes, batched per tick. An ack must be applied before the relay answers
 * it, but it need not survive power loss: a lost delete only redelivers an envelope, which
 * clients drop by id (at-least-once on the wire). So the deletes of one tick from the queue table
 * are applied together, in one transaction committed without waiting for fsync (a later sync or
 * SQLite checkpoint makes it durable). Used by the queue table (sqlite-tables.ts); envelopes still
 * in the queue log (hot-queues.ts) never get here: they leave memory at once.
 */
export interface PendingAck {
  deviceId: string;
  /** Runs the DELETE … RETURNING size inside the caller's transaction. */
  remove: () => { size: number }[];
  resolve: (deleted: number) => void;
  reject: (error: unknown) => void;
}

export class AckBatch {
  #pending: PendingAck[] = [];
  #scheduled: NodeJS.Immediate | undefined;

  /** `applyAlone` runs on setImmediate and applies what `take` hands it. */
  constructor(private readonly applyAlone: () => void) {}

  add(deviceId: string, remove: () => { size: number }[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ deviceId, remove, resolve, reject });
      this.#scheduled ??= setImmediate(() => {
        this.#scheduled = undefined;
        this.applyAlone();
      });
    });
  }

  /** Hands every pending ack to the caller, which applies them and settles their promises. */
  take(): PendingAck[] {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const taken = this.#pending;
    this.#pending = [];
    return taken;
  }
}
