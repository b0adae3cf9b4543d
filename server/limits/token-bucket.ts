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
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.ratePerSecond);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
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
