/**
 * The services of the cluster target (targets/launch.ts): a throwaway PostgreSQL and Redis on
 * 127.0.0.1, each a child of the runner that it stops and deletes afterwards, and the CPU time
 * of each for the per-message figures. The PostgreSQL start (startPostgresCluster) is shared
 * with test/support/postgres.ts and lives here because the build compiles bench/ but not test/.
 * Here PostgreSQL keeps its durability defaults (fsync on, synchronous_commit on), as sealpost's
 * SQLite keeps synchronous=FULL, so both pay for the flush of an acknowledged envelope on the
 * same disk; the tests turn fsync off.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { cpuSeconds, freePort, treeCpuSeconds } from './proc.js';

const PG_USER = 'postgres';
const REDIS_SERVER = '/usr/bin/redis-server';
const START_TIMEOUT_MS = 30_000;

export interface BenchPostgres {
  /** postgresql://postgres@127.0.0.1:PORT/sealpost — a fresh, empty database. */
  url: string;
  dataDir: string;
  /** CPU seconds of the postmaster and every process it started (live children + reaped ones). */
  cpuSeconds(): number;
  /** Cumulative counters of the database and its WAL (see PG_COUNTERS); the runner takes differences. */
  counters(): Promise<Record<string, number>>;
  /** Stops the server at once (immediate) and deletes the cluster. */
  stop(): Promise<void>;
}

export interface BenchRedis {
  url: string;
  pid: number;
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL server's binaries: /usr/lib/postgresql/<version>/bin, else pg_config's. */
function pgBinDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)) : [];
  const candidates = versions.map((v) => join(root, v, 'bin'));
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // No pg_config on PATH: only the Debian layout is left to try.
  }
  const found = candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (!found) throw new Error("PostgreSQL server binaries (initdb, pg_ctl) not found in /usr/lib/postgresql/*/bin or `pg_config --bindir`: install Debian's `postgresql` package (apt-get install postgresql)");
  return found;
}

/** Whether the cluster target can run here (both servers installed). */
export function clusterServicesMissing(): string | undefined {
  try {
    pgBinDir();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  return existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} is missing: install Debian's \`redis-server\` package`;
}

/** PostgreSQL refuses to run as root: root runs its binaries as `postgres` (uid/gid); anyone else runs them as themselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, PG_USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Runs a binary to its exit. */
function run(bin: string, args: string[], as: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { ...as, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    // 'exit', not 'close': pg_ctl leaves a server behind that must not hold our pipes.
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))));
  });
}

/**
 * What PostgreSQL did, read before and after a measured interval: WAL bytes (exact: the insert
 * position), WAL flushes, and the database's commits and row writes. The statistics other than
 * the WAL position reach pg_stat_* when a backend reports them, about once a second under
 * load, so over a few seconds they are approximate. The reading itself adds one commit.
 */
const PG_COUNTERS = `SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 AS "walBytes",
    (SELECT wal_sync FROM pg_stat_wal)::float8 AS "walFlushes",
    xact_commit::float8 AS commits, tup_inserted::float8 AS "rowsInserted",
    tup_updated::float8 AS "rowsUpdated", tup_deleted::float8 AS "rowsDeleted"
  FROM pg_stat_database WHERE datname = current_database()`;

export interface PostgresCluster {
  readonly port: number;
  /** The cluster's data directory. */
  readonly dataDir: string;
  /** `pg_ctl -D <data> -l <log> -w -t 60 ...args`, run as the cluster's owner. */
  pgCtl(...args: string[]): Promise<void>;
  /** Creates an empty database (a plain name); returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server at once (immediate) and deletes the cluster. */
  destroy(): void;
}

/**
 * A throwaway PostgreSQL cluster, started: initdb in a fresh temporary directory (`prefix`), a
 * server on a free port of 127.0.0.1 with its unix socket in that directory, and `settings`
 * appended to postgresql.conf. The server dies with this process at the latest.
 */
export async function startPostgresCluster(prefix: string, settings: string[]): Promise<PostgresCluster> {
  const bin = pgBinDir();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pgCtl = (...args: string[]): Promise<void> => run(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', ...args], as);
  const kill = (): void => {
    try {
      execFileSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { ...as, stdio: 'ignore' });
    } catch {
      // Not running.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // A process that dies without stopping the cluster must not leave a server behind.
  process.once('exit', kill);
  const destroy = (): void => {
    process.removeListener('exit', kill);
    kill();
  };
  let port = 0;
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', PG_USER, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], as);
    // Another process can take the free port between our check and the server's bind: try again.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(join(data, 'postgresql.conf'), [`port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, ...settings, ''].join('\n'));
      try {
        await pgCtl('start');
        break;
      } catch (error) {
        const inUse = existsSync(log) && /could not bind|already in use/i.test(readFileSync(log, 'utf8'));
        if (!inUse || attempt === 3) throw error;
      }
    }
  } catch (error) {
    destroy();
    throw error;
  }
  const urlOf = (database: string): string => `postgresql://${PG_USER}@127.0.0.1:${port}/${database}`;
  return {
    port,
    dataDir: data,
    pgCtl,
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      const admin = new pg.Client({ connectionString: urlOf('postgres') });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return urlOf(name);
    },
    destroy,
  };
}

export async function startPostgres(): Promise<BenchPostgres> {
  // Durability defaults kept (fsync, full_page_writes, synchronous_commit); max_connections covers
  // 14 per node; autovacuum looks at the database every 10 s, as docs/cluster.md advises.
  const cluster = await startPostgresCluster('sealpost-bench-pg-', ['max_connections = 100', 'autovacuum_naptime = 10s']);
  let url: string;
  try {
    url = await cluster.createDatabase('sealpost');
  } catch (error) {
    cluster.destroy();
    throw error;
  }
  const postmaster = Number(readFileSync(join(cluster.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // One connection for the runner's readings, opened on first use.
  let reader: pg.Client | undefined;
  return {
    url,
    dataDir: cluster.dataDir,
    cpuSeconds: () => treeCpuSeconds(postmaster),
    async counters() {
      if (reader === undefined) {
        reader = new pg.Client({ connectionString: url });
        reader.on('error', () => undefined);
        await reader.connect();
      }
      const row = (await reader.query<Record<string, number>>(PG_COUNTERS)).rows[0] ?? {};
      return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
    },
    stop: async () => {
      await reader?.end().catch(() => undefined);
      cluster.destroy();
    },
  };
}

export async function startRedis(): Promise<BenchRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install Debian's \`redis-server\` package`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-bench-redis-'));
  // As docs/cluster.md says to run it: no persistence.
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'yes', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', ''];
  const child = spawn(REDIS_SERVER, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr.on('data', (d: Buffer) => output.push(d.toString()));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const stop = async (): Promise<void> => {
    await terminate(child);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on 127.0.0.1:${port}: ${output.join('')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const pid = child.pid ?? 0;
  return { url: `redis://127.0.0.1:${port}`, pid, cpuSeconds: () => cpuSeconds(pid), stop };
}

/** Whether a Redis server on 127.0.0.1:port answers PING. */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** SIGTERM (redis-server saves nothing with `--save ''`), SIGKILL if it is still there after `killAfterMs`. */
export async function terminate(child: ChildProcess, killAfterMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  await exited;
  clearTimeout(timer);
}
