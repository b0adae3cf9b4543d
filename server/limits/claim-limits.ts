/**
 * Budgets of prekey-bundle claims, in memory (per relay process): one per requesting device, so
 * one registered device cannot sweep the directory's one-time prekeys, and one per target
 * device, so many requesters together cannot drain one device's prekeys either. A claim costs a
 * token from both or, if either is empty, from neither.
 */
import type { BucketPolicy } from './rate-policy.js';
import { KeyedBuckets } from './token-bucket.js';

export class ClaimLimits {
  readonly #byRequester: KeyedBuckets;
  readonly #byTarget: KeyedBuckets;

  constructor(policy: { perRequester: BucketPolicy; perTarget: BucketPolicy }) {
    this.#byRequester = new KeyedBuckets(policy.perRequester);
    this.#byTarget = new KeyedBuckets(policy.perTarget);
  }

  /** Which budget is spent, if one is; otherwise takes a token from each and returns undefined. */
  take(requester: string, target: string, now = Date.now()): 'requester' | 'target' | undefined {
    if (!this.#byRequester.has(requester, now)) return 'requester';
    if (!this.#byTarget.has(target, now)) return 'target';
    this.#byRequester.take(requester, now);
    this.#byTarget.take(target, now);
    return undefined;
  }
}
