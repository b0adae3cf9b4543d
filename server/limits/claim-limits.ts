/**
 * Budgets of prekey-bundle claims (in memory, or in Redis across a cluster's nodes): one per requesting device, so
 * one registered device cannot sweep the directory's one-time prekeys, and one per target
 * device, so many requesters together cannot drain one device's prekeys either. A claim costs a
 * token from both or, if either is empty, from neither.
 */
import type { BucketPolicy } from './rate-policy.js';
import { localBuckets, type Buckets, type BucketsFactory } from './token-bucket.js';

export class ClaimLimits {
  readonly #byRequester: Buckets;
  readonly #byTarget: Buckets;

  constructor(policy: { perRequester: BucketPolicy; perTarget: BucketPolicy }, buckets: BucketsFactory = localBuckets) {
    this.#byRequester = buckets('claims-by-requester', policy.perRequester);
    this.#byTarget = buckets('claims-by-target', policy.perTarget);
  }

  /** Which budget is spent, if one is; otherwise takes a token from each and returns undefined. */
  async take(requester: string, target: string, now = Date.now()): Promise<'requester' | 'target' | undefined> {
    if (!(await this.#byRequester.has(requester, now))) return 'requester';
    if (!(await this.#byTarget.has(target, now))) return 'target';
    await this.#byRequester.take(requester, now);
    await this.#byTarget.take(target, now);
    return undefined;
  }
}
