/**
 * Leases (server/limits/leases.ts) shared by the nodes through Redis: one sorted set per key,
 * a member per lease (its id and weight), scored by when it expires. Taking one is a Lua
 * script: drop what expired, count and weigh the rest, add the new lease only within the
 * budget — atomic, so two nodes cannot both take the last one.
 *
 * A lease "until released" (a live socket) is written with RENEWED_TTL_MS and renewed every
 * third of it while held, so a node that dies without releasing gives its sockets' leases back
 * within a minute and a half. Keys carry the client address, in Redis' memory only (run it
 * without persistence, docs/cluster.md), like the rate-limit counters. While Redis cannot
 * answer, each node counts alone in memory, as the token buckets do.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { MemoryLeases, type Lease, type LeasePolicy, type Leases, type LeasesFactory } from '../limits/leases.js';

/** How long a lease held until released lives in Redis between renewals. */
export const RENEWED_TTL_MS = 90_000;

const TAKE_SCRIPT = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local weight = tonumber(ARGV[4])
for _, member in ipairs(members) do weight = weight + tonumber(string.match(member, ':(%d+)$')) end
if #members + 1 > tonumber(ARGV[5]) or weight > tonumber(ARGV[6]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3] .. ':' .. ARGV[4])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2])))
return 1`;

type TakeCommand = (key: string, now: number, ttlMs: number, id: string, weight: number, maxCount: number, maxWeight: number) => Promise<number>;

interface Renewed {
  key: string;
  member: string;
}

class RedisLeases implements Leases {
  readonly #fallback: MemoryLeases;
  readonly #ttlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly run: TakeCommand,
    private readonly prefix: string,
    private readonly policy: LeasePolicy,
    private readonly renewed: Set<Renewed>,
  ) {
    this.#fallback = new MemoryLeases(policy);
    this.#ttlMs = Number.isFinite(policy.ttlMs) ? policy.ttlMs : RENEWED_TTL_MS;
  }

  async take(key: string, weight = 1): Promise<Lease | undefined> {
    const redisKey = this.prefix + key;
    const id = randomUUID();
    let taken: number;
    try {
      taken = await this.run(redisKey, Date.now(), this.#ttlMs, id, Math.round(weight), this.policy.maxCount, this.policy.maxWeight ?? Number.MAX_SAFE_INTEGER);
    } catch {
      return this.#fallback.takeNow(key, weight);
    }
    if (taken !== 1) return undefined;
    const held: Renewed = { key: redisKey, member: `${id}:${Math.round(weight)}` };
    if (!Number.isFinite(this.policy.ttlMs)) this.renewed.add(held);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.renewed.delete(held);
        // A release that cannot reach Redis is given back by expiry.
        this.redis.zrem(held.key, held.member).catch(() => undefined);
      },
    };
  }
}

/** Leases of every policy on one Redis connection; `close()` stops renewing (the leases then expire). */
export function redisLeases(redis: Redis): { leases: LeasesFactory; close(): void } {
  redis.defineCommand('sealpostLease', { numberOfKeys: 1, lua: TAKE_SCRIPT });
  const run = (redis as unknown as { sealpostLease: TakeCommand }).sealpostLease.bind(redis);
  const renewed = new Set<Renewed>();
  const timer = setInterval(() => {
    const expiresAt = Date.now() + RENEWED_TTL_MS;
    const batch = redis.pipeline();
    for (const { key, member } of renewed) {
      batch.zadd(key, 'XX', 'GT', expiresAt, member);
      batch.pexpireat(key, expiresAt, 'GT');
    }
    if (renewed.size > 0) batch.exec().catch(() => undefined);
  }, RENEWED_TTL_MS / 3).unref();
  return {
    leases: (name, policy) => new RedisLeases(redis, run, `sealpost-lease:${name}:`, policy, renewed),
    close: () => clearInterval(timer),
  };
}
