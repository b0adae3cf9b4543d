/**
 * A cluster for tests: a throwaway PostgreSQL and Redis (test/support/postgres.ts, redis.ts) and
 * relay nodes on 127.0.0.1 that share them — in this process (startRelay with --postgres and
 * --redis) or as child processes of the built binary, for tests that SIGKILL a node.
 */
import type { Config } from '../../server/config.js';
import type { ChildRelay } from './child-relay.js';
import { spawnRelay } from './child-relay.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';
import { startRedis, type RedisHandle } from './redis.js';
import { startRelay, type RelayHandle } from './relay.js';

export interface TestCluster {
  postgres: TestPostgres;
  redis: RedisHandle;
  /** This suite's own database. */
  databaseUrl: string;
  nodes: RelayHandle[];
  /** Another in-process node on the same database and Redis. */
  addNode(overrides?: Partial<Config>): Promise<RelayHandle>;
  /** A node as a child process of the built binary (SIGKILL-able). */
  spawnNode(extra?: string[]): Promise<ChildRelay>;
  close(): Promise<void>;
}

export async function startCluster(nodes = 3, overrides: Partial<Config> = {}): Promise<TestCluster> {
  const postgres = await startTestPostgres();
  const redis = await startRedis();
  const databaseUrl = await postgres.createDatabase();
  const started: RelayHandle[] = [];
  const children: ChildRelay[] = [];
  const addNode = async (more: Partial<Config> = {}): Promise<RelayHandle> => {
    const node = await startRelay({ postgres: databaseUrl, redis: redis.url, ...overrides, ...more });
    started.push(node);
    return node;
  };
  for (let i = 0; i < nodes; i += 1) await addNode();
  return {
    postgres,
    redis,
    databaseUrl,
    nodes: [...started],
    addNode,
    async spawnNode(extra = []) {
      const child = await spawnRelay(undefined, ['--postgres', databaseUrl, '--redis', redis.url, ...extra]);
      children.push(child);
      return child;
    },
    async close() {
      for (const child of children) if (child.child.exitCode === null && child.child.signalCode === null) child.child.kill('SIGKILL');
      for (const node of started) await node.close().catch(() => undefined);
      await redis.stop();
      await postgres.stop();
    },
  };
}
