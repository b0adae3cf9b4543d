/**
 * One step at a time: the client's state-changing steps (send, receive, prekey upkeep) run
 * through this queue, so ratchet states are never used by two steps at once. The queue lets the
 * event loop turn at least every SLICE_MS: a burst of sends otherwise runs as one long chain of
 * promise callbacks during which no ack, push or socket write gets through, and nothing leaves
 * until it ends (bench (f): p99 1.1–1.2 s → 0.1–0.2 s); a turn before EVERY step measured half
 * the throughput, so steps run in slices.
 */

/** The longest the queue runs steps without letting the event loop turn. */
const SLICE_MS = 10;

/** A turn of the event loop: setImmediate in Node; a message-channel task in browsers (unclamped, unlike setTimeout). */
function nextTurn(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private lastTurn = 0;

  /** Runs `task` after every step queued before it (whether they failed or not). */
  run<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(() => this.maybeYield()).then(task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** Resolves once every step queued so far has finished. */
  async idle(): Promise<void> {
    await this.tail.catch(() => undefined);
  }

  private async maybeYield(): Promise<void> {
    if (Date.now() - this.lastTurn < SLICE_MS) return;
    await nextTurn();
    this.lastTurn = Date.now();
  }
}
