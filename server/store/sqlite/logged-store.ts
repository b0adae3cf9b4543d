/**
 * The queue log layer: a Store in front of SqliteTables that takes over the envelope queues and
 * hands everything else (accounts, devices, prekeys, device lists) to the tables.
 *
 * Envelopes are written to the queue log (queue-log.ts: one write and one shared fdatasync per
 * batch) and held in memory (hot-queues.ts) until a checkpoint moves whatever is still queued
 * into the tables' queue table — when the log reaches CHECKPOINT_BYTES, every CHECKPOINT_MS, and
 * at close. An envelope acknowledged before that never touches SQLite. Every number handed out
 * here is above every one of the same device in the table, because a checkpoint moves all of
 * them at once, so a device's queue reads as the table's part followed by the hot part. A crash
 * leaves the log files, which the next open replays into the table (queue-replay.ts, run by
 * sqlite-store.ts before this layer starts). When that replay found the disk full, this layer
 * adopts what the files held: their envelopes become hot, their numbers taken, and the files
 * stay until the first checkpoint has moved it all into SQLite.
 */
import type { EnqueueItem, EnqueueOutcome, QueueLimits, QueuedEnvelope, QueueStats, RelayStats } from '../store.js';
import { isDiskFull } from './disk-space.js';
import { ForwardingStore } from './forwarding-store.js';
import { HotQueues, type HotEnvelope } from './hot-queues.js';
import { encodeRemoved, encodeStored } from './log-records.js';
import { QueueLog } from './queue-log.js';
import { deleteLogFiles, type LeftoverLog } from './queue-replay.js';
import type { LogFileName } from './log-files.js';
import type { SqliteTables } from './sqlite-tables.js';

/** The queue log is checkpointed into SQLite when it grows past this… */
const CHECKPOINT_BYTES = 8 * 1024 * 1024;
/** …or this long after the last checkpoint, so a quiet relay holds little in memory and in the log. */
const CHECKPOINT_MS = 10_000;

export class LoggedStore extends ForwardingStore<SqliteTables> {
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
  #checkpointing: Promise<void> | undefined;
  #checkpointSoon: NodeJS.Immediate | undefined;
  readonly #checkpointTimer: NodeJS.Timeout;
  /** A checkpoint that failed: the log files stay for the next start to replay. */
  #checkpointFailure: Error | undefined;
  /** Log files of an earlier run that could not be replayed (a full disk): deleted after the first checkpoint. */
  #adoptedFiles: readonly LogFileName[] = [];

  /** `generation`: the first log file's, above every file already replayed or adopted. */
  constructor(tables: SqliteTables, generation: number, adopted?: LeftoverLog) {
    super(tables);
    if (adopted) this.#adopt(adopted);
    this.#log = new QueueLog({ dbPath: tables.file, generation, syncFile: tables.syncFile, preallocate: CHECKPOINT_BYTES + 1024 * 1024, space: tables.space });
    tables.onDevicesRemoved((deviceIds) => this.#forgetDevices(deviceIds));
    this.#checkpointTimer = setInterval(() => {
      if (this.#touched.size > 0 || this.#log.size > 0) this.#startCheckpoint();
    }, CHECKPOINT_MS).unref();
  }

  /** Takes over what an earlier run's log files hold (see the top of this file). */
  #adopt(leftover: LeftoverLog): void {
    for (const [deviceId, next] of leftover.nextSeqs) {
      // A device removed since: its envelopes went with it (the checkpoint would skip them too).
      if (this.inner.totalsOf(deviceId) === undefined) continue;
      for (const r of leftover.queued.get(deviceId) ?? []) {
        // Already in the table (a checkpoint committed before the crash but left its file): once is enough.
        if (!this.inner.holds(deviceId, r.id)) this.#hot.add(deviceId, { seq: r.seq, id: r.id, body: r.body, expiresAt: r.expiresAt });
      }
      this.#nextSeq.set(deviceId, Math.max(next, this.inner.storedNextSeq(deviceId)));
      this.#touched.add(deviceId);
    }
    this.#adoptedFiles = leftover.files;
  }

  /** Why writes are refused, if they are: a failed sync, log write or checkpoint. */
  get #failure(): Error | undefined {
    return this.inner.syncFailure ?? this.#log.failure ?? this.#checkpointFailure;
  }

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

  override async enqueue(items: readonly EnqueueItem[], limits: QueueLimits): Promise<EnqueueOutcome[]> {
    if (items.length === 0) return [];
    const failure = this.#failure;
    if (failure) throw failure;
    const space = this.inner.space;
    space.checkRoom();
    const records: Buffer[] = [];
    const added: [string, HotEnvelope][] = [];
    const outcomes = items.map((item): EnqueueOutcome => {
      const cold = this.inner.totalsOf(item.to);
      if (!cold) return { status: 'unknown_device' };
      if (this.#hot.has(item.to, item.id) || this.inner.holds(item.to, item.id)) return { status: 'duplicate' };
      const hot = this.#hot.totalsOf(item.to);
      const size = item.body.byteLength;
      if (cold.count + hot.count + 1 > limits.maxEnvelopes || cold.bytes + hot.bytes + size > limits.maxBytes) return { status: 'quota_exceeded' };
      // The relay-wide total: the in-memory totals relayStats reads (hot ones include this batch's).
      if (limits.maxTotalBytes !== undefined && this.inner.totals.bytes + this.#hot.bytes + size > limits.maxTotalBytes) return { status: 'quota_exceeded' };
      const seq = this.#nextSeq.get(item.to) ?? this.inner.storedNextSeq(item.to);
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
      throw space.refusal(error);
    }
    if (this.#log.size >= CHECKPOINT_BYTES) this.#startCheckpoint();
    return outcomes;
  }

  override async durable(): Promise<void> {
    const failure = this.inner.syncFailure;
    if (failure) throw failure;
    await this.#log.durable();
  }

  override async readQueue(deviceId: string, afterSeq: number, limit: number, now: number): Promise<QueuedEnvelope[]> {
    const page = await this.inner.readQueue(deviceId, afterSeq, limit, now);
    const after = Math.max(afterSeq, page.at(-1)?.seq ?? 0);
    for (const e of this.#hot.read(deviceId, after, limit - page.length, now)) page.push({ seq: e.seq, id: e.id, body: e.body });
    return page;
  }

  /** Hot envelopes that left the queue: logged, not synced (a lost removal only redelivers). */
  #logRemoved(deviceId: string, envelopes: readonly HotEnvelope[]): void {
    if (envelopes.length > 0) this.#log.later(encodeRemoved(deviceId, envelopes.map((e) => e.seq)));
  }

  override async ackUpTo(deviceId: string, upTo: number): Promise<number> {
    const hot = this.#hot.removeUpTo(deviceId, upTo);
    this.#logRemoved(deviceId, hot);
    return hot.length + (await this.inner.ackUpTo(deviceId, upTo));
  }

  override async ackIds(deviceId: string, ids: readonly string[]): Promise<number> {
    const hot = this.#hot.removeIds(deviceId, ids);
    this.#logRemoved(deviceId, hot);
    return hot.length + (await this.inner.ackIds(deviceId, ids));
  }

  override async sweepExpired(now: number): Promise<number> {
    let swept = await this.inner.sweepExpired(now);
    for (const [deviceId, envelopes] of this.#hot.removeExpired(now)) {
      this.#logRemoved(deviceId, envelopes);
      swept += envelopes.length;
    }
    return swept;
  }

  override async queueStats(deviceId: string): Promise<QueueStats> {
    const cold = await this.inner.queueStats(deviceId);
    const hot = this.#hot.totalsOf(deviceId);
    return { envelopes: cold.envelopes + hot.count, bytes: cold.bytes + hot.bytes };
  }

  override async relayStats(): Promise<RelayStats> {
    const cold = await this.inner.relayStats();
    const hot = this.#hot.totals;
    return { devices: cold.devices, envelopes: cold.envelopes + hot.count, bytes: cold.bytes + hot.bytes };
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
    if (this.#checkpointing || this.#failure || !this.inner.isOpen) return this.#checkpointing ?? Promise.resolve();
    // No next file ready yet: the current one keeps growing until it is.
    if (!this.#log.canRotate()) {
      void this.#log.rotatable().then(() => this.#log.canRotate() && this.#startCheckpoint());
      return Promise.resolve();
    }
    const touched = [...this.#touched];
    // Nothing was numbered since the last checkpoint: the retired file holds nothing SQLite needs.
    if (touched.length === 0) return this.#log.retire(this.#log.rotate());
    // The transaction first, then the rotation, in the same tick: a transaction refused for a
    // full disk leaves everything as it was (hot envelopes in memory and in the current file),
    // and the next checkpoint tries again.
    try {
      const nextSeqs = touched.flatMap((deviceId) => {
        const next = this.#nextSeq.get(deviceId);
        return next === undefined ? [] : [[deviceId, next] as const];
      });
      this.inner.insertQueued(this.#hot.entries(), nextSeqs);
    } catch (error) {
      if (isDiskFull(error)) {
        this.inner.space.markFull();
        return Promise.resolve();
      }
      this.#checkpointFailure ??= new Error(`queue checkpoint failed; writes are refused until the relay restarts, which replays the queue log: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      return Promise.reject(this.#checkpointFailure);
    }
    const retired = this.#log.rotate();
    this.#hot.clear();
    this.#touched = new Set();
    const adopted = this.#adoptedFiles;
    this.#adoptedFiles = [];
    const run = (async () => {
      await this.inner.durable();
      await this.#log.retire(retired);
      if (adopted.length > 0 && this.inner.file !== undefined) deleteLogFiles(this.inner.file, adopted);
    })().finally(() => (this.#checkpointing = undefined));
    this.#checkpointing = run;
    return run;
  }

  override async isWritable(): Promise<boolean> {
    if (this.#failure !== undefined) return false;
    return this.inner.isWritable();
  }

  /** Checkpoints everything into SQLite (the log files go), then closes the tables. */
  override async close(): Promise<void> {
    clearInterval(this.#checkpointTimer);
    if (this.#checkpointSoon) clearImmediate(this.#checkpointSoon);
    this.#checkpointSoon = undefined;
    await this.#checkpointing?.catch(() => undefined);
    await this.#log.rotatable();
    await this.#checkpoint().catch(() => undefined);
    await this.#log.close(this.#failure === undefined);
    await this.inner.close();
  }
}
