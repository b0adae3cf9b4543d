/**
 * The one owner of delivery, for one node and for a cluster: the rooms (rooms.ts), the group
 * commit that stores envelopes (group-commit.ts), the push of stored envelopes to live sockets
 * and of ephemeral ones (live-sockets.ts), each socket's drain and cursor (socket-drain.ts), and
 * the notices between nodes (notice-bus.ts). The gateway and the routes call only this.
 *
 * The rule that keeps delivery ordered, without loss or duplicates: per device, sequence numbers
 * are assigned at commit, contiguous, in commit order (the store's contract). A socket is given
 * envelopes strictly in sequence after its cursor — by a drain read after the cursor, or by a
 * live push that starts right after it — and anything else sends it back to draining.
 *
 * In a cluster, the node that committed publishes a notice after the commit: the last seq and,
 * when small, the committed envelopes. A node holding sockets of the device subscribes to its
 * channel before the first drain read, and pushes a notice's envelopes under the same rule as
 * its own commits (only to sockets whose cursor they follow); every other socket reads the
 * store. The bus is never trusted for completeness: it is at-most-once, like a Socket.IO
 * adapter, and only the store's sequence decides. A lost notice only delays: a periodic check
 * compares each live device's newest seq in the store with its sockets' cursors — every few
 * seconds, and every second while the bus is down — and the bus's recovery triggers one at once.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AckRequest, DeliveredEnvelope } from '../../protocol/events.js';
import type { Config } from '../config.js';
import type { RelaySocket } from '../gateway/event-guard.js';
import type { RelayMetrics } from '../metrics.js';
import type { EnqueueItem, EnqueueOutcome, Store } from '../store/store.js';
import type { RelayServer } from '../types.js';
import { GroupCommit, type StoredEnvelope } from './group-commit.js';
import { LiveSockets } from './live-sockets.js';
import type { Notice, NoticeBus } from './notice-bus.js';
import { deviceRoom } from './rooms.js';
import { SocketDrain } from './socket-drain.js';

/** How often live devices are checked against the store while the bus is healthy, and while it is not. */
export const CHECK_INTERVAL_MS = 5_000;
export const CHECK_INTERVAL_UNHEALTHY_MS = 1_000;
/** Stored envelopes ride in their notice when their bodies come to at most this much (else the notice carries only the seq). */
const NOTICE_ENVELOPE_BYTES = 64 * 1024;
/** A socket's first drain waits at most this long for its device's subscription (then relies on the checks). */
const SUBSCRIBE_WAIT_MS = 2_000;

export interface DeliveryOptions {
  io: RelayServer;
  store: Store;
  config: Config;
  metrics: RelayMetrics;
  log: FastifyBaseLogger;
  bus: NoticeBus;
  /** The newest seq assigned per device (cluster stores); without it there are no periodic checks. */
  newestSeqs?: (deviceIds: readonly string[]) => Promise<Map<string, number>>;
}

export class Delivery {
  readonly groupCommit: GroupCommit;
  readonly #live: LiveSockets;
  /** Sockets on this node per subscribed device, and the subscription's confirmation. */
  readonly #subscribed = new Map<string, { sockets: number; ready: Promise<void> }>();
  /** Told of devices that got stored envelopes with no socket on this node (server/push/). */
  readonly #withoutSocket: ((deviceId: string) => void)[] = [];
  #checkTimer: NodeJS.Timeout | undefined;
  #checking = false;
  #lastCheck = 0;

  constructor(private readonly options: DeliveryOptions) {
    const { store, config, metrics } = options;
    this.#live = new LiveSockets(options.io);
    this.groupCommit = new GroupCommit(store, { maxEnvelopes: config.maxQueueEnvelopes, maxBytes: config.maxQueueBytes, maxTotalBytes: config.maxTotalQueueBytes }, (stored) => {
      metrics.enqueueTransactions.inc();
      metrics.envelopesStored.inc(stored.length);
      metrics.writeBatchSize.observe(stored.length);
      this.#pushStored(stored);
    });
    options.bus.onNotice((deviceId, notice) => this.#heard(deviceId, notice));
    options.bus.onRecovered(() => void this.#check());
    if (options.newestSeqs) {
      this.#checkTimer = setInterval(() => {
        const interval = options.bus.healthy ? CHECK_INTERVAL_MS : CHECK_INTERVAL_UNHEALTHY_MS;
        if (Date.now() - this.#lastCheck >= interval) void this.#check();
      }, CHECK_INTERVAL_UNHEALTHY_MS);
      this.#checkTimer.unref();
    }
  }

  /** A socket authenticated: it joins its device room, its device's notices reach this node, and it starts draining. */
  async attach(socket: RelaySocket): Promise<SocketDrain> {
    const { config, metrics, log } = this.options;
    const deviceId = socket.data.deviceId;
    void socket.join(deviceRoom(deviceId));
    const drain = new SocketDrain(socket, this.options.store, {
      pageSize: config.drainPageSize,
      sequenced: (read) => this.groupCommit.sequenced(read),
      onPushed: (n) => metrics.envelopesPushed.inc(n),
      buffer: {
        maxBytes: config.maxSocketBufferBytes,
        drainTimeoutMs: config.socketDrainTimeoutMs,
        onStuck: () => log.info({ event: 'socket_buffer_stuck' }, 'socket closed: its send buffer stayed full'),
      },
      onError: (error) => log.error({ err: error, event: 'drain' }, 'drain failed'),
    });
    this.#live.add(socket.id, drain);
    socket.once('disconnect', () => this.#detach(socket.id, deviceId));
    await this.#subscribe(deviceId);
    return drain;
  }

  #detach(socketId: string, deviceId: string): void {
    this.#live.delete(socketId);
    const subscription = this.#subscribed.get(deviceId);
    if (!subscription) return;
    subscription.sockets -= 1;
    if (subscription.sockets > 0) return;
    this.#subscribed.delete(deviceId);
    this.options.bus.unsubscribe(deviceId);
  }

  async #subscribe(deviceId: string): Promise<void> {
    let subscription = this.#subscribed.get(deviceId);
    if (subscription) subscription.sockets += 1;
    else {
      subscription = { sockets: 1, ready: this.options.bus.subscribe(deviceId) };
      this.#subscribed.set(deviceId, subscription);
    }
    // Not confirmed in time (the bus is down): drain anyway; the periodic checks find what notices would have announced.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SUBSCRIBE_WAIT_MS)));
    await Promise.race([subscription.ready.catch(() => undefined), late]);
    clearTimeout(timer);
  }

  /** Durable envelopes, through the group commit; resolves with outcomes once committed and durable. */
  store(items: readonly EnqueueItem[]): Promise<EnqueueOutcome[]> {
    return this.groupCommit.submit(items);
  }

  /** A socket's ack was applied to the store. */
  acknowledged(socketId: string, request: AckRequest): Promise<void> {
    return this.#live.get(socketId)?.acknowledged(request) ?? Promise.resolve();
  }

  /** An ephemeral envelope: to the device's live sockets here and on every other node. */
  ephemeral(deviceId: string, envelope: DeliveredEnvelope): void {
    this.#live.pushEphemeral(deviceId, envelope);
    void this.options.bus.publish(deviceId, { kind: 'ephemeral', envelope });
  }

  /** The device's one-time prekeys ran low: tell its sockets, wherever they are. */
  prekeysLow(deviceId: string, count: number): void {
    this.#act(deviceId, { kind: 'prekeys', count });
    void this.options.bus.publish(deviceId, { kind: 'prekeys', count });
  }

  /** Devices that left their account's list: close their sockets, wherever they are. */
  removed(deviceIds: readonly string[]): void {
    for (const deviceId of deviceIds) {
      this.#act(deviceId, { kind: 'removed' });
      void this.options.bus.publish(deviceId, { kind: 'removed' });
    }
  }

  /**
   * Called for each device that had envelopes stored while no node holds a socket of it (or the
   * bus could not say), after the commit: Web Push wakes such a device.
   */
  onStoredWithoutSocket(listener: (deviceId: string) => void): void {
    this.#withoutSocket.push(listener);
  }

  /** Resolves once everything submitted so far is committed, pushed and durable. */
  flush(): Promise<void> {
    return this.groupCommit.flush();
  }

  close(): void {
    clearInterval(this.#checkTimer);
  }

  #pushStored(stored: StoredEnvelope[]): void {
    const byDevice = new Map<string, DeliveredEnvelope[]>();
    for (const { item, seq } of stored) {
      const list = byDevice.get(item.to) ?? [];
      list.push({ id: item.id, seq, body: item.body });
      byDevice.set(item.to, list);
    }
    for (const [deviceId, envelopes] of byDevice) {
      envelopes.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
      const sockets = this.#live.push(deviceId, envelopes);
      if (sockets > 0) this.options.metrics.envelopesPushed.inc(envelopes.length * sockets);
      const last = envelopes.at(-1)?.seq;
      if (last === undefined) continue;
      const bytes = envelopes.reduce((n, e) => n + e.body.byteLength, 0);
      const listening = this.options.bus.publish(deviceId, bytes <= NOTICE_ENVELOPE_BYTES ? { kind: 'stored', seq: last, envelopes } : { kind: 'stored', seq: last });
      // No socket here: the publish's answer says whether another node holds one (a device
      // nobody holds is woken by Web Push; when the bus cannot say, it is woken anyway).
      if (this.#withoutSocket.length > 0 && this.#live.ofDevice(deviceId).length === 0) {
        void listening.then((nodes) => {
          if (nodes === undefined || nodes === 0) for (const listener of this.#withoutSocket) listener(deviceId);
        });
      }
    }
  }

  /** A notice from another node. */
  #heard(deviceId: string, notice: Notice): void {
    if (notice.kind === 'stored') {
      // Committed already: pushed to the live sockets whose cursor they follow (others drain);
      // then every socket of the device learns how far the queue goes.
      if (notice.envelopes && notice.envelopes.length > 0) {
        const sockets = this.#live.push(deviceId, notice.envelopes);
        if (sockets > 0) this.options.metrics.envelopesPushed.inc(notice.envelopes.length * sockets);
      }
      for (const drain of this.#live.ofDevice(deviceId)) drain.noticed(notice.seq);
    } else if (notice.kind === 'ephemeral') this.#live.pushEphemeral(deviceId, notice.envelope);
    else this.#act(deviceId, notice);
  }

  #act(deviceId: string, notice: Extract<Notice, { kind: 'prekeys' | 'removed' }>): void {
    const room = this.options.io.in(deviceRoom(deviceId));
    if (notice.kind === 'prekeys') room.emit('prekeys', { oneTimePrekeys: notice.count });
    else room.disconnectSockets(true);
  }

  /** Compares every live device's newest seq in the store with its sockets' cursors. */
  async #check(): Promise<void> {
    const newestSeqs = this.options.newestSeqs;
    if (!newestSeqs || this.#checking) return;
    this.#checking = true;
    this.#lastCheck = Date.now();
    try {
      const devices = [...this.#live.devices()];
      for (let i = 0; i < devices.length; i += 1000) {
        const newest = await newestSeqs(devices.slice(i, i + 1000));
        for (const [deviceId, seq] of newest) for (const drain of this.#live.ofDevice(deviceId)) drain.noticed(seq);
      }
    } catch (error) {
      this.options.log.warn({ err: error, event: 'delivery_check' }, 'delivery check failed');
    } finally {
      this.#checking = false;
    }
  }
}
