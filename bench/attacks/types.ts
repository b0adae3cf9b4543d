/** What the runner hands an attacker process, and what the attacker reports back. */
export interface AttackParams {
  /** The relay, http://127.0.0.1:PORT. */
  url: string;
  /** How long to attack; every loop is also bounded in count. */
  durationMs: number;
  /** The legitimate recipient's device id (for attacks that aim at a real user's queue). */
  bobId: string;
  /** A handle that exists (the legitimate sender's), for lookups that hit. */
  aliceHandle: string;
}

export interface AttackOutcome {
  /** One line: what the attacker tried and what it got. */
  summary: string;
  /** Outcome label → count (e.g. "lookup 429 rate_limited"). */
  counts: Record<string, number>;
  details?: Record<string, unknown>;
}

export type Attack = (params: AttackParams) => Promise<AttackOutcome>;
