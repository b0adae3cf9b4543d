/**
 * The cluster-mode Store: one PostgreSQL database shared by every relay node, through a pg.Pool
 * per process. It keeps what SqliteStore keeps, in the same shape (migrations.ts), and decides
 * every outcome as SqliteStore does; the sequence-number argument lives in queue.ts, the
 * directory's transactions in directory.ts, connection handling and `unavailable` in pool.ts.
 *
 * Every write resolves after its COMMIT returned, and sessions commit with
 * synchronous_commit = on: PostgreSQL answers COMMIT only once the commit record is flushed to
 * its WAL on disk. So a resolved write is already durable and durable() has nothing to wait for.
 * (A server run with fsync = off gives that up, as the operator chose.)
 */
import type { SignedDeviceListJson } from '../../../protocol/http.js';
import type {
  AccountRecord,
  AddDeviceOutcome,
  BundleRecord,
  DeviceRecord,
  EnqueueItem,
  EnqueueOutcome,
  OneTimePrekeyRecord,
  PublishDeviceListOutcome,
  QueueLimits,
  QueuedEnvelope,
  QueueStats,
  RelayStats,
  SignedPrekeyRecord,
  Store,
} from '../store.js';
import { PgDirectory } from './directory.js';
import { migrate } from './migrations.js';
import { PgPool, type PoolOptions } from './pool.js';
import { PgQueue } from './queue.js';

export type PostgresStoreOptions = PoolOptions;

export class PostgresStore implements Store {
  readonly #pool: PgPool;
  readonly #directory: PgDirectory;
  readonly #queue: PgQueue;

  private constructor(pool: PgPool) {
    this.#pool = pool;
    this.#directory = new PgDirectory(pool);
    this.#queue = new PgQueue(pool);
  }

  /**
   * Connects to `url` (postgres://user:password@host:port/database) and migrates the schema; safe
   * when several relay processes open the same database at once. Rejects with
   * StoreUnavailableError when PostgreSQL cannot be reached.
   */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const pool = new PgPool(url, options);
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end();
      throw error;
    }
    return new PostgresStore(pool);
  }

  createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    return this.#directory.createAccount(account, device, oneTimePrekeys);
  }

  getAccount(handle: string): Promise<AccountRecord | undefined> {
    return this.#directory.getAccount(handle);
  }

  listDevices(handle: string): Promise<DeviceRecord[]> {
    return this.#directory.listDevices(handle);
  }

  getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    return this.#directory.getDevice(deviceId);
  }

  addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], deviceList: SignedDeviceListJson, maxDevices: number): Promise<AddDeviceOutcome> {
    return this.#directory.addDevice(device, oneTimePrekeys, deviceList, maxDevices);
  }

  publishDeviceList(handle: string, deviceList: SignedDeviceListJson): Promise<PublishDeviceListOutcome> {
    return this.#directory.publishDeviceList(handle, deviceList);
  }

  claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    return this.#directory.claimBundle(deviceId);
  }

  putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    return this.#directory.putPrekeys(deviceId, signedPrekey, oneTimePrekeys);
  }

  countOneTimePrekeys(deviceId: string): Promise<number> {
    return this.#directory.countOneTimePrekeys(deviceId);
  }

  async enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    return items.length === 0 ? [] : this.#queue.enqueue(items, limits);
  }

  /** At once: every enqueue resolved after a synchronous commit (top of this file). */
  async durable(): Promise<void> {}

  readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]> {
    return this.#queue.readQueue(deviceId, afterSeq, limit, now);
  }

  ackUpTo(deviceId: string, upTo: number): Promise<number> {
    return this.#queue.ackUpTo(deviceId, upTo);
  }

  ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    return this.#queue.ackIds(deviceId, ids);
  }

  sweepExpired(now: number): Promise<number> {
    return this.#queue.sweepExpired(now);
  }

  queueStats(deviceId: string): Promise<QueueStats> {
    return this.#queue.queueStats(deviceId);
  }

  relayStats(): Promise<RelayStats> {
    return this.#queue.relayStats();
  }

  /**
   * False when the server takes no writes (a standby, or default_transaction_read_only);
   * rejects with StoreUnavailableError saying why when PostgreSQL cannot be reached.
   */
  async isWritable(): Promise<boolean> {
    const [row] = await this.#pool.query<{ writable: boolean }>({
      text: "SELECT NOT pg_is_in_recovery() AND current_setting('transaction_read_only') = 'off' AS writable",
    });
    return row?.writable === true;
  }

  /** Ends the pool: waits for queries in flight, then closes every connection. */
  close(): Promise<void> {
    return this.#pool.end();
  }
}
