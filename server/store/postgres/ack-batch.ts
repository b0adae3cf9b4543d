/**
 * Cumulative acks ("delete my queue up to seq N") from every socket of this node, waiting for the
 * next queue write (queue.ts): the group commit's next enqueue takes them into its statement, or,
 * when no enqueue is under way, they go in a statement of their own. Each ack used to be a
 * statement of its own, and in the cluster benchmark acks were ~8 of every 9 statements a node
 * sent (docs/performance.md, "acks in batches"): a statement costs the node a socket write and a
 * read, and PostgreSQL a commit, however little it carries.
 *
 * Every caller still resolves only after the statement that deleted its envelopes committed,
 * with the number of envelopes its own ack deleted: the statement returns the deleted rows'
 * sequence numbers, and two acks of one device in a round share them out by their bounds.
 */

interface Waiter {
  upTo: number;
  resolve: (deleted: number) => void;
  reject: (error: unknown) => void;
}

/** Envelopes a statement deleted, as sealpost_write_queue returns them: parallel arrays. */
export interface Deleted {
  devices: readonly string[];
  seqs: readonly (number | string)[];
  sizes: readonly number[];
}

/** The acks one statement carries: its parameters, and how to answer them. */
export interface AckRound {
  deviceIds: string[];
  /** Per device, the highest bound of its acks in the round. */
  upTos: number[];
  /** Answers every ack of the round from what the statement deleted; returns the bytes deleted. */
  settle(deleted: Deleted): number;
  fail(error: unknown): void;
}

export class AckBatch {
  /** Acks waiting for the next statement, by device. */
  #waiting = new Map<string, Waiter[]>();

  add(deviceId: string, upTo: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const list = this.#waiting.get(deviceId);
      if (list) list.push({ upTo, resolve, reject });
      else this.#waiting.set(deviceId, [{ upTo, resolve, reject }]);
    });
  }

  get waiting(): boolean {
    return this.#waiting.size > 0;
  }

  /** Every waiting ack, as one round (an empty one when none wait). */
  take(): AckRound {
    const round = this.#waiting;
    this.#waiting = new Map();
    const deviceIds = [...round.keys()];
    return {
      deviceIds,
      upTos: deviceIds.map((id) => Math.max(...(round.get(id) ?? []).map((w) => w.upTo))),
      settle: (deleted) => settle(round, deleted),
      fail: (error) => {
        for (const waiters of round.values()) for (const w of waiters) w.reject(error);
      },
    };
  }
}

function settle(round: Map<string, Waiter[]>, deleted: Deleted): number {
  const seqs = new Map<string, number[]>();
  let bytes = 0;
  deleted.devices.forEach((deviceId, i) => {
    bytes += deleted.sizes[i] ?? 0;
    const seq = Number(deleted.seqs[i]);
    const list = seqs.get(deviceId);
    if (list) list.push(seq);
    else seqs.set(deviceId, [seq]);
  });
  for (const [deviceId, waiters] of round) {
    const mine = seqs.get(deviceId) ?? [];
    // An ack counts what lies between the bound below it (the device's previous ack in this
    // round) and its own: each deleted envelope is counted once, by the lowest ack that covers it.
    const bounds = [...new Set(waiters.map((w) => w.upTo))].sort((a, b) => a - b);
    const counts = new Map(bounds.map((bound, i) => [bound, mine.filter((seq) => seq <= bound && (i === 0 || seq > (bounds[i - 1] ?? 0))).length]));
    const told = new Set<number>();
    for (const w of waiters) {
      // Two acks with the same bound: the first is told the count, the second 0 (it deleted nothing more).
      w.resolve(told.has(w.upTo) ? 0 : (counts.get(w.upTo) ?? 0));
      told.add(w.upTo);
    }
  }
  return bytes;
}
