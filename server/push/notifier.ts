/**
 * Decides when a device gets a push. Delivery tells it of every device that had envelopes stored
 * while no node holds a socket of it (delivery.ts `onStoredWithoutSocket`: in a cluster, the
 * answer to the stored notice's PUBLISH says how many nodes listen for the device); it pushes when
 *   1. this node has not pushed to the device within --push-min-interval-ms (a burst of
 *      envelopes is one push: the notification it shows stands for all of them),
 *   2. the device registered a subscription,
 *   3. no other node pushed to it within the interval (push-gate.ts `claim`),
 * and at most MAX_IN_FLIGHT pushes wait on push services at once (more are dropped and counted:
 * the stored envelopes are not lost, only that wake-up).
 *
 * A push service's 404/410 deletes the subscription. Other failures are counted in
 * `sealpost_push_sent_total{result}` and logged with the status or error code only: an endpoint
 * identifies its user to the push service, and logs never carry device ids.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Counter } from 'prom-client';
import type { RedisPushGate } from './push-gate.js';
import type { PushStore } from './push-store.js';
import type { PushOutcome, PushSender } from './sender.js';

/** Pushes waiting on push services at once, at most. */
export const MAX_IN_FLIGHT = 64;

export type PushResult = PushOutcome['result'] | 'dropped';

export interface NotifierOptions {
  store: PushStore;
  sender: PushSender;
  minIntervalMs: number;
  /** Cluster mode with Redis: the push gate shared by the nodes. */
  gate?: RedisPushGate | undefined;
  sent: Counter<'result'>;
  log: FastifyBaseLogger;
}

export class PushNotifier {
  /** When each device was last considered for a push, oldest first (Map order: re-set entries move to the end). */
  readonly #last = new Map<string, number>();
  /** Devices whose push is being decided now: later envelopes ride on that decision. */
  readonly #deciding = new Set<string>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #inFlight = 0;

  constructor(private readonly options: NotifierOptions) {}

  /** Envelopes were stored for a device with no socket on this node. Returns at once; never throws. */
  stored(deviceId: string): void {
    if (this.#stop.signal.aborted || this.#deciding.has(deviceId)) return;
    const last = this.#last.get(deviceId);
    if (last !== undefined && Date.now() - last < this.options.minIntervalMs) return;
    this.#deciding.add(deviceId);
    const task = this.#decide(deviceId)
      .catch((error: unknown) => this.options.log.warn({ event: 'push_error', code: (error as { code?: unknown }).code }, 'push decision failed'))
      .finally(() => {
        this.#deciding.delete(deviceId);
        this.#tasks.delete(task);
      });
    this.#tasks.add(task);
  }

  /** Resolves once every push begun has ended (those under way are cancelled). */
  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.allSettled([...this.#tasks]);
    this.options.sender.close();
  }

  async #decide(deviceId: string): Promise<void> {
    const { store, gate, minIntervalMs } = this.options;
    // The device is offline: whatever follows, the interval starts now.
    this.#remember(deviceId, Date.now());
    const subscription = await store.get(deviceId);
    if (!subscription || this.#stop.signal.aborted) return;
    if (gate && !(await gate.claim(deviceId, minIntervalMs))) return;
    if (this.#inFlight >= MAX_IN_FLIGHT) return this.#count('dropped');
    this.#inFlight += 1;
    let outcome: PushOutcome;
    try {
      outcome = await this.options.sender.send(subscription, this.#stop.signal);
    } finally {
      this.#inFlight -= 1;
    }
    // Cancelled because the relay is stopping: not a push service's failure.
    if (outcome.result === 'failed' && this.#stop.signal.aborted) return;
    this.#count(outcome.result);
    if (outcome.result === 'gone') {
      await store.deleteGone(deviceId, subscription.endpoint);
      this.options.log.info({ event: 'push_subscription_gone', status: outcome.status }, 'a push service reported a subscription gone; deleted');
    } else if (outcome.result !== 'sent') {
      this.options.log.warn({ event: 'push_failed', result: outcome.result, ...('status' in outcome ? { status: outcome.status } : { code: outcome.code }) }, 'push not delivered to the push service');
    }
  }

  #count(result: PushResult): void {
    this.options.sent.inc({ result });
  }

  #remember(deviceId: string, now: number): void {
    this.#last.delete(deviceId);
    this.#last.set(deviceId, now);
    // Entries older than the interval decide nothing any more; the oldest are first.
    for (const [id, at] of this.#last) {
      if (now - at < this.options.minIntervalMs) break;
      this.#last.delete(id);
    }
  }
}
