/**
 * Token buckets in Redis, so a budget keyed to who asks (a signing device, a requester, a
 * target, an address) holds across every node of a cluster rather than once per node. One Lua
 * script per check keeps read-refill-write atomic; a check and the take that follows are two
 * calls, so concurrent requests can overshoot by the few in flight, never by a node count.
 *
 * While Redis cannot be reached each node falls back to its own in-memory buckets: the limit then
 * holds per node (as with one process) instead of failing every request.
 */
import type { Redis } from 'ioredis';
import { KeyedBuckets, type Buckets, type BucketsFactory } from '../limits/token-bucket.js';

/** KEYS[1] bucket; ARGV rate per second, burst, now (ms), take (1) or only look (0). Returns 1 when a token is (was) there. */
const BUCKET_SCRIPT = `
local state = redis.call('HMGET', KEYS[1], 't', 'l')
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = tonumber(state[1]) or burst
local last = tonumber(state[2]) or now
if now > last then tokens = math.min(burst, tokens + (now - last) / 1000 * rate) else now = last end
local had = tokens >= 1
if ARGV[4] == '1' then
  if had then tokens = tokens - 1 end
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'l', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
end
if had then return 1 else return 0 end`;

type BucketCommand = (key: string, rate: number, burst: number, now: number, take: 0 | 1) => Promise<number>;

class RedisBuckets implements Buckets {
  readonly #fallback: KeyedBuckets;

  constructor(
    private readonly run: BucketCommand,
    private readonly prefix: string,
    private readonly policy: { ratePerSecond: number; burst: number },
  ) {
    this.#fallback = new KeyedBuckets(policy);
  }

  async has(key: string, now = Date.now()): Promise<boolean> {
    try {
      return (await this.run(this.prefix + key, this.policy.ratePerSecond, this.policy.burst, now, 0)) === 1;
    } catch {
      return this.#fallback.has(key, now);
    }
  }

  async take(key: string, now = Date.now()): Promise<void> {
    try {
      await this.run(this.prefix + key, this.policy.ratePerSecond, this.policy.burst, now, 1);
    } catch {
      this.#fallback.take(key, now);
    }
  }
}

/** Buckets of every policy on one Redis connection (one with no offline queue: a call while Redis is away fails at once). */
export function redisBuckets(redis: Redis): BucketsFactory {
  redis.defineCommand('sealpostBucket', { numberOfKeys: 1, lua: BUCKET_SCRIPT });
  const run = (redis as unknown as { sealpostBucket: BucketCommand }).sealpostBucket.bind(redis);
  return (name, policy) => new RedisBuckets(run, `sealpost-bucket:${name}:`, policy);
}
