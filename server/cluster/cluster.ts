/**
 * Cluster mode (`--postgres URL`, optionally `--redis URL`): what a node shares with the others.
 * Every node keeps accounts, devices, device lists, prekeys and queues in one PostgreSQL database
 * (server/store/postgres/), and the state one process would keep in memory that must hold across
 * nodes: handshake and request nonces (a replay to another node is still a replay) and the link
 * mailbox (a blob put through one node is claimed through another). Redis is only the notice bus
 * between nodes (redis-bus.ts) and the shared counters of the rate limits (per-IP routes, and the
 * token buckets keyed to who asks: redis-buckets.ts); with Redis down sends still succeed,
 * delivery goes on by reading the store, and each node counts alone.
 *
 * Limits counted by the gateway per connection (sockets and unauthenticated connections per IP,
 * event rates per socket, per-pair and inbound budgets) stay per node: see docs/cluster.md.
 */
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { memoryLeases, type LeasesFactory } from '../limits/leases.js';
import { localBuckets, type BucketsFactory } from '../limits/token-bucket.js';
import type { NoticeBus } from '../delivery/notice-bus.js';
import { SoloBus } from '../delivery/notice-bus.js';
import { PgPool } from '../store/postgres/pool.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { PgMailbox } from './pg-mailbox.js';
import { PgNonces } from './pg-nonces.js';
import type { Queryable, Rows } from './queryable.js';
import { redisBuckets } from './redis-buckets.js';
import { redisLeases } from './redis-leases.js';
import { RedisBus } from './redis-bus.js';

export interface ClusterParts {
  store: PostgresStore;
  bus: NoticeBus;
  nonces: PgNonces;
  mailbox: PgMailbox;
  /** The newest queued seq per device (delivery's periodic checks). */
  newestSeqs: (deviceIds: readonly string[]) => Promise<Map<string, number>>;
  /** Shared counters for @fastify/rate-limit; undefined without Redis (then each node counts alone). */
  rateLimitRedis: Redis | undefined;
  /** Token buckets keyed to who asks, shared through Redis (or this node's own without Redis). */
  buckets: BucketsFactory;
  /** Budgets of things held (sockets and link blobs per address), shared through Redis (or this node's own without Redis). */
  leases: LeasesFactory;
  /** Deletes expired nonces and link blobs (with the envelope sweeper). */
  sweep(now: number): Promise<void>;
  close(): Promise<void>;
}

function queryable(pool: PgPool): Queryable {
  const run = (client: pg.PoolClient) => async (text: string, params: readonly unknown[] = []): Promise<Rows> => (await client.query(text, [...params])).rows as Rows;
  return {
    query: (text, params = []) => pool.query<Record<string, unknown>>({ text, values: [...params] }),
    transaction: (work) => pool.transaction((client) => work({ query: run(client) })),
  };
}

export async function openCluster(config: Config, log: FastifyBaseLogger): Promise<ClusterParts> {
  const url = config.postgres;
  if (!url) throw new Error('cluster mode needs --postgres');
  const store = await PostgresStore.open(url);
  // The shared tables' own small pool: nonce checks and link puts never wait behind group commits.
  const pool = new PgPool(url, { maxConnections: 4 });
  const db = queryable(pool);
  let busState: 'up' | 'down' | undefined;
  const bus: NoticeBus = config.redis
    ? new RedisBus(config.redis, {
        onState: (state, error) => {
          if (state === busState) return;
          busState = state;
          if (state === 'down') log.warn({ event: 'redis_down', err: error?.message }, 'Redis is unreachable: delivery between nodes goes on by reading PostgreSQL every second');
          else log.info({ event: 'redis_up' }, 'Redis is reachable: notices between nodes resumed');
        },
      })
    : new SoloBus();
  const rateLimitRedis = config.redis ? new Redis(config.redis, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 1000 }) : undefined;
  rateLimitRedis?.on('error', () => undefined);
  const nonces = new PgNonces(db, config.handshakeSkewMs, config.noncesPerDevice);
  const shared = rateLimitRedis ? redisLeases(rateLimitRedis) : undefined;
  const leases = shared?.leases ?? memoryLeases;
  const mailbox = new PgMailbox(db, leases);
  return {
    store,
    bus,
    nonces,
    mailbox,
    rateLimitRedis,
    buckets: rateLimitRedis ? redisBuckets(rateLimitRedis) : localBuckets,
    leases,
    async newestSeqs(deviceIds) {
      const rows = await db.query('SELECT device_id, max(seq) AS seq FROM queue WHERE device_id = ANY($1) GROUP BY device_id', [deviceIds]);
      return new Map(rows.map((row) => [String(row.device_id), Number(row.seq)]));
    },
    async sweep(now) {
      await nonces.sweep(now);
      await mailbox.sweep(now);
    },
    async close() {
      await bus.close();
      shared?.close();
      rateLimitRedis?.disconnect();
      await pool.end();
    },
  };
}

