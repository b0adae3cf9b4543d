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
import { execFileSync } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pgBinDir as binDir, run, runAs } from '../../bench/cluster-services.js';
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
