/**
 * startRedis(): Debian's redis-server as a throwaway child process for tests, on a free port of
 * 127.0.0.1 only, in a temp dir, with no persistence (`--save '' --appendonly no`). Resolves once
 * it answers PING.
 *
 *   const redis = await startRedis();
 *   redis.url          // redis://127.0.0.1:PORT
 *   await redis.restart();   // stop, then start again on the same port (empty: nothing persists)
 *   await redis.stop();      // stops and removes the temp dir
 *
 * Fails loudly, never skips, when redis-server is not installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersPing, terminate } from '../../bench/cluster-services.js';
import { freePort } from '../../bench/proc.js';

export const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

export interface RedisHandle {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The server's working directory (empty: nothing is saved). */
  dir: string;
  /** Stops the server and removes its directory. */
  stop(): Promise<void>;
  /** Stops the server and starts a new one on the same port; resolves once it answers PING. */
  restart(): Promise<void>;
}

/** `binary` is for the test of the missing-server message; suites use Debian's. */
export async function startRedis(options: { binary?: string } = {}): Promise<RedisHandle> {
  const binary = options.binary ?? REDIS_SERVER;
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: install Debian's \`redis-server\` package (apt-get install redis-server)`);
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-redis-'));
  const launch = (): Promise<ChildProcess> => launchServer(binary, port, dir);
  let child: ChildProcess | undefined = await launch().catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  const stopChild = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running) await terminate(running, STOP_TIMEOUT_MS);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await stopChild();
      child = await launch();
    },
  };
}

async function launchServer(binary: string, port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes',
    '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', '',
  ];
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  // Nothing outlives the test process, even when a suite forgets to stop it.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING: ${output.join('')}`);
    }
    if (Date.now() > deadline) {
      await terminate(child, STOP_TIMEOUT_MS);
      throw new Error(`redis-server did not answer PING on 127.0.0.1:${port} within ${START_TIMEOUT_MS} ms: ${output.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return child;
}

/** True when a server on 127.0.0.1:port answers an inline PING with +PONG. */
