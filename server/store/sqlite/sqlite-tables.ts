/**
 * A Store that keeps everything in SQLite tables, through better-sqlite3 (synchronous, so each
 * method's work is atomic with respect to the event loop): accounts, devices and prekeys
 * (directory.ts) and the envelope queue. An enqueue inserts its envelopes into the queue table in
 * one transaction; reads come from the table; acknowledgements are deleted in batches per tick
 * (ack-batch.ts). Devices leave only with a new device list (addDevice, publishDeviceList), which
 * deletes their queues with them.
 *
 * Durability: WAL committed with synchronous=NORMAL, and in the default FULL mode every write
 * awaits an fdatasync of the WAL off the event loop (wal-sync.ts) — an enqueue through
 * `durable()` — so whatever a caller is told was written survives power loss.
 *
 * This is the whole store with `queueLog: false`. By default the queue log layer (logged-store.ts)
 * takes over the queues in front of it and uses the synchronous methods at the end of this class:
 * it checkpoints into the queue table (`insertQueued`) and reads, acks and counts what is there.
 */
import type Database from 'better-sqlite3';
import { dirname } from 'node:path';
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
import { AckBatch } from './ack-batch.js';
import { ColdTotals, type Totals } from './cold-totals.js';
import { canBeginWrite, isInMemory, openDatabase } from './database.js';
import { Directory, type Statements } from './directory.js';
import { DiskSpace, type FreeBytes } from './disk-space.js';
import { SQL } from './sql.js';
import { fdatasyncFile, type SyncFile } from './sync-barrier.js';
import { WalSync } from './wal-sync.js';

/**
 * A device's row reserves this many sequence numbers at a time (its next_seq is raised this far
 * ahead), so an enqueue writes the row once per block instead of with every envelope.
 */
const SEQ_BLOCK = 1024;

/** better-sqlite3 binds a Buffer, not a plain Uint8Array: the same bytes, no copy. */
const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

export interface StorageOptions {
  /** FULL (default): writes resolve once on disk. NORMAL: once written (lost on power loss). */
  synchronous?: 'FULL' | 'NORMAL';
  /** How the WAL and the queue log are flushed in FULL mode (default fdatasync); tests observe the ordering through it. */
  syncFile?: SyncFile;
  /** Free disk space kept in reserve (`--min-free-disk-bytes`): below it, writes that add data are refused `unavailable`. */
  minFreeBytes?: number;
  /** How free space is measured (default statfs of the database's directory); tests fill a disk through it. */
  freeBytes?: FreeBytes;
}

/** An envelope numbered elsewhere (by the queue log) and moved into the queue table. */
export interface NumberedEnvelope {
  seq: number;
  id: string;
  body: Uint8Array;
  expiresAt: number;
}

interface DeviceSeq {
  next: number;
  /** The device row's next_seq: numbers below it may have been handed out. */
  reserved: number;
}

export class SqliteTables implements Store {
  /** The database file; undefined for an in-memory database. */
  readonly file: string | undefined;
  /** How files are made durable; undefined in NORMAL mode and in memory, where commits are final at once. */
  readonly syncFile: SyncFile | undefined;
  readonly space: DiskSpace;
  readonly #db: Database.Database;
  readonly #s: Statements;
  readonly #directory: Directory;
  readonly #wal: WalSync | undefined;
  /** The queue table's totals, per device and overall (see #write). */
  readonly #cold: ColdTotals;
  /** Numbers handed out by this store's own enqueue (unused behind the queue log, which numbers its own). */
  readonly #seqs = new Map<string, DeviceSeq>();
  readonly #acks = new AckBatch(() => this.#applyAcksAlone());
  readonly #removedListeners: ((deviceIds: readonly string[]) => void)[] = [];
  // The hot transactions are wrapped once (better-sqlite3 builds four closures per wrapping).
  readonly #enqueueTransaction: (items: readonly EnqueueItem[], limits: QueueLimits) => EnqueueOutcome[];
  readonly #acksTransaction: (acks: ReturnType<AckBatch['take']>) => number[];
  readonly #insertQueuedTransaction: (queues: Iterable<readonly [string, Iterable<NumberedEnvelope>]>, nextSeqs: Iterable<readonly [string, number]>) => void;

  constructor(path: string, options: StorageOptions = {}) {
    this.#db = openDatabase(path);
    this.file = isInMemory(path) ? undefined : path;
    this.syncFile = (options.synchronous ?? 'FULL') === 'FULL' && this.file !== undefined ? (options.syncFile ?? fdatasyncFile) : undefined;
    this.#wal = this.file !== undefined && this.syncFile !== undefined ? new WalSync(this.file, this.syncFile) : undefined;
    const prepared = {} as Record<string, Database.Statement>;
    for (const [name, sql] of Object.entries(SQL)) prepared[name] = this.#db.prepare(sql);
    this.#s = prepared as Statements;
    this.#directory = new Directory(this.#db, this.#s, (result) => this.#onceDurable(result));
    this.space = new DiskSpace(this.file === undefined ? undefined : dirname(this.file), options.minFreeBytes ?? 0, options.freeBytes);
    this.#cold = new ColdTotals(this.#s);
    this.#enqueueTransaction = this.#db.transaction((items: readonly EnqueueItem[], limits: QueueLimits) => items.map((item) => this.#insert(item, limits)));
    this.#acksTransaction = this.#db.transaction((acks: ReturnType<AckBatch['take']>) => acks.map((ack) => {
      const rows = ack.remove();
      this.#cold.removed(ack.deviceId, rows.length, rows.reduce((n, r) => n + r.size, 0));
      return rows.length;
    }));
    this.#insertQueuedTransaction = this.#db.transaction((queues: Iterable<readonly [string, Iterable<NumberedEnvelope>]>, nextSeqs: Iterable<readonly [string, number]>) => {
      for (const [deviceId, envelopes] of queues) {
        // A device removed since: its envelopes went with it, and none may come back.
        const cold = this.#cold.of(deviceId);
        if (!cold) continue;
        for (const e of envelopes) {
          const { changes } = this.#s.insertFromLog.run(deviceId, e.seq, e.id, asBuffer(e.body), e.body.byteLength, e.expiresAt);
          if (changes > 0) this.#cold.added(cold, e.body.byteLength);
        }
      }
      for (const [deviceId, next] of nextSeqs) this.#s.raiseNextSeq.run(next, deviceId);
    });
  }

  /** A failed WAL sync: every later write is refused. */
  get syncFailure(): Error | undefined {
    return this.#wal?.failure;
  }

  get isOpen(): boolean {
    return this.#db.open;
  }

  /**
   * Runs a transaction that updates the in-memory queue state. If it throws, SQLite rolled it back
   * but the memory may hold its changes: reload them from what is committed.
   */
  #write<T>(transaction: () => T): T {
    try {
      return transaction();
    } catch (error) {
      this.#cold.reload();
      this.#seqs.clear();
      throw error;
    }
  }

  /** After a write transaction: resolves once it is durable (at once without a WAL sync). */
  async #onceDurable<T>(result: T): Promise<T> {
    if (this.#wal) await this.#wal.barrier();
    return result;
  }

  createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    return this.space.guard(true, () => this.#directory.createAccount(account, device, oneTimePrekeys));
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
    return this.space.guard(true, async () => {
      const outcome = this.#write(() => this.#directory.addDevice(device, oneTimePrekeys, deviceList, maxDevices, this.#dropQueue));
      return outcome.status === 'added' ? this.#onceDurable(this.#removed(outcome)) : outcome;
    });
  }

  publishDeviceList(handle: string, deviceList: SignedDeviceListJson): Promise<PublishDeviceListOutcome> {
    return this.space.guard(false, async () => {
      const outcome = this.#write(() => this.#directory.publishDeviceList(handle, deviceList, this.#dropQueue));
      return outcome.status === 'published' ? this.#onceDurable(this.#removed(outcome)) : outcome;
    });
  }

  /** Inside the transaction that deletes a device: its queue rows leave the totals. */
  readonly #dropQueue = (deviceId: string): void => {
    this.#cold.dropDevice(deviceId);
    this.#seqs.delete(deviceId);
  };

  /** Right after the commit that deleted devices, before it is durable: the listeners forget them at once. */
  #removed<T extends { removed: string[] }>(outcome: T): T {
    if (outcome.removed.length > 0) for (const listener of this.#removedListeners) listener(outcome.removed);
    return outcome;
  }

  claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    return this.space.guard(false, () => this.#directory.claimBundle(deviceId));
  }

  putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    return this.space.guard(true, () => this.#directory.putPrekeys(deviceId, signedPrekey, oneTimePrekeys));
  }

  countOneTimePrekeys(deviceId: string): Promise<number> {
    return this.#directory.countOneTimePrekeys(deviceId);
  }

  async enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    if (items.length === 0) return [];
    const failure = this.#wal?.failure;
    if (failure) throw failure;
    return this.space.guard(true, async () => this.#write(() => this.#enqueueTransaction(items, limits)));
  }

  /** Inside the enqueue transaction: one item checked against the queue's totals and inserted. */
  #insert(item: EnqueueItem, limits: QueueLimits): EnqueueOutcome {
    const cold = this.#cold.of(item.to);
    if (!cold) return { status: 'unknown_device' };
    if (this.holds(item.to, item.id)) return { status: 'duplicate' };
    const size = item.body.byteLength;
    if (cold.count + 1 > limits.maxEnvelopes || cold.bytes + size > limits.maxBytes) return { status: 'quota_exceeded' };
    if (limits.maxTotalBytes !== undefined && this.#cold.all.bytes + size > limits.maxTotalBytes) return { status: 'quota_exceeded' };
    const seq = this.#takeSeq(item.to);
    this.#s.insertEnvelope.run(item.to, seq, item.id, asBuffer(item.body), size, item.expiresAt);
    this.#cold.added(cold, size);
    return { status: 'stored', seq };
  }

  /** Inside the enqueue transaction: the device's next number, its row raised a block ahead when the reserved ones run out. */
  #takeSeq(deviceId: string): number {
    let seqs = this.#seqs.get(deviceId);
    if (seqs === undefined) {
      const stored = this.storedNextSeq(deviceId);
      seqs = { next: stored, reserved: stored };
      this.#seqs.set(deviceId, seqs);
    }
    const seq = seqs.next;
    if (seq >= seqs.reserved) {
      seqs.reserved = seq + SEQ_BLOCK;
      this.#s.raiseNextSeq.run(seqs.reserved, deviceId);
    }
    seqs.next = seq + 1;
    return seq;
  }

  durable(): Promise<void> {
    return this.#onceDurable(undefined);
  }

  async readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]> {
    if ((this.#cold.of(deviceId)?.count ?? 0) === 0) return [];
    const rows = this.#s.readQueue.all(deviceId, afterSeq, now, limit) as { seq: number; envelope_id: string; body: Buffer }[];
    return rows.map((r) => ({ seq: r.seq, id: r.envelope_id, body: r.body }));
  }

  ackUpTo(deviceId: string, upTo: number): Promise<number> {
    return this.space.guard(false, () => this.#ack(deviceId, () => this.#s.ackUpTo.all(deviceId, upTo) as { size: number }[]));
  }

  ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    return this.space.guard(false, () => this.#ack(deviceId, () => ids.flatMap((id) => this.#s.ackId.all(deviceId, id) as { size: number }[])));
  }

  /** Joins the tick's ack batch, unless the device has nothing in the table to delete. */
  #ack(deviceId: string, remove: () => { size: number }[]): Promise<number> {
    return (this.#cold.of(deviceId)?.count ?? 0) > 0 ? this.#acks.add(deviceId, remove) : Promise.resolve(0);
  }

  #applyAcksAlone(): void {
    const acks = this.#acks.take();
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

  async sweepExpired(now: number): Promise<number> {
    return this.#write(this.#db.transaction(() => {
      const rows = this.#s.sweepExpired.all(now) as { device_id: string; size: number }[];
      for (const r of rows) this.#cold.removed(r.device_id, 1, r.size);
      return rows.length;
    }));
  }

  async queueStats(deviceId: string): Promise<QueueStats> {
    const cold = this.#cold.of(deviceId);
    return { envelopes: cold?.count ?? 0, bytes: cold?.bytes ?? 0 };
  }

  async relayStats(): Promise<RelayStats> {
    const { n } = this.#s.countAllDevices.get() as { n: number };
    return { devices: n, envelopes: this.#cold.all.count, bytes: this.#cold.all.bytes };
  }

  async isWritable(): Promise<boolean> {
    if (this.#wal?.failure !== undefined) return false;
    this.space.checkRoom();
    return canBeginWrite(this.#db);
  }

  /** Applies pending acks, waits for syncs under way, then closes. */
  async close(): Promise<void> {
    this.#applyAcksAlone();
    await this.#wal?.close();
    if (this.#db.open) this.#db.close();
  }

  // For a layer in front of the queue table (logged-store.ts, queue-replay.ts); all synchronous.

  /** Called right after a commit that deleted these devices (with their queues), before it is durable. */
  onDevicesRemoved(listener: (deviceIds: readonly string[]) => void): void {
    this.#removedListeners.push(listener);
  }

  /** A device's envelopes in the queue table; undefined for an unknown device. */
  totalsOf(deviceId: string): Totals | undefined {
    return this.#cold.of(deviceId);
  }

  /** Every envelope in the queue table. */
  get totals(): Totals {
    return this.#cold.all;
  }

  /** Whether the device's queue in the table holds this envelope id. */
  holds(deviceId: string, envelopeId: string): boolean {
    return (this.#cold.of(deviceId)?.count ?? 0) > 0 && this.#s.envelopeExists.get(deviceId, envelopeId) !== undefined;
  }

  /** A registered device's next_seq: every number handed out for it before is below it. */
  storedNextSeq(deviceId: string): number {
    return (this.#s.reservedSeq.get(deviceId) as { next_seq: number }).next_seq;
  }

  /**
   * In one transaction: inserts envelopes numbered elsewhere (one already there is kept) and raises
   * each device's next_seq to at least the number given. Devices that no longer exist are skipped.
   * Throws, changing nothing, if the transaction failed.
   */
  insertQueued(queues: Iterable<readonly [string, Iterable<NumberedEnvelope>]>, nextSeqs: Iterable<readonly [string, number]>): void {
    this.#write(() => this.#insertQueuedTransaction(queues, nextSeqs));
  }
}
