/**
 * Budgets of things held, not of things done: live sockets per client address, connections
 * whose handshake has not verified yet, link blobs (and their bytes) an address has put. A
 * token bucket (token-bucket.ts) limits a rate; a lease limits what one key holds at once, and
 * goes back when it is released or expires.
 *
 * One process keeps leases in memory (MemoryLeases). A cluster keeps them in Redis
 * (server/cluster/redis-leases.ts), so an address holds the budget once across every node,
 * not once per node; there a lease also expires unless renewed, so a node that dies gives its
 * leases back within `ttlMs`.
 */

export interface LeasePolicy {
  /** Leases one key may hold at once. */
  maxCount: number;
  /** The sum of their weights (e.g. bytes) one key may hold at once; no limit when absent. */
  maxWeight?: number;
  /** How long a lease lasts unless released; Infinity: until released (renewed while held, in Redis). */
  ttlMs: number;
}

export interface Lease {
  /** Gives the lease back (again: nothing). */
  release(): void;
}

export interface Leases {
  /** A lease for `key`, or undefined when the key holds its budget already. Never rejects. */
  take(key: string, weight?: number): Promise<Lease | undefined>;
}

export type LeasesFactory = (name: string, policy: LeasePolicy) => Leases;

/** How often taking a lease first forgets every expired one. */
const SWEEP_MS = 60_000;

interface Held {
  weight: number;
  expiresAt: number;
}

/** This process's leases. */
export class MemoryLeases implements Leases {
  readonly #byKey = new Map<string, Map<number, Held>>();
  #nextId = 1;
  #sweptAt = Date.now();

  constructor(private readonly policy: LeasePolicy) {}

  take(key: string, weight = 1, now = Date.now()): Promise<Lease | undefined> {
    return Promise.resolve(this.takeNow(key, weight, now));
  }

  /** `take` for callers that cannot wait (a fallback while Redis is away). */
  takeNow(key: string, weight = 1, now = Date.now()): Lease | undefined {
    // Keys nobody asks about again would otherwise keep their expired leases.
    if (now - this.#sweptAt >= SWEEP_MS) this.sweep(now);
    const held = this.#live(key, now);
    let total = weight;
    for (const lease of held?.values() ?? []) total += lease.weight;
    if ((held?.size ?? 0) + 1 > this.policy.maxCount || total > (this.policy.maxWeight ?? Infinity)) return undefined;
    const id = this.#nextId++;
    const leases = held ?? new Map<number, Held>();
    leases.set(id, { weight, expiresAt: now + this.policy.ttlMs });
    this.#byKey.set(key, leases);
    return {
      release: () => {
        if (!leases.delete(id)) return;
        if (leases.size === 0 && this.#byKey.get(key) === leases) this.#byKey.delete(key);
      },
    };
  }

  /** Keys holding leases now (for tests and metrics). */
  get keys(): number {
    return this.#byKey.size;
  }

  /** Forgets what expired. */
  sweep(now = Date.now()): void {
    this.#sweptAt = now;
    for (const key of [...this.#byKey.keys()]) this.#live(key, now);
  }

  #live(key: string, now: number): Map<number, Held> | undefined {
    const held = this.#byKey.get(key);
    if (!held) return undefined;
    for (const [id, lease] of held) if (lease.expiresAt <= now) held.delete(id);
    if (held.size > 0) return held;
    this.#byKey.delete(key);
    return undefined;
  }
}

export const memoryLeases: LeasesFactory = (_name, policy) => new MemoryLeases(policy);
