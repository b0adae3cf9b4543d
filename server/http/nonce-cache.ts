/**
 * Remembers nonces of signed handshakes and requests for the freshness window, so a captured
 * signature cannot be replayed. In memory; a nonce only needs remembering while its timestamp is
 * still fresh (±skew). The journal (nonce-file.ts) records each one as it is remembered, so the
 * next process, after a restart or a crash, knows them too.
 *
 * Nonces are kept **per signer** (the device id of a signed request or handshake, the identity
 * key of a recovery lookup), each signer with its own cap: a signer that spends more than
 * `perSigner` nonces within the window is refused (`'over_cap'`, the relay's `rate_limited`)
 * while every other signer goes on. Only signatures that verify reach this cache, so nobody
 * can fill another signer's table. `maxEntries` bounds the whole table (memory) and is far
 * above what the per-IP and per-signer limits let a few clients reach; past it a newcomer is
 * refused `'full'` (also `rate_limited`), never told its nonce was replayed.
 */
export type RememberOutcome = 'fresh' | 'replayed' | 'over_cap' | 'full';

/** Where nonces are remembered: this process's NonceCache, or PostgreSQL for every node of a cluster (server/cluster/). */
export interface NonceRegistry {
  remember(signer: string, nonce: string, now?: number): RememberOutcome | Promise<RememberOutcome>;
}

/** One remembered nonce: who signed it, the nonce (with its space prefix), when it may be forgotten. */
export type NonceEntry = [signer: string, nonce: string, expiry: number];

export const DEFAULT_NONCES_PER_SIGNER = 2_000;
export const DEFAULT_MAX_NONCES = 1_000_000;

export class NonceCache implements NonceRegistry {
  readonly #bySigner = new Map<string, Map<string, number>>();
  /** Nonces of journals written before nonces were kept per signer (they name no signer): checked for every signer until they expire. */
  readonly #unsigned = new Map<string, number>();
  #size = 0;
  #lastPrune = 0;
  /** Told of every nonce remembered, with its signer and expiry (the journal). */
  onRemember: ((entry: NonceEntry) => void) | undefined;

  constructor(
    private readonly windowMs: number,
    private readonly perSigner = DEFAULT_NONCES_PER_SIGNER,
    private readonly maxEntries = DEFAULT_MAX_NONCES,
  ) {}

  /** How many nonces are remembered, over all signers. */
  get size(): number {
    return this.#size + this.#unsigned.size;
  }

  /** How many nonces this signer has spent within the window. */
  countOf(signer: string): number {
    return this.#bySigner.get(signer)?.size ?? 0;
  }

  /** Records the signer's nonce unless it was already seen within the window or a cap is reached. */
  remember(signer: string, nonce: string, now = Date.now()): RememberOutcome {
    if (now - this.#lastPrune > 1000) this.#prune(now);
    const own = this.#bySigner.get(signer);
    const seen = own?.get(nonce) ?? this.#unsigned.get(nonce);
    if (seen !== undefined && seen > now) return 'replayed';
    if (own !== undefined && own.size >= this.perSigner) {
      this.#pruneSigner(signer, own, now);
      if (own.size >= this.perSigner) return 'over_cap'; // refuse rather than forget a fresh nonce
    }
    if (this.size >= this.maxEntries) {
      this.#prune(now);
      if (this.size >= this.maxEntries) return 'full';
    }
    // Pruning may have dropped the signer's (emptied) table: look it up again.
    let nonces = this.#bySigner.get(signer);
    if (nonces === undefined) {
      nonces = new Map();
      this.#bySigner.set(signer, nonces);
    }
    // A timestamp may be up to `windowMs` in the future, so keep the nonce for two windows.
    const expiry = now + 2 * this.windowMs;
    nonces.set(nonce, expiry);
    this.#size += 1;
    this.onRemember?.([signer, nonce, expiry]);
    return 'fresh';
  }

  /** The nonces still remembered, with their signers and expiries. */
  fresh(now = Date.now()): NonceEntry[] {
    const entries: NonceEntry[] = [];
    for (const [nonce, expiry] of this.#unsigned) if (expiry > now) entries.push(['', nonce, expiry]);
    for (const [signer, nonces] of this.#bySigner) for (const [nonce, expiry] of nonces) if (expiry > now) entries.push([signer, nonce, expiry]);
    return entries;
  }

  /** Takes over nonces a previous process remembered (expired ones are skipped); signer '' = a journal that named none. */
  restore(entries: Iterable<NonceEntry>, now = Date.now()): void {
    for (const [signer, nonce, expiry] of entries) {
      if (expiry <= now || this.size >= this.maxEntries) continue;
      if (signer === '') {
        this.#unsigned.set(nonce, expiry);
        continue;
      }
      let nonces = this.#bySigner.get(signer);
      if (nonces === undefined) {
        nonces = new Map();
        this.#bySigner.set(signer, nonces);
      }
      if (!nonces.has(nonce)) this.#size += 1;
      nonces.set(nonce, expiry);
    }
  }

  #pruneSigner(signer: string, nonces: Map<string, number>, now: number): void {
    for (const [nonce, expiry] of nonces) {
      if (expiry > now) continue;
      nonces.delete(nonce);
      this.#size -= 1;
    }
    if (nonces.size === 0) this.#bySigner.delete(signer);
  }

  #prune(now: number): void {
    this.#lastPrune = now;
    for (const [nonce, expiry] of this.#unsigned) if (expiry <= now) this.#unsigned.delete(nonce);
    for (const [signer, nonces] of this.#bySigner) this.#pruneSigner(signer, nonces, now);
  }
}
