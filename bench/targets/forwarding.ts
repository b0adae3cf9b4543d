/**
 * What the two baseline forwarders share: each recipient device gets a per-device sequence
 * number (as sealpost's queue does) and the relay remembers, in memory only, whom to tell when
 * the recipient acks up to a seq. Nothing is written anywhere; a restart loses everything.
 */
export type Notify = () => void;

export class PendingAcks {
  private readonly nextSeq = new Map<string, number>();
  private readonly waiting = new Map<string, Map<number, Notify>>();

  /** Assigns the next seq for `device` and remembers who waits for its ack. */
  add(device: string, notify: Notify): number {
    const seq = (this.nextSeq.get(device) ?? 0) + 1;
    this.nextSeq.set(device, seq);
    let queue = this.waiting.get(device);
    if (queue === undefined) {
      queue = new Map();
      this.waiting.set(device, queue);
    }
    queue.set(seq, notify);
    return seq;
  }

  /** Cumulative ack: notifies every waiter up to `upTo` (Map keeps insertion = seq order). */
  ackUpTo(device: string, upTo: number): number {
    const queue = this.waiting.get(device);
    if (queue === undefined) return 0;
    let done = 0;
    for (const [seq, notify] of queue) {
      if (seq > upTo) break;
      queue.delete(seq);
      notify();
      done++;
    }
    return done;
  }

  /** Drops a device's waiters when its last socket leaves, so memory does not grow in the idle test. */
  forget(device: string): void {
    this.waiting.delete(device);
  }
}

export function parseListenArgs(argv: readonly string[]): { host: string; port: number } {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const port = Number(value('port') ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad --port ${String(value('port'))}`);
  // The benchmark stays on the loopback interface, whatever is asked.
  return { host: '127.0.0.1', port };
}

/** Stops on SIGTERM/SIGINT, and on its own after `maxLifetimeMs` so a lost runner leaves nothing behind. */
export function stopOnSignalOrTimeout(close: () => void, maxLifetimeMs = 15 * 60_000): void {
  const stop = (): void => {
    close();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  setTimeout(stop, maxLifetimeMs).unref();
}
