/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary directory, a server on a free
 * port of 127.0.0.1 (its unix socket in that directory too), a fresh database per test or suite.
 * One cluster per test file keeps the start-up cost (about a second) out of each test.
 *
 * PostgreSQL refuses to run as root, so when the tests run as root every binary runs as the
 * `postgres` user, in a directory that user owns. The cluster trades durability for speed
 * (fsync off): tests check the store's transactions, not the disk. `stopPostgres` and
 * `startPostgres` stop and restart the same cluster (same port and data) for outage tests.
 */
import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../../bench/proc.js';

export interface TestPostgres {
  /** URL of the database created at start (`sealpost`). */
  readonly url: string;
  readonly port: number;
  /** Creates an empty database; returns its URL. Names are generated when not given. */
  createDatabase(name?: string): Promise<string>;
  /** `pg_ctl stop -m fast`: the server goes, its data stays; open connections are cut. */
  stopPostgres(): Promise<void>;
  /** Starts the stopped cluster again on the same port. */
  startPostgres(): Promise<void>;
  /** Stops the server at once and deletes the cluster. */
  stop(): Promise<void>;
}

const USER = 'postgres';

/** The newest installed server's binaries: /usr/lib/postgresql/<version>/bin, else pg_config's. */
function binDir(): string {
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

/** Root runs the binaries as `postgres` (uid/gid); anyone else runs them as themselves. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Runs a binary to its exit ('exit', not 'close': pg_ctl leaves a server behind that must not hold our pipes). */
function run(bin: string, args: string[], as: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { ...as, stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${bin} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`))));
  });
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'sealpost-pg-'));
  if (as) chownSync(dir, as.uid, as.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', ...args], as);
  // A test process that dies without its afterAll must not leave a server running.
  const kill = () => {
    try {
      execFileSync(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop'], { ...as, stdio: 'ignore' });
    } catch {
      // Not running.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', kill);

  let port = 0;
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', USER, '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], as);
    // Another process can take the free port between our check and the server's bind: try again.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      appendFileSync(data + '/postgresql.conf', [`port = ${port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${dir}'`, 'fsync = off', 'full_page_writes = off', ''].join('\n'));
      try {
        await pgCtl('start');
        break;
      } catch (error) {
        const inUse = existsSync(log) && /could not bind|already in use/i.test(readFileSync(log, 'utf8'));
        if (!inUse || attempt === 3) throw error;
      }
    }
  } catch (error) {
    process.removeListener('exit', kill);
    kill();
    throw error;
  }

  const urlOf = (database: string) => `postgresql://${USER}@127.0.0.1:${port}/${database}`;
  let databases = 0;
  const createDatabase = async (name = `test_${++databases}`): Promise<string> => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    const client = new pg.Client({ connectionString: urlOf('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return urlOf(name);
  };
  const url = await createDatabase('sealpost');
  return {
    url,
    port,
    createDatabase,
    stopPostgres: () => pgCtl('-m', 'fast', 'stop'),
    startPostgres: () => pgCtl('start'),
    stop: async () => {
      process.removeListener('exit', kill);
      kill();
    },
  };
}
