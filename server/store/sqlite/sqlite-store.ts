/**
 * The default Store: one SQLite file through better-sqlite3 (synchronous, so each method's
 * work is atomic with respect to the event loop). WAL journal committed with synchronous=NORMAL;
 * in the default FULL mode every write then awaits a WAL fdatasync off the event loop
 * (wal-sync.ts), so whatever a caller is told was written survives power loss.
 */
import Database from 'better-sqlite3';
import type {
  AccountRecord,
  AddDeviceOutcome,
  BundleRecord,
  DeviceRecord,
  EnqueueItem,
  EnqueueOutcome,
  OneTimePrekeyRecord,
  QueueLimits,
  QueuedEnvelope,
  QueueStats,
  RelayStats,
  SignedPrekeyRecord,
  Store,
} from '../store.js';
import { AckBatch, type PendingAck } from './ack-batch.js';
import { migrate } from './migrations.js';
import { SQL } from './sql.js';
import { WalSync, type SyncFile } from './wal-sync.js';

interface DeviceRow {
  device_id: string;
  handle: string;
  cert_created_at: number;
  cert_signature: string;
  spk_key_id: number;
  spk_public_key: string;
  spk_signature: string;
  next_seq: number;
}

interface Totals {
  count: number;
  bytes: number;
}

/** A device's queue as this connection knows it (see SqliteStore #queues). */
interface QueueState extends Totals {
  nextSeq: number;
  /**
   * devices.next_seq as committed: every number handed out is below it, so after a crash the
   * numbering resumes there and never reuses one ("ack up to N" must not delete a newer envelope).
   */
  reserved: number;
}

/** Sequence numbers reserved at a time: the device row is written once per this many envelopes. */
const SEQ_BLOCK = 1024;

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    deviceId: row.device_id,
    handle: row.handle,
    certificate: { createdAt: row.cert_created_at, signature: row.cert_signature },
    signedPrekey: { keyId: row.spk_key_id, publicKey: row.spk_public_key, signature: row.spk_signature },
  };
}

export interface SqliteStoreOptions {
  /** FULL (default): writes resolve once on disk. NORMAL: once committed (lost on power loss). */
  synchronous?: 'FULL' | 'NORMAL';
  /** How the WAL is flushed in FULL mode (default fdatasync); tests observe the ordering through it. */
  syncFile?: SyncFile;
}

export function openDatabase(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // Commits never fsync on the event loop; durability comes from WalSync (see wal-sync.ts).
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #s: { [K in keyof typeof SQL]: Database.Statement };
  #enqueueTransactions = 0;
  readonly #acks = new AckBatch(() => this.#applyAcksAlone());
  /**
   * Each device's queue state, loaded on first use and updated by every write to the queue, so
   * the hot path neither reads nor writes the device row. It holds only while this connection is
   * the queue's one writer; a failed write drops the lot (see #write).
   */
  readonly #queues = new Map<string, QueueState>();
  /** Every queued envelope, for relayStats: counted once at open, then kept up to date. */
  #total: Totals;
  /** Absent in NORMAL mode and for an in-memory database: commits are then final at once. */
  readonly #wal: WalSync | undefined;
  // The hot transactions are wrapped once (better-sqlite3 builds four closures per wrapping).
  readonly #enqueueTransaction: (items: readonly EnqueueItem[], limits: QueueLimits, acks: readonly PendingAck[], deleted: number[]) => EnqueueOutcome[];
  readonly #acksTransaction: (acks: readonly PendingAck[]) => number[];

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#db = openDatabase(path);
    const durable = (options.synchronous ?? 'FULL') === 'FULL' && path !== ':memory:' && path !== '';
    this.#wal = durable ? new WalSync(path, options.syncFile) : undefined;
    const prepared = {} as Record<string, Database.Statement>;
    for (const [name, sql] of Object.entries(SQL)) prepared[name] = this.#db.prepare(sql);
    this.#s = prepared as { [K in keyof typeof SQL]: Database.Statement };
    this.#total = this.#s.allQueueTotals.get() as Totals;
    this.#enqueueTransaction = this.#db.transaction((items: readonly EnqueueItem[], limits: QueueLimits, acks: readonly PendingAck[], deleted: number[]) => {
      for (const ack of acks) deleted.push(this.#applyAck(ack));
      return items.map((item) => this.#insert(item, limits));
    }).immediate;
    this.#acksTransaction = this.#db.transaction((acks: readonly PendingAck[]) => acks.map((ack) => this.#applyAck(ack)));
  }

  /** The device's queue state, loaded on first use; undefined for an unknown device. */
  #queue(deviceId: string): QueueState | undefined {
    let queue = this.#queues.get(deviceId);
    if (queue) return queue;
    const row = this.#s.reservedSeq.get(deviceId) as { next_seq: number } | undefined;
    if (!row) return undefined;
    queue = { ...(this.#s.queueTotals.get(deviceId) as Totals), nextSeq: row.next_seq, reserved: row.next_seq };
    this.#queues.set(deviceId, queue);
    return queue;
  }

  /** Inside a write: accounts for envelopes deleted from a device's queue. */
  #removed(deviceId: string, count: number, bytes: number): void {
    // A queue not loaded yet is counted from the table when first needed.
    const queue = this.#queues.get(deviceId);
    if (queue) {
      queue.count -= count;
      queue.bytes -= bytes;
    }
    this.#total.count -= count;
    this.#total.bytes -= bytes;
  }

  /**
   * Runs a transaction that updates the in-memory queue state. If it throws, SQLite rolled it
   * back but the memory may hold its changes: reload from what is committed. Numbers handed out
   * in it were never returned, so restarting from the committed reservation reuses none.
   */
  #write<T>(transaction: () => T): T {
    try {
      return transaction();
    } catch (error) {
      this.#queues.clear();
      this.#total = this.#s.allQueueTotals.get() as Totals;
      throw error;
    }
  }

  /** After a write transaction: resolves once it is durable (at once without a WAL sync). */
  async #onceDurable<T>(result: T): Promise<T> {
    if (this.#wal) await this.#wal.barrier();
    return result;
  }

  get enqueueTransactions(): number {
    return this.#enqueueTransactions;
  }

  #insertDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): void {
    const { certificate: c, signedPrekey: p } = device;
    this.#s.insertDevice.run(device.deviceId, device.handle, c.createdAt, c.signature, p.keyId, p.publicKey, p.signature);
    for (const k of oneTimePrekeys) this.#s.insertOneTimePrekey.run(device.deviceId, k.keyId, k.publicKey);
  }

  async createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    try {
      this.#db.transaction(() => {
        this.#s.insertAccount.run(account.handle, account.identityKey);
        this.#insertDevice(device, oneTimePrekeys);
      })();
    } catch (error) {
      if (error instanceof Database.SqliteError && error.code.startsWith('SQLITE_CONSTRAINT')) return false;
      throw error;
    }
    return this.#onceDurable(true);
  }

  async getAccount(handle: string): Promise<AccountRecord | undefined> {
    const row = this.#s.getAccount.get(handle) as { handle: string; identity_key: string } | undefined;
    return row && { handle: row.handle, identityKey: row.identity_key };
  }

  async listDevices(handle: string): Promise<DeviceRecord[]> {
    return (this.#s.listDevices.all(handle) as DeviceRow[]).map(toDevice);
  }

  async getDevice(deviceId: string): Promise<DeviceRecord | undefined> {
    const row = this.#s.getDevice.get(deviceId) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  async addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], maxDevices: number): Promise<AddDeviceOutcome> {
    const outcome = this.#db.transaction((): AddDeviceOutcome => {
      if (!this.#s.getAccount.get(device.handle)) return 'no_account';
      if (this.#s.getDevice.get(device.deviceId)) return 'conflict';
      const { n } = this.#s.countDevices.get(device.handle) as { n: number };
      if (n >= maxDevices) return 'quota_exceeded';
      this.#insertDevice(device, oneTimePrekeys);
      return 'added';
    }).immediate();
    return outcome === 'added' ? this.#onceDurable(outcome) : outcome;
  }

  async removeDevice(handle: string, deviceId: string): Promise<boolean> {
    const removed = this.#write(this.#db.transaction(() => {
      const queue = this.#s.queueTotals.get(deviceId) as Totals;
      // ON DELETE CASCADE removes the device's one-time prekeys and queued envelopes.
      if (this.#s.deleteDevice.run(deviceId, handle).changes === 0) return false;
      this.#removed(deviceId, queue.count, queue.bytes);
      this.#queues.delete(deviceId);
      return true;
    }));
    return this.#onceDurable(removed);
  }

  async claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    // A claimed one-time prekey must stay claimed: it is never handed out twice.
    return this.#onceDurable(this.#db.transaction((): BundleRecord | undefined => {
      const row = this.#s.getDevice.get(deviceId) as DeviceRow | undefined;
      if (!row) return undefined;
      const account = this.#s.getAccount.get(row.handle) as { handle: string; identity_key: string };
      const otp = this.#s.oldestOneTimePrekey.get(deviceId) as { inserted: number; key_id: number; public_key: string } | undefined;
      if (otp) this.#s.deleteOneTimePrekey.run(otp.inserted);
      const { n } = this.#s.countOneTimePrekeys.get(deviceId) as { n: number };
      return {
        account: { handle: account.handle, identityKey: account.identity_key },
        device: toDevice(row),
        oneTimePrekey: otp && { keyId: otp.key_id, publicKey: otp.public_key },
        remaining: n,
      };
    }).immediate());
  }

  async putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    return this.#onceDurable(this.#db.transaction(() => {
      if (signedPrekey) this.#s.rotateSignedPrekey.run(signedPrekey.keyId, signedPrekey.publicKey, signedPrekey.signature, deviceId);
      for (const k of oneTimePrekeys) this.#s.insertOneTimePrekey.run(deviceId, k.keyId, k.publicKey);
      return (this.#s.countOneTimePrekeys.get(deviceId) as { n: number }).n;
    })());
  }

  async countOneTimePrekeys(deviceId: string): Promise<number> {
    return (this.#s.countOneTimePrekeys.get(deviceId) as { n: number }).n;
  }

  async enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    if (items.length === 0) return [];
    // Pending acks ride in this transaction: their deletes share its pages and are answered as
    // soon as it commits (see ack-batch.ts: a delete need not survive power loss).
    const acks = this.#acks.take();
    const deleted: number[] = [];
    let outcomes: EnqueueOutcome[];
    try {
      outcomes = this.#write(() => this.#enqueueTransaction(items, limits, acks, deleted));
      this.#enqueueTransactions += 1;
    } catch (error) {
      this.#settleAcksAlone(acks);
      throw error;
    }
    acks.forEach((ack, i) => ack.resolve(deleted[i] ?? 0));
    return outcomes;
  }

  async durable(): Promise<void> {
    await this.#wal?.barrier();
  }

  /** Inside the enqueue transaction: one envelope. */
  #insert(item: EnqueueItem, limits: QueueLimits): EnqueueOutcome {
    const queue = this.#queue(item.to);
    if (!queue) return { status: 'unknown_device' };
    const size = item.body.byteLength;
    if (queue.count + 1 > limits.maxEnvelopes || queue.bytes + size > limits.maxBytes) {
      return this.#s.envelopeExists.get(item.to, item.id) ? { status: 'duplicate' } : { status: 'quota_exceeded' };
    }
    const seq = queue.nextSeq;
    const body = Buffer.from(item.body.buffer, item.body.byteOffset, size);
    if (this.#s.insertEnvelope.run(item.to, seq, item.id, body, size, item.expiresAt).changes === 0) return { status: 'duplicate' };
    if (seq >= queue.reserved) {
      queue.reserved = seq + SEQ_BLOCK;
      this.#s.reserveSeqs.run(queue.reserved, item.to);
    }
    queue.nextSeq = seq + 1;
    queue.count += 1;
    queue.bytes += size;
    this.#total.count += 1;
    this.#total.bytes += size;
    return { status: 'stored', seq };
  }

  async readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]> {
    const rows = this.#s.readQueue.all(deviceId, afterSeq, now, limit) as { seq: number; envelope_id: string; body: Buffer }[];
    return rows.map((r) => ({ seq: r.seq, id: r.envelope_id, body: r.body }));
  }

  /** Inside a write: deletes one ack's envelopes. */
  #applyAck(ack: PendingAck): number {
    const rows = ack.remove();
    this.#removed(ack.deviceId, rows.length, rows.reduce((n, r) => n + r.size, 0));
    return rows.length;
  }

  #applyAcksAlone(): void {
    this.#settleAcksAlone(this.#acks.take());
  }

  /** One transaction for `acks`, not waiting for a WAL sync; settles every ack's promise. */
  #settleAcksAlone(acks: readonly PendingAck[]): void {
    if (acks.length === 0 || !this.#db.open) return;
    let deleted: number[];
    try {
      deleted = this.#write(() => this.#acksTransaction(acks));
    } catch (error) {
      for (const ack of acks) ack.reject(error);
      return;
    }
    acks.forEach((ack, i) => ack.resolve(deleted[i] ?? 0));
  }

  async ackUpTo(deviceId: string, upTo: number): Promise<number> {
    return this.#acks.add(deviceId, () => this.#s.ackUpTo.all(deviceId, upTo) as { size: number }[]);
  }

  async ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    return this.#acks.add(deviceId, () => ids.flatMap((id) => this.#s.ackId.all(deviceId, id) as { size: number }[]));
  }

  async sweepExpired(now: number): Promise<number> {
    return this.#write(this.#db.transaction(() => {
      const rows = this.#s.sweepExpired.all(now) as { device_id: string; size: number }[];
      for (const r of rows) this.#removed(r.device_id, 1, r.size);
      return rows.length;
    }));
  }

  async queueStats(deviceId: string): Promise<QueueStats> {
    const queue = this.#queue(deviceId);
    return { envelopes: queue?.count ?? 0, bytes: queue?.bytes ?? 0 };
  }

  async relayStats(): Promise<RelayStats> {
    const { n } = this.#s.countAllDevices.get() as { n: number };
    return { devices: n, envelopes: this.#total.count, bytes: this.#total.bytes };
  }

  async isWritable(): Promise<boolean> {
    if (this.#wal?.failure) return false;
    // A probe must not freeze the event loop for busy_timeout while another process holds
    // the write lock: try once, without waiting.
    const busyTimeout = this.#db.pragma('busy_timeout', { simple: true }) as number;
    this.#db.pragma('busy_timeout = 0');
    try {
      this.#db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
    } finally {
      this.#db.pragma(`busy_timeout = ${busyTimeout}`);
    }
  }

  async close(): Promise<void> {
    this.#applyAcksAlone();
    await this.#wal?.close();
    if (this.#db.open) this.#db.close();
  }
}
