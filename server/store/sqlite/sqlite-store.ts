/**
 * The default Store: one SQLite file through better-sqlite3 (synchronous, so each method's
 * work is atomic with respect to the event loop), with the queue log in front of its queue table.
 *
 * Envelopes are written to the queue log (queue-log.ts: one write and one shared fdatasync per
 * batch) and held in memory (hot-queues.ts) until a checkpoint moves whatever is still queued
 * into SQLite — when the log reaches CHECKPOINT_BYTES, every CHECKPOINT_MS, and at close. An
 * envelope acknowledged before that never touches SQLite. Everything else is plain SQLite: WAL
 * committed with synchronous=NORMAL, and in the default FULL mode every write awaits an
 * fdatasync off the event loop (wal-sync.ts), so whatever a caller is told was written survives
 * power loss. Devices leave only with a new device list (addDevice, publishDeviceList), which
 * empties their queues wherever they are.
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
  PublishDeviceListOutcome,
  QueueLimits,
  QueuedEnvelope,
  QueueStats,
  RelayStats,
  SignedPrekeyRecord,
  Store,
} from '../store.js';
import { StoreUnavailableError } from '../store.js';
import { dirname } from 'node:path';
import type { SignedDeviceListJson } from '../../../protocol/http.js';
import { AckBatch } from './ack-batch.js';
import { ColdTotals } from './cold-totals.js';
import { DiskSpace, isDiskFull, type FreeBytes } from './disk-space.js';
import { canBeginWrite, openDatabase } from './database.js';
import { Directory, type Statements } from './directory.js';
import { HotQueues, type HotEnvelope } from './hot-queues.js';
import { encodeRemoved, encodeStored } from './log-records.js';
import { QueueLog } from './queue-log.js';
import { replayQueueLog } from './queue-replay.js';
import { SQL } from './sql.js';
import { fdatasyncFile, type SyncFile } from './sync-barrier.js';
import { WalSync } from './wal-sync.js';

/** The queue log is checkpointed into SQLite when it grows past this… */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;
/** …or this long after the last checkpoint, so a quiet relay holds little in memory and in the log. */
const CHECKPOINT_MS = 10_000;

/** better-sqlite3 binds a Buffer, not a plain Uint8Array: the same bytes, no copy. */
const asBuffer = (bytes: Uint8Array): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

export interface SqliteStoreOptions {
  /** FULL (default): writes resolve once on disk. NORMAL: once written (lost on power loss). */
  synchronous?: 'FULL' | 'NORMAL';
  /** How the WAL and the queue log are flushed in FULL mode (default fdatasync); tests observe the ordering through it. */
  syncFile?: SyncFile;
  /** Free disk space kept in reserve (`--min-free-disk-bytes`): below it, writes that add data are refused `unavailable`. */
  minFreeBytes?: number;
  /** How free space is measured (default statfs of the database's directory); tests fill a disk through it. */
  freeBytes?: FreeBytes;
}

export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #s: Statements;
  readonly #directory: Directory;
  readonly #acks = new AckBatch(() => this.#applyAcksAlone());
  /** The queue table's totals, per device and overall (see #write). */
  readonly #cold: ColdTotals;
  /** Envelopes written to the queue log since the last checkpoint. */
  readonly #hot = new HotQueues();
  /**
   * Each device's next sequence number. Never dropped on a failed write: numbers handed out since
   * the last checkpoint exist only here and in the queue log, and must not be handed out again.
   */
  readonly #nextSeq = new Map<string, number>();
  /** Devices given numbers since the last checkpoint: it raises their next_seq. */
  #touched = new Set<string>();
  readonly #log: QueueLog;
  readonly #space: DiskSpace;
  #checkpointing: Promise<void> | undefined;
  #checkpointSoon: NodeJS.Immediate | undefined;
  readonly #checkpointTimer: NodeJS.Timeout;
  /** A checkpoint that failed: the log files stay for the next start to replay. */
  #checkpointFailure: Error | undefined;
  /** Absent in NORMAL mode and for an in-memory database: commits are then final at once. */
  readonly #wal: WalSync | undefined;
  // The hot transactions are wrapped once (better-sqlite3 builds four closures per wrapping).
  readonly #checkpointTransaction: (moving: readonly [string, HotEnvelope[]][], touched: readonly string[]) => void;
  readonly #acksTransaction: (acks: ReturnType<AckBatch['take']>) => number[];

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#db = openDatabase(path);
    const inMemory = path === ':memory:' || path === '';
    const durable = (options.synchronous ?? 'FULL') === 'FULL' && !inMemory;
    this.#wal = durable ? new WalSync(path, options.syncFile) : undefined;
    const prepared = {} as Record<string, Database.Statement>;
    for (const [name, sql] of Object.entries(SQL)) prepared[name] = this.#db.prepare(sql);
    this.#s = prepared as Statements;
    this.#directory = new Directory(this.#db, this.#s, (result) => this.#onceDurable(result));
    const { nextGeneration } = inMemory ? { nextGeneration: 1 } : replayQueueLog(this.#db, path);
    this.#space = new DiskSpace(inMemory ? undefined : dirname(path), options.minFreeBytes ?? 0, options.freeBytes);
    this.#log = new QueueLog({ dbPath: inMemory ? undefined : path, generation: nextGeneration, syncFile: durable ? (options.syncFile ?? fdatasyncFile) : undefined, preallocate: CHECKPOINT_BYTES + 1024 * 1024, space: this.#space });
    this.#cold = new ColdTotals(this.#s, this.#nextSeq);
    this.#checkpointTransaction = this.#db.transaction((moving: readonly [string, HotEnvelope[]][], touched: readonly string[]) => {
      for (const [deviceId, envelopes] of moving) {
        const cold = this.#cold.of(deviceId);
        for (const e of envelopes) {
          this.#s.insertEnvelope.run(deviceId, e.seq, e.id, asBuffer(e.body), e.body.byteLength, e.expiresAt);
          if (cold) this.#cold.added(cold, e.body.byteLength);
        }
      }
      for (const deviceId of touched) {
        const next = this.#nextSeq.get(deviceId);
        if (next !== undefined) this.#s.raiseNextSeq.run(next, deviceId);
      }
    });
    this.#acksTransaction = this.#db.transaction((acks: ReturnType<AckBatch['take']>) => acks.map((ack) => {
      const rows = ack.remove();
      this.#cold.removed(ack.deviceId, rows.length, rows.reduce((n, r) => n + r.size, 0));
      return rows.length;
    }));
    this.#checkpointTimer = setInterval(() => {
      if (this.#touched.size > 0 || this.#log.size > 0) this.#startCheckpoint();
    }, CHECKPOINT_MS).unref();
  }

  /** Why writes are refused, if they are: a failed sync, log write or checkpoint. */
  get #failure(): Error | undefined {
    return this.#wal?.failure ?? this.#log.failure ?? this.#checkpointFailure;
  }

  /**
   * Runs a transaction that updates the in-memory queue totals. If it throws, SQLite rolled it
   * back but the memory may hold its changes: reload them from what is committed.
   */
  #write<T>(transaction: () => T): T {
    try {
      return transaction();
    } catch (error) {
      this.#cold.reload();
      throw error;
    }
  }

  /** Refuses a write that adds data while the disk is full or below the reserve. */
  #checkRoom(): void {
    const shortage = this.#space.shortage();
    if (shortage) throw new StoreUnavailableError(`${shortage}; try again later`);
  }

  /**
   * A write that found the disk full (SQLITE_FULL, ENOSPC) rolled back and changed nothing: it
   * is refused `unavailable`, and writes that add data wait for space (disk-space.ts).
   */
  #full(error: unknown): unknown {
    if (error instanceof StoreUnavailableError) {
      this.#space.markFull();
      return error;
    }
    if (!isDiskFull(error)) return error;
    this.#space.markFull();
    return new StoreUnavailableError('the disk is full; try again later', { cause: error });
  }

  /** Runs a store write, turning a full disk into `unavailable`; `adds`: refused early below the reserve. */
  async #guarded<T>(adds: boolean, write: () => Promise<T>): Promise<T> {
    if (adds) this.#checkRoom();
    try {
      return await write();
    } catch (error) {
      throw this.#full(error);
    }
  }

  /** After a write transaction: resolves once it is durable (at once without a WAL sync). */
  async #onceDurable<T>(result: T): Promise<T> {
    if (this.#wal) await this.#wal.barrier();
    return result;
  }

  createAccount(account: AccountRecord, device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<boolean> {
    return this.#guarded(true, () => this.#directory.createAccount(account, device, oneTimePrekeys));
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
    return this.#guarded(true, () => this.#addDevice(device, oneTimePrekeys, deviceList, maxDevices));
  }

  async #addDevice(device: DeviceRecord, oneTimePrekeys: readonly OneTimePrekeyRecord[], deviceList: SignedDeviceListJson, maxDevices: number): Promise<AddDeviceOutcome> {
    const outcome = this.#write(() => this.#directory.addDevice(device, oneTimePrekeys, deviceList, maxDevices, this.#dropQueue));
    if (outcome.status !== 'added') return outcome;
    this.#forgetDevices(outcome.removed);
    return this.#onceDurable(outcome);
  }

  publishDeviceList(handle: string, deviceList: SignedDeviceListJson): Promise<PublishDeviceListOutcome> {
    return this.#guarded(false, () => this.#publishDeviceList(handle, deviceList));
  }

  async #publishDeviceList(handle: string, deviceList: SignedDeviceListJson): Promise<PublishDeviceListOutcome> {
    const outcome = this.#write(() => this.#directory.publishDeviceList(handle, deviceList, this.#dropQueue));
    if (outcome.status !== 'published') return outcome;
    this.#forgetDevices(outcome.removed);
    return this.#onceDurable(outcome);
  }

  /** Inside the transaction that deletes a device: its queue rows leave the totals. */
  readonly #dropQueue = (deviceId: string): void => this.#cold.dropDevice(deviceId);

  /**
   * After the commit that deleted these devices: their envelopes still in the queue log leave
   * memory (a checkpoint must not move them into SQLite) and are logged as removed. A replay
   * that misses those records brings nothing back either: it skips devices that do not exist.
   */
  #forgetDevices(deviceIds: readonly string[]): void {
    for (const deviceId of deviceIds) {
      this.#logRemoved(deviceId, this.#hot.removeDevice(deviceId));
      this.#nextSeq.delete(deviceId);
    }
  }

  claimBundle(deviceId: string): Promise<BundleRecord | undefined> {
    return this.#guarded(false, () => this.#directory.claimBundle(deviceId));
  }

  putPrekeys(deviceId: string, signedPrekey: SignedPrekeyRecord | undefined, oneTimePrekeys: readonly OneTimePrekeyRecord[]): Promise<number> {
    return this.#guarded(true, () => this.#directory.putPrekeys(deviceId, signedPrekey, oneTimePrekeys));
  }

  countOneTimePrekeys(deviceId: string): Promise<number> {
    return this.#directory.countOneTimePrekeys(deviceId);
  }

  async enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    if (items.length === 0) return [];
    const failure = this.#failure;
    if (failure) throw failure;
    this.#checkRoom();
    const records: Buffer[] = [];
    const added: [string, HotEnvelope][] = [];
    const outcomes = items.map((item): EnqueueOutcome => {
      const cold = this.#cold.of(item.to);
      if (!cold) return { status: 'unknown_device' };
      if (this.#hot.has(item.to, item.id) || (cold.count > 0 && this.#s.envelopeExists.get(item.to, item.id))) return { status: 'duplicate' };
      const hot = this.#hot.totalsOf(item.to);
      const size = item.body.byteLength;
      if (cold.count + hot.count + 1 > limits.maxEnvelopes || cold.bytes + hot.bytes + size > limits.maxBytes) return { status: 'quota_exceeded' };
      // The relay-wide total: the in-memory totals relayStats reads (hot ones include this batch's).
      if (limits.maxTotalBytes !== undefined && this.#cold.all.bytes + this.#hot.bytes + size > limits.maxTotalBytes) return { status: 'quota_exceeded' };
      const seq = this.#nextSeq.get(item.to) ?? 1;
      this.#nextSeq.set(item.to, seq + 1);
      const { record, body } = encodeStored(item.to, seq, item.expiresAt, item.id, item.body);
      records.push(record);
      const envelope: HotEnvelope = { seq, id: item.id, body, expiresAt: item.expiresAt };
      this.#hot.add(item.to, envelope);
      added.push([item.to, envelope]);
      this.#touched.add(item.to);
      return { status: 'stored', seq };
    });
    try {
      this.#log.append(records);
    } catch (error) {
      // Never written: no reader may see them. Their numbers stay used (skipped, never reused).
      for (const [deviceId, envelope] of added) this.#hot.removeIds(deviceId, [envelope.id]);
      throw this.#full(error);
    }
    if (this.#log.size >= CHECKPOINT_BYTES) this.#startCheckpoint();
    return outcomes;
  }

  async durable(): Promise<void> {
    if (this.#wal?.failure) throw this.#wal.failure;
    await this.#log.durable();
  }

  async readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]> {
    const cold = this.#cold.of(deviceId);
    const rows = cold && cold.count > 0 ? (this.#s.readQueue.all(deviceId, afterSeq, now, limit) as { seq: number; envelope_id: string; body: Buffer }[]) : [];
    const page: QueuedEnvelope[] = rows.map((r) => ({ seq: r.seq, id: r.envelope_id, body: r.body }));
    // Every hot number is above every cold one of the same device (hot-queues.ts).
    const after = Math.max(afterSeq, page.at(-1)?.seq ?? 0);
    for (const e of this.#hot.read(deviceId, after, limit - page.length, now)) page.push({ seq: e.seq, id: e.id, body: e.body });
    return page;
  }

  /** Hot envelopes that left the queue: logged, not synced (a lost removal only redelivers). */
  #logRemoved(deviceId: string, envelopes: readonly HotEnvelope[]): void {
    if (envelopes.length > 0) this.#log.later(encodeRemoved(deviceId, envelopes.map((e) => e.seq)));
  }

  /** Deletes from the queue table only when the device has envelopes there. */
  #ackCold(deviceId: string, remove: () => { size: number }[]): Promise<number> {
    return (this.#cold.of(deviceId)?.count ?? 0) > 0 ? this.#acks.add(deviceId, remove) : Promise.resolve(0);
  }

  ackUpTo(deviceId: string, upTo: number): Promise<number> {
    return this.#guarded(false, () => this.#ackUpTo(deviceId, upTo));
  }

  ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    return this.#guarded(false, () => this.#ackIds(deviceId, ids));
  }

  async #ackUpTo(deviceId: string, upTo: number): Promise<number> {
    const hot = this.#hot.removeUpTo(deviceId, upTo);
    this.#logRemoved(deviceId, hot);
    return hot.length + (await this.#ackCold(deviceId, () => this.#s.ackUpTo.all(deviceId, upTo) as { size: number }[]));
  }

  async #ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    const hot = this.#hot.removeIds(deviceId, ids);
    this.#logRemoved(deviceId, hot);
    return hot.length + (await this.#ackCold(deviceId, () => ids.flatMap((id) => this.#s.ackId.all(deviceId, id) as { size: number }[])));
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
    const cold = this.#write(this.#db.transaction(() => {
      const rows = this.#s.sweepExpired.all(now) as { device_id: string; size: number }[];
      for (const r of rows) this.#cold.removed(r.device_id, 1, r.size);
      return rows.length;
    }));
    let hot = 0;
    for (const [deviceId, envelopes] of this.#hot.removeExpired(now)) {
      this.#logRemoved(deviceId, envelopes);
      hot += envelopes.length;
    }
    return cold + hot;
  }

  async queueStats(deviceId: string): Promise<QueueStats> {
    const cold = this.#cold.of(deviceId);
    const hot = this.#hot.totalsOf(deviceId);
    return { envelopes: (cold?.count ?? 0) + hot.count, bytes: (cold?.bytes ?? 0) + hot.bytes };
  }

  async relayStats(): Promise<RelayStats> {
    const { n } = this.#s.countAllDevices.get() as { n: number };
    const hot = this.#hot.totals;
    const cold = this.#cold.all;
    return { devices: n, envelopes: cold.count + hot.count, bytes: cold.bytes + hot.bytes };
  }

  /** Starts a checkpoint on the next check phase (never inside a caller's enqueue) unless one runs. */
  #startCheckpoint(): void {
    if (this.#checkpointing || this.#checkpointSoon) return;
    this.#checkpointSoon = setImmediate(() => {
      this.#checkpointSoon = undefined;
      this.#checkpoint().catch(() => undefined);
    });
  }

  /**
   * Moves every hot envelope into SQLite in one transaction, with the next_seq of every device
   * given numbers since the last checkpoint; once that is durable, deletes the log file that
   * held them. Synchronous up to the commit, so no enqueue, ack or read sees a half-moved queue.
   */
  #checkpoint(): Promise<void> {
    if (this.#checkpointing || this.#failure || !this.#db.open) return this.#checkpointing ?? Promise.resolve();
    // No next file ready yet: the current one keeps growing until it is.
    if (!this.#log.canRotate()) {
      void this.#log.rotatable().then(() => this.#log.canRotate() && this.#startCheckpoint());
      return Promise.resolve();
    }
    const moving = this.#hot.entries();
    const touched = [...this.#touched];
    // Nothing was numbered since the last checkpoint: the retired file holds nothing SQLite needs.
    if (touched.length === 0) return this.#log.retire(this.#log.rotate());
    // The transaction first, then the rotation, in the same tick: a transaction refused for a
    // full disk leaves everything as it was (hot envelopes in memory and in the current file),
    // and the next checkpoint tries again.
    try {
      this.#write(() => this.#checkpointTransaction(moving, touched));
    } catch (error) {
      if (isDiskFull(error)) {
        this.#space.markFull();
        return Promise.resolve();
      }
      this.#checkpointFailure ??= new Error(`queue checkpoint failed; writes are refused until the relay restarts, which replays the queue log: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      return Promise.reject(this.#checkpointFailure);
    }
    const retired = this.#log.rotate();
    this.#hot.clear();
    this.#touched = new Set();
    const run = (async () => {
      await this.#wal?.barrier();
      await this.#log.retire(retired);
    })().finally(() => (this.#checkpointing = undefined));
    this.#checkpointing = run;
    return run;
  }

  async isWritable(): Promise<boolean> {
    if (this.#failure !== undefined) return false;
    this.#checkRoom();
    return canBeginWrite(this.#db);
  }

  /** Applies pending acks, checkpoints everything into SQLite (the log files go), then closes. */
  async close(): Promise<void> {
    clearInterval(this.#checkpointTimer);
    if (this.#checkpointSoon) clearImmediate(this.#checkpointSoon);
    this.#checkpointSoon = undefined;
    this.#applyAcksAlone();
    await this.#checkpointing?.catch(() => undefined);
    await this.#log.rotatable();
    await this.#checkpoint().catch(() => undefined);
    await this.#log.close(this.#failure === undefined);
    await this.#wal?.close();
    if (this.#db.open) this.#db.close();
  }
}
