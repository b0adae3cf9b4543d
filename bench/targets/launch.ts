/**
 * How the runner starts each target as its own process on 127.0.0.1. Sealpost runs with its
 * defaults (synchronous=FULL: an acked envelope survives power loss) except the abuse limits,
 * raised so the load generator — one IP sending as fast as it can — is not rate-limited. The
 * cluster target is several such relays in cluster mode (--postgres, --redis) on a throwaway
 * PostgreSQL and Redis (../cluster-services.ts), every one of them probed for CPU.
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParserName, TargetName } from '../config.js';
import { startPostgres, startRedis, type BenchPostgres, type BenchRedis } from '../cluster-services.js';
import { cpuSeconds, freePort, spawnNode, waitForPort, type Child } from '../proc.js';

export interface RunningTarget {
  name: TargetName;
  /** The first (or only) relay's URL. */
  url: string;
  /** Every relay's URL: one, or the cluster's nodes. */
  urls: string[];
  /** The first (or only) relay process: scenario (d) samples its RSS. */
  child: Child;
  /** What the runner reads CPU time from over a measured interval. */
  probes: CpuProbe[];
  /** Cumulative counters of a service (the cluster's PostgreSQL), read at both ends of the interval. */
  counters?: () => Promise<Record<string, number>>;
  /** SQLite file (sealpost only). */
  dbFile?: string;
  /** The cluster's database (bench/cluster-disk.ts reads table sizes from it). */
  postgresUrl?: string;
  /** Stops every process of the target. */
  stop(): Promise<void>;
  /** Removes the temporary files (after `stop()`). */
  cleanup(): void;
}

export interface CpuProbe {
  /** e.g. `relay`, `node 2`, `postgres`, `redis`. */
  name: string;
  /** A relay process (summed into the relay's CPU per message) rather than a service behind it. */
  relay: boolean;
  cpuSeconds(): number;
}

const DIST = join(import.meta.dirname, '..', '..');
const MAX_LIFETIME_MS = 8 * 60_000;
/** Node flags for every target: the GC hook the runner uses before sampling RSS. */
// BENCH_TARGET_NODE_FLAGS adds more (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a target).
const NODE_FLAGS = [
  '--expose-gc',
  '--import',
  pathToFileURL(join(DIST, 'bench', 'targets', 'gc-hook.js')).href,
  ...(process.env['BENCH_TARGET_NODE_FLAGS'] ?? '').split(' ').filter(Boolean),
];

/**
 * For measuring a lever before it is committed: BENCH_SEALPOST_CLI runs another build of the
 * relay, BENCH_SEALPOST_ARGS appends flags (space-separated). Both are reported in the JSON.
 */
export function sealpostOverrides(env: NodeJS.ProcessEnv = process.env): { cli?: string; args: string[] } {
  const cli = env['BENCH_SEALPOST_CLI'];
  const args = (env['BENCH_SEALPOST_ARGS'] ?? '').split(' ').filter(Boolean);
  return { ...(cli ? { cli } : {}), args };
}

/**
 * The abuse limits, raised through environment variables rather than flags: a relay build that
 * does not know one of them ignores it instead of refusing to start.
 */
export function sealpostLimitEnv(): Record<string, string> {
  const lots = '1000000';
  return {
    SEALPOST_SEND_RATE: lots,
    SEALPOST_SEND_BURST: lots,
    SEALPOST_EVENT_RATE: lots,
    SEALPOST_EVENT_BURST: lots,
    SEALPOST_IP_RATE_LIMIT: lots,
    SEALPOST_MAX_CONNECTIONS_PER_IP: lots,
    // Every load generator connects from 127.0.0.1, and (d) opens thousands of sockets at once.
    SEALPOST_MAX_UNAUTHENTICATED_PER_IP: lots,
    SEALPOST_SIGNED_REQUESTS_PER_DEVICE: lots,
    SEALPOST_NONCES_PER_DEVICE: lots,
    SEALPOST_LOOKUPS_PER_DEVICE: lots,
    SEALPOST_LOOKUPS_PER_IP: lots,
    SEALPOST_BUNDLE_CLAIMS_PER_DEVICE: lots,
    SEALPOST_BUNDLE_CLAIMS_PER_TARGET: lots,
    // Every load generator's device sends each of its peers far more than a person would.
    SEALPOST_PAIR_RATE: lots,
    SEALPOST_PAIR_BURST: lots,
    SEALPOST_INBOUND_BYTES_PER_DEVICE: String(2 ** 50),
    // One load-generator connection sends for many people at once.
    SEALPOST_INBOUND_BYTES_PER_SECOND: String(2 ** 40),
    SEALPOST_INBOUND_BURST_BYTES: String(2 ** 40),
    SEALPOST_MAX_TOTAL_QUEUE_BYTES: String(2 ** 50),
    SEALPOST_LOG_LEVEL: 'warn',
  };
}

/** Filesystems held in memory (statfs magic numbers): an fdatasync there reaches no device. */
const IN_MEMORY_FILESYSTEMS = new Map([
  [0x01021994, 'tmpfs'],
  [0x858458f6, 'ramfs'],
]);

/**
 * Where sealpost's database goes (the system's temporary directory; TMPDIR moves it), and a
 * warning when that is memory: its "durable" acks then skip the disk flush they pay in production.
 */
export function databaseDirectoryNote(): string {
  const dir = tmpdir();
  const memory = IN_MEMORY_FILESYSTEMS.get(statfsSync(dir).type);
  return memory
    ? `sealpost's database was in ${dir}, on ${memory}: fdatasync reaches no disk there, so this run measures the relay without the flush cost it pays on a real disk`
    : `sealpost's database was in ${dir} (TMPDIR moves it)`;
}

/** `staticDir`: what sealpost serves at / (the built web app for (i)); by default its empty temporary folder. */
export async function startTarget(name: TargetName, parser: ParserName, clusterNodes = 3, staticDir?: string): Promise<RunningTarget> {
  if (name === 'cluster') return startCluster(parser, clusterNodes);
  const port = await freePort();
  let dir: string | undefined;
  let dbFile: string | undefined;
  let child: Child;
  if (name === 'sealpost') {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-'));
    dbFile = join(dir, 'bench.db');
    child = spawnSealpost(parser, port, ['--db', dbFile, '--static-dir', staticDir ?? dir]);
  } else {
    child = spawnNode([...NODE_FLAGS, join(DIST, 'bench', 'targets', `${name}.js`), '--port', String(port)], { maxLifetimeMs: MAX_LIFETIME_MS });
  }
  try {
    await waitForPort(port, 20_000, child.process);
  } catch (error) {
    await child.stop(1000);
    throw new Error(`${name} did not start: ${error instanceof Error ? error.message : String(error)}\n${child.stderrTail()}`);
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    name,
    url,
    urls: [url],
    child,
    probes: [{ name: 'relay', relay: true, cpuSeconds: () => cpuSeconds(child.pid) }],
    ...(dbFile !== undefined ? { dbFile } : {}),
    stop: async () => void (await child.stop()),
    cleanup() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `sealpost serve` on 127.0.0.1:port with the bench's loose limits; `store` names its data (--db or --postgres/--redis). */
function spawnSealpost(parser: ParserName, port: number, store: string[]): Child {
  const overrides = sealpostOverrides();
  const cli = overrides.cli ?? join(DIST, 'bin', 'sealpost.js');
  const args = [...NODE_FLAGS, cli, 'serve', '--host', '127.0.0.1', '--port', String(port), ...store, ...overrides.args];
  const env = { ...process.env, ...sealpostLimitEnv(), SEALPOST_PARSER: parser };
  return spawnNode(args, { env, maxLifetimeMs: MAX_LIFETIME_MS });
}

/**
 * `nodes` sealpost nodes in cluster mode on one fresh PostgreSQL database and one Redis, each
 * node its own process with the same loose limits as the single relay. The probes cover every
 * node, PostgreSQL (postmaster and all its children) and Redis.
 */
async function startCluster(parser: ParserName, nodes: number): Promise<RunningTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-cluster-'));
  const services = await Promise.allSettled([startPostgres(), startRedis()]);
  const [postgres, redis] = services.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as [BenchPostgres | undefined, BenchRedis | undefined];
  const children: Child[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => c.stop()));
    await redis?.stop();
    await postgres?.stop();
  };
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    const failed = services.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed || !postgres || !redis) throw failed?.reason ?? new Error('cluster services did not start');
    const ports: number[] = [];
    while (ports.length < nodes) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    for (const port of ports) children.push(spawnSealpost(parser, port, ['--postgres', postgres.url, '--redis', redis.url, '--static-dir', dir]));
    // Migrations run under an advisory lock, so the nodes may start together.
    await Promise.all(
      ports.map((port, i) =>
        waitForPort(port, 30_000, (children[i] as Child).process).catch((error: unknown) => {
          throw new Error(`cluster node ${i + 1} did not start: ${error instanceof Error ? error.message : String(error)}\n${children[i]?.stderrTail() ?? ''}`);
        }),
      ),
    );
    const urls = ports.map((port) => `http://127.0.0.1:${port}`);
    return {
      name: 'cluster',
      url: urls[0] as string,
      urls,
      child: children[0] as Child,
      probes: [
        ...children.map((c, i): CpuProbe => ({ name: `node ${i + 1}`, relay: true, cpuSeconds: () => cpuSeconds(c.pid) })),
        { name: 'postgres', relay: false, cpuSeconds: () => postgres.cpuSeconds() },
        { name: 'redis', relay: false, cpuSeconds: () => redis.cpuSeconds() },
      ],
      counters: () => postgres.counters(),
      postgresUrl: postgres.url,
      stop,
      cleanup,
    };
  } catch (error) {
    await stop();
    cleanup();
    throw error;
  }
}
