/**
 * Child processes of the benchmark and what the runner reads about them from /proc: CPU time
 * (utime + stime) and resident memory. Every child gets a kill timer so nothing outlives a run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux this runs on. */
const CLK_TCK = 100;

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which sits in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLK_TCK;
}

/** utime, stime, cutime, cstime (ticks) and the parent pid, or undefined once the process is gone. */
function statTicks(pid: number): { own: number; reaped: number; ppid: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { own: Number(fields[11]) + Number(fields[12]), reaped: Number(fields[13]) + Number(fields[14]), ppid: Number(fields[1]) };
}

/**
 * CPU seconds of a process and all its descendants: each live process's own time, plus the
 * time of the children it has already reaped (cutime + cstime). A child that exits between two
 * readings moves from the first sum to its parent's second, so differences stay exact — as long
 * as the parent reaps its children (PostgreSQL's postmaster does).
 */
export function treeCpuSeconds(root: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = statTicks(pid);
    if (stat === undefined) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  let ticks = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = statTicks(pid);
    if (stat === undefined) continue;
    ticks += stat.own + stat.reaped;
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks / CLK_TCK;
}

/**
 * The open-file limit (soft, hard) a child of this process starts with: one descriptor per
 * socket bounds scenario (d). Node raises its own soft limit to the hard one at start-up.
 */
export function openFileLimit(): { soft: number; hard: number } | undefined {
  try {
    const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const value = (text: string | undefined) => (text === undefined || text === 'unlimited' ? Infinity : Number(text));
    return match ? { soft: value(match[1]), hard: value(match[2]) } : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set size in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/**
 * Microseconds during which some runnable task waited for a CPU (Linux PSI, /proc/pressure/cpu
 * "some ... total="), or undefined where PSI is not available. On a shared machine the share
 * of a run's wall time spent so is the contention that run had to live with.
 */
export function cpuPressureMicros(): number | undefined {
  try {
    const match = /^some .*total=(\d+)$/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`target exited with code ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms`);
}

export interface Child {
  process: ChildProcess;
  pid: number;
  /** Last lines of stderr, for error reports. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<number | null>;
}

export function spawnNode(args: readonly string[], options: { env?: NodeJS.ProcessEnv; maxLifetimeMs: number }): Child {
  const child = spawn(process.execPath, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return supervise(child, options.maxLifetimeMs);
}

export function supervise(child: ChildProcess, maxLifetimeMs: number): Child {
  if (child.pid === undefined) throw new Error('child process did not start');
  const pid = child.pid;
  let tail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4000);
  });
  child.stdout?.resume(); // never let a full pipe block the child
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), maxLifetimeMs);
  killer.unref();
  void exited.then(() => clearTimeout(killer));
  return {
    process: child,
    pid,
    stderrTail: () => tail,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(force);
        return code;
      }
      return exited;
    },
  };
}
