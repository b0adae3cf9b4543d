/**
 * The relay's one rate policy, derived from Config: the per-IP route limit handed to
 * @fastify/rate-limit, the per-socket token buckets of socket events, the per-pair and
 * per-recipient envelope budgets and the bundle-claim budgets are all read from here, so an operator's flags and the tests see one set of numbers.
 */
import type { Config } from '../config.js';
import type { InboundPolicy } from './inbound-limits.js';

export interface BucketPolicy {
  readonly ratePerSecond: number;
  readonly burst: number;
}

export interface RatePolicy {
  /** `config.rateLimit` of the registration, bundle-claim and provisioning routes (per client IP). */
  readonly perIpRoute: { readonly max: number; readonly timeWindow: number };
  /** Live sockets one client IP may hold. */
  readonly maxConnectionsPerIp: number;
  /**
   * Refused socket handshakes per client IP, the same budget as the per-IP routes: past it, the
   * IP's handshakes are refused `rate_limited` before any signature is checked.
   */
  readonly failedHandshakes: BucketPolicy;
  /** Per socket: `send` events. */
  readonly send: BucketPolicy;
  /** Per socket: every other event (`ack`, and unknown events, which are refused but still cost a token). */
  readonly otherEvents: BucketPolicy;
  /** Durable envelopes per (sending device, recipient device) pair and bytes per recipient device (inbound-limits.ts). */
  readonly inbound: InboundPolicy;
  /** Prekey-bundle claims per requesting device and per target device (claim-limits.ts). */
  readonly bundleClaims: { readonly perRequester: BucketPolicy; readonly perTarget: BucketPolicy };
  /** Signed requests per signing key, any route (signed-request.ts). */
  readonly signedRequests: BucketPolicy;
  /** Account lookups: per requesting device (bucket) and `config.rateLimit` per client IP. */
  readonly lookups: { readonly perDevice: BucketPolicy; readonly perIp: { readonly max: number; readonly timeWindow: number } };
}

/** A per-minute budget as a bucket: the whole minute's worth may come at once, then it refills evenly. */
const perMinute = (n: number): BucketPolicy => Object.freeze({ ratePerSecond: n / 60, burst: n });

export function ratePolicy(config: Config): RatePolicy {
  return Object.freeze({
    perIpRoute: Object.freeze({ max: config.ipRateLimitPerMinute, timeWindow: 60_000 }),
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    failedHandshakes: Object.freeze({ ratePerSecond: config.ipRateLimitPerMinute / 60, burst: config.ipRateLimitPerMinute }),
    send: Object.freeze({ ratePerSecond: config.sendRatePerSecond, burst: config.sendBurst }),
    otherEvents: Object.freeze({ ratePerSecond: config.eventRatePerSecond, burst: config.eventBurst }),
    inbound: Object.freeze({
      perPair: Object.freeze({ ratePerSecond: config.pairRatePerSecond, burst: config.pairBurst }),
      perRecipient: Object.freeze({ bytes: config.inboundBytesPerDevice, windowMs: config.inboundWindowMs }),
    }),
    bundleClaims: Object.freeze({ perRequester: perMinute(config.bundleClaimsPerDevice), perTarget: perMinute(config.bundleClaimsPerTarget) }),
    signedRequests: perMinute(config.signedRequestsPerDevice),
    lookups: Object.freeze({ perDevice: perMinute(config.lookupsPerDevice), perIp: Object.freeze({ max: config.lookupsPerIp, timeWindow: 60_000 }) }),
  });
}
