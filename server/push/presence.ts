/**
 * Cluster mode: does any node hold a socket of this device? The relay asks Redis rather than
 * keeping presence of its own. A node subscribes to a device's notice channel while it holds a
 * socket of the device and unsubscribes when the last one leaves (server/delivery/delivery.ts),
 * so `PUBSUB NUMSUB` of that channel counts the nodes that have the device connected, right now,
 * with nothing written, refreshed or expired. (A per-device presence key with a TTL would say
 * the same thing late, and cost a write per device per refresh.)
 *
 * Redis also holds the cluster-wide push gate: one short key per device that was just pushed
 * to, expiring after --push-min-interval-ms, so several nodes storing envelopes for one device
 * send one push between them. While Redis cannot answer, the relay pushes anyway: a push to a
 * device that turns out to be connected costs a notification; one never sent costs a message
 * noticed hours late.
 */
import { Redis } from 'ioredis';

/** The notice bus's channel of a device (server/cluster/redis-bus.ts CHANNEL_PREFIX). */
const NOTICE_CHANNEL = 'sealpost:device:';
const GATE_PREFIX = 'sealpost-push:';

export class RedisPresence {
  readonly #redis: Redis;

  constructor(url: string) {
    // No offline queue and a short timeout: a push decision never waits long for a Redis that is away.
    this.#redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000, commandTimeout: 1000 });
    // ioredis reconnects by itself; an 'error' without a listener would end the process.
    this.#redis.on('error', () => undefined);
  }

  /** True when some node holds a socket of the device, false when none does, undefined when Redis cannot say. */
  async connected(deviceId: string): Promise<boolean | undefined> {
    try {
      const reply = (await this.#redis.pubsub('NUMSUB', NOTICE_CHANNEL + deviceId)) as [string, number];
      return Number(reply[1]) > 0;
    } catch {
      return undefined;
    }
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
