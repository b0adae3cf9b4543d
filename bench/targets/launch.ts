/**
 * How the runner starts each target as its own process on 127.0.0.1. Sealpost runs with its
 * defaults (synchronous=FULL: an acked envelope survives power loss) except the abuse limits,
 * raised so the load generator — one IP sending as fast as it can — is not rate-limited.
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ParserName, TargetName } from '../config.js';
import { freePort, spawnNode, waitForPort, type Child } from '../proc.js';

export interface RunningTarget {
  name: TargetName;
  url: string;
  child: Child;
  /** SQLite file (sealpost only). */
  dbFile?: string;
  /** Removes the temporary files (after `child.stop()`). */
  cleanup(): void;
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

export async function startTarget(name: TargetName, parser: ParserName): Promise<RunningTarget> {
  const port = await freePort();
  let dir: string | undefined;
  let dbFile: string | undefined;
  let child: Child;
  if (name === 'sealpost') {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-'));
    dbFile = join(dir, 'bench.db');
    const overrides = sealpostOverrides();
    const cli = overrides.cli ?? join(DIST, 'bin', 'sealpost.js');
    const args = [...NODE_FLAGS, cli, 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', dbFile, '--static-dir', dir, ...overrides.args];
    const env = { ...process.env, ...sealpostLimitEnv(), SEALPOST_PARSER: parser };
    child = spawnNode(args, { env, maxLifetimeMs: MAX_LIFETIME_MS });
  } else {
    child = spawnNode([...NODE_FLAGS, join(DIST, 'bench', 'targets', `${name}.js`), '--port', String(port)], { maxLifetimeMs: MAX_LIFETIME_MS });
  }
  try {
    await waitForPort(port, 20_000, child.process);
  } catch (error) {
    await child.stop(1000);
    throw new Error(`${name} did not start: ${error instanceof Error ? error.message : String(error)}\n${child.stderrTail()}`);
  }
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    child,
    ...(dbFile !== undefined ? { dbFile } : {}),
    cleanup() {
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}
