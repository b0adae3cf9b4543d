/** A token bucket: `burst` tokens, refilled at `ratePerSecond`; one per event. */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now = Date.now(),
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  take(now = Date.now()): boolean {
    if (!this.has(now)) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Whether a token is left, without taking it. */
  has(now = Date.now()): boolean {
    this.#refill(now);
    return this.#tokens >= 1;
  }

  /** Whether the bucket is back to its burst (nothing to remember about its owner). */
  isFull(now = Date.now()): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.ratePerSecond);
    this.#last = now;
  }
}

/** Token buckets per key, wherever they are kept: this process (KeyedBuckets) or Redis for a cluster (server/cluster/redis-buckets.ts). */
export interface Buckets {
  /** Whether the key's bucket has a token left, without taking it. */
  has(key: string, now?: number): boolean | Promise<boolean>;
  take(key: string, now?: number): void | Promise<void>;
}

/** Makes the buckets of one policy; `name` keeps different policies' keys apart where they share a store. */
export type BucketsFactory = (name: string, policy: { ratePerSecond: number; burst: number }) => Buckets;

export const localBuckets: BucketsFactory = (_name, policy) => new KeyedBuckets(policy);

/**
 * Token buckets per key (a client IP), in memory only. A key is forgotten once its bucket has
 * refilled; past `maxKeys` the oldest key is dropped, so a flood of addresses cannot grow it.
 */
export class KeyedBuckets implements Buckets {
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly policy: { ratePerSecond: number; burst: number },
    private readonly maxKeys = 100_000,
  ) {}

  has(key: string, now = Date.now()): boolean {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return true;
    if (bucket.isFull(now)) {
      this.#buckets.delete(key);
      return true;
    }
    return bucket.has(now);
  }

  take(key: string, now = Date.now()): void {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.maxKeys) this.#buckets.delete(this.#buckets.keys().next().value as string);
      bucket = new TokenBucket(this.policy.ratePerSecond, this.policy.burst, now);
      this.#buckets.set(key, bucket);
    }
    bucket.take(now);
  }

  /** Drops a key's bucket (e.g. one named for a recipient that turned out not to exist). */
  forget(key: string): void {
    this.#buckets.delete(key);
  }

  /** Keys held (for tests). */
  get size(): number {
    return this.#buckets.size;
  }
}

/** One socket's buckets: `send` has its own, every other event shares the second. */
export class SocketRateLimiter {
  readonly #send: TokenBucket;
  readonly #other: TokenBucket;

  constructor(policy: { send: { ratePerSecond: number; burst: number }; otherEvents: { ratePerSecond: number; burst: number } }) {
    this.#send = new TokenBucket(policy.send.ratePerSecond, policy.send.burst);
    this.#other = new TokenBucket(policy.otherEvents.ratePerSecond, policy.otherEvents.burst);
  }

  take(event: string): boolean {
    return event === 'send' ? this.#send.take() : this.#other.take();
  }
}
