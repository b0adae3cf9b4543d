/**
 * Remembers nonces of signed handshakes and requests for the freshness window, so a captured
 * signature cannot be replayed. In memory; a nonce only needs remembering while its timestamp is
 * still fresh (±skew). The journal (nonce-file.ts) records each one as it is remembered, so the
 * next process, after a restart or a crash, knows them too.
 */
export class NonceCache {
  readonly #expiries = new Map<string, number>();
  #lastPrune = 0;
  /** Told of every nonce remembered, with its expiry (the journal). */
  onRemember: ((nonce: string, expiry: number) => void) | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 200_000,
  ) {}

  /** Records the nonce; false if it was already seen within the window. */
  remember(nonce: string, now = Date.now()): boolean {
    if (now - this.#lastPrune > 1000 || this.#expiries.size >= this.maxEntries) this.#prune(now);
    const seen = this.#expiries.get(nonce);
    if (seen !== undefined && seen > now) return false;
    if (this.#expiries.size >= this.maxEntries) return false; // refuse rather than forget a fresh nonce
    // A timestamp may be up to `windowMs` in the future, so keep the nonce for two windows.
    const expiry = now + 2 * this.windowMs;
    this.#expiries.set(nonce, expiry);
    this.onRemember?.(nonce, expiry);
    return true;
  }

  /** The nonces still remembered, with their expiries. */
  fresh(now = Date.now()): [string, number][] {
    return [...this.#expiries].filter(([, expiry]) => expiry > now);
  }

  /** Takes over nonces a previous process remembered (expired ones are skipped). */
  restore(entries: Iterable<[string, number]>, now = Date.now()): void {
    for (const [nonce, expiry] of entries) if (expiry > now && this.#expiries.size < this.maxEntries) this.#expiries.set(nonce, expiry);
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    for (const [nonce, expiry] of this.#expiries) if (expiry <= now) this.#expiries.delete(nonce);
  }
}
