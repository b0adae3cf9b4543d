/**
 * How the runner starts each target as its own process on 127.0.0.1. Sealpost runs with its
 * defaults (synchronous=FULL: an acked envelope survives power loss) except the abuse limits,
 * raised so the load generator — one IP sending as fast as it can — is not rate-limited.
 */
import { mkdtempSync, rmSync } from 'node:fs';
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
const NODE_FLAGS = ['--expose-gc', '--import', pathToFileURL(join(DIST, 'bench', 'targets', 'gc-hook.js')).href];

export function sealpostLimitFlags(): string[] {
  return [
    '--send-rate', '1000000',
    '--send-burst', '1000000',
    '--ip-rate-limit', '1000000',
    '--max-connections-per-ip', '1000000',
    '--log-level', 'warn',
  ];
}

export async function startTarget(name: TargetName, parser: ParserName): Promise<RunningTarget> {
  const port = await freePort();
  let dir: string | undefined;
  let dbFile: string | undefined;
  let child: Child;
  if (name === 'sealpost') {
    dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-'));
    dbFile = join(dir, 'bench.db');
    const args = [...NODE_FLAGS, join(DIST, 'server', 'cli.js'), 'serve', '--host', '127.0.0.1', '--port', String(port), '--db', dbFile, '--static-dir', dir, ...sealpostLimitFlags()];
    const env = { ...process.env, ...(parser === 'msgpack' ? { SEALPOST_PARSER: 'msgpack' } : {}) };
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
