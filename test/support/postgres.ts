/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary directory, a server on a free
 * port of 127.0.0.1 (its unix socket in that directory too), a fresh database per test or suite.
 * One cluster per test file keeps the start-up cost (about a second) out of each test.
 *
 * The cluster is bench/cluster-services.ts' (startPostgresCluster, shared with the benchmark):
 * when the tests run as root every binary runs as the `postgres` user, in a directory that user
 * owns, as PostgreSQL refuses to run as root. Here the cluster trades durability for speed
 * (fsync off): tests check the store's transactions, not the disk. `stopPostgres` and
 * `startPostgres` stop and restart the same cluster (same port and data) for outage tests.
 */
import { startPostgresCluster } from '../../bench/cluster-services.js';

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

export async function startTestPostgres(): Promise<TestPostgres> {
  const cluster = await startPostgresCluster('sealpost-pg-', ['fsync = off', 'full_page_writes = off']);
  let databases = 0;
  const createDatabase = (name = `test_${++databases}`): Promise<string> => cluster.createDatabase(name);
  const url = await createDatabase('sealpost');
  return {
    url,
    port: cluster.port,
    createDatabase,
    stopPostgres: () => cluster.pgCtl('-m', 'fast', 'stop'),
    startPostgres: () => cluster.pgCtl('start'),
    stop: async () => cluster.destroy(),
  };
}
