/** A token bucket: `burst` tokens, refilled at `ratePerSecond`; one per send event. */
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
