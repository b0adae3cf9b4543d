/**
 * Cluster mode: the push gate shared by the nodes (Redis). Whether any node holds a socket of a device
 * is not asked here: the stored notice's PUBLISH is answered with the number of nodes listening
 * on the device's channel (a node subscribes while it holds a socket of the device), which
 * delivery.ts reads before it calls for a push. That used to be a PUBSUB NUMSUB per stored
 * envelope, one Redis round trip per message for nothing new.
 *
 * Redis also holds the cluster-wide push gate: one short key per device that was just pushed
 * to, expiring after --push-min-interval-ms, so several nodes storing envelopes for one device
 * send one push between them. While Redis cannot answer, the relay pushes anyway: a push to a
 * device that turns out to be connected costs a notification; one never sent costs a message
 * noticed hours late.
 */
import { Redis } from 'ioredis';

const GATE_PREFIX = 'sealpost-push:';

export class RedisPushGate {
  readonly #redis: Redis;

  constructor(url: string) {
    // No offline queue and a short timeout: a push decision never waits long for a Redis that is away.
    this.#redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 1000 });
    // ioredis reconnects by itself; an 'error' without a listener would end the process.
    this.#redis.on('error', () => undefined);
  }

  /** Takes the device's push slot for `ms` across the cluster: false when another node took it; true when Redis cannot say. */
  async claim(deviceId: string, ms: number): Promise<boolean> {
    try {
      return (await this.#redis.set(GATE_PREFIX + deviceId, '1', 'PX', ms, 'NX')) === 'OK';
    } catch {
      return true;
    }
  }

  close(): void {
    this.#redis.disconnect();
  }
}
