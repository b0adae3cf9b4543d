/**
 * The built `sealpost serve` as a child process on 127.0.0.1:0, for tests that kill it or must
 * see it die. Resolves once the `listening` log line names its URL. Requires dist/ (npm test
 * builds first); fails loudly, never skips, when it is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = join(process.cwd(), 'dist/bin/sealpost.js');

export interface ChildRelay {
  child: ChildProcess;
  url: string;
  output: string[];
  exited: Promise<number | null>;
}

/** Loose per-IP and per-socket limits: these suites are the only client, from one address. */
/** Limits loose enough that suites do not trip them by accident (the same as test/support/relay.ts). */
export const LOOSE_LIMITS = [
  '--ip-rate-limit', '1000000', '--max-connections-per-ip', '100000', '--send-rate', '100000', '--send-burst', '100000',
  '--event-rate', '100000', '--event-burst', '100000', '--max-unauthenticated-per-ip', '10000', '--nonces-per-device', '100000',
  '--signed-requests-per-device', '100000', '--lookups-per-device', '100000', '--lookups-per-ip', '100000',
  '--pair-rate', '100000', '--pair-burst', '100000', '--inbound-bytes-per-second', '1099511627776', '--inbound-burst-bytes', '1099511627776',
];

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build:server\` first (\`npm test\` builds before testing)`);
}

/** `db` undefined: no SQLite file (a cluster node, given --postgres in `extra`). */
export function spawnRelay(db: string | undefined, extra: string[] = []): Promise<ChildRelay> {
  assertBuilt();
  const args = [CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...(db === undefined ? [] : ['--db', db]), '--static-dir', join(tmpdir(), 'sealpost-no-client'), ...LOOSE_LIMITS, ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay did not start: ${output.join('')}`));
    }, 15_000);
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      output.push(d.toString());
      const match = /"event":"listening","url":"([^"]+)"/.exec(output.join(''));
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited ${code}: ${output.join('')}`));
    });
  });
}
