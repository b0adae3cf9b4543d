/**
 * The cluster's notice bus on Redis pub/sub (ioredis): one channel per device, one publishing and
 * one subscribing connection per node. Redis holds nothing here: pub/sub is fire and forget and
 * the relay turns persistence off in the documented set-up; a notice published while Redis is
 * down is dropped, never queued (delivery.ts catches up by reading the store).
 *
 * Each notice names the node that sent it, so a node ignores its own (it acted locally already).
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { DeliveredEnvelope } from '../../protocol/events.js';
import { decode, encode } from '../../protocol/msgpack.js';
import type { Notice, NoticeBus } from '../delivery/notice-bus.js';

const CHANNEL_PREFIX = 'sealpost:device:';

/**
 * The notices of one turn of the event loop in one command: ARGV holds channel, message, channel,
 * message…; the answer is each PUBLISH's count of listening nodes, in order. A commit of envelopes
 * for n devices publishes n notices at once; sent as n PUBLISH commands they cost the node n
 * commands to build, n replies to read and n promises (docs/performance.md, "Cluster, fifth session").
 * Redis runs a script alone, so the notices keep their order on each channel.
 */
const PUBLISH_MANY = `local counts = {}
for i = 1, #ARGV, 2 do counts[#counts + 1] = redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return counts`;

interface Outgoing {
  channel: string;
  message: Buffer;
  resolve: (listening: number | undefined) => void;
}

type PublishMany = (...channelsAndMessages: (string | Buffer)[]) => Promise<unknown>;

/** A notice on the wire: short keys, msgpack. */
interface WireNotice {
  n: string;
  k: Notice['kind'];
  s?: number;
  /** Stored envelopes of the commit: [id, seq, body] each. */
  e?: [string, number, Uint8Array][];
  c?: number;
  i?: string;
  b?: Uint8Array;
}

function toWire(node: string, notice: Notice): WireNotice {
  switch (notice.kind) {
    case 'stored':
      return notice.envelopes
        ? { n: node, k: 'stored', s: notice.seq, e: notice.envelopes.map((e) => [e.id, e.seq ?? 0, e.body]) }
        : { n: node, k: 'stored', s: notice.seq };
    case 'prekeys':
      return { n: node, k: 'prekeys', c: notice.count };
    case 'removed':
      return { n: node, k: 'removed' };
    case 'ephemeral':
      return { n: node, k: 'ephemeral', i: notice.envelope.id, b: notice.envelope.body };
  }
}

/** The envelopes of a notice, or undefined when any is malformed (the notice then counts as content-free). */
function storedEnvelopes(wire: unknown[]): DeliveredEnvelope[] | undefined {
  const envelopes: DeliveredEnvelope[] = [];
  for (const entry of wire) {
    if (!Array.isArray(entry)) return undefined;
    const [id, seq, body] = entry as unknown[];
    if (typeof id !== 'string' || typeof seq !== 'number' || !(body instanceof Uint8Array)) return undefined;
    envelopes.push({ id, seq, body });
  }
  return envelopes;
}

function fromWire(wire: WireNotice): Notice | undefined {
  if (wire.k === 'stored' && typeof wire.s === 'number') {
    const envelopes = Array.isArray(wire.e) ? storedEnvelopes(wire.e) : undefined;
    return envelopes ? { kind: 'stored', seq: wire.s, envelopes } : { kind: 'stored', seq: wire.s };
  }
  if (wire.k === 'prekeys' && typeof wire.c === 'number') return { kind: 'prekeys', count: wire.c };
  if (wire.k === 'removed') return { kind: 'removed' };
  if (wire.k === 'ephemeral' && typeof wire.i === 'string' && wire.b instanceof Uint8Array) {
    const envelope: DeliveredEnvelope = { id: wire.i, body: wire.b, ephemeral: true };
    return { kind: 'ephemeral', envelope };
  }
  return undefined;
}

export interface RedisBusOptions {
  /** Told when the connection fails or comes back (the URL is never included). */
  onState?: (state: 'down' | 'up', error?: Error) => void;
}

export class RedisBus implements NoticeBus {
  readonly #node = randomUUID();
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  /** Devices this node wants notices of (resubscribed after an outage). */
  readonly #wanted = new Set<string>();
  #healthy = false;
  #wasDown = false;
  #closed = false;
  #noticeListeners: ((deviceId: string, notice: Notice) => void)[] = [];
  /** Notices published in this turn, sent together at its end. */
  #outbox: Outgoing[] = [];
  readonly #publishMany: PublishMany;
  #recoveredListeners: (() => void)[] = [];

  constructor(url: string, options: RedisBusOptions = {}) {
    // No offline queue: a command while Redis is away fails at once instead of piling up in memory.
    const connection = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false } as const;
    this.#publisher = new Redis(url, connection);
    this.#publisher.defineCommand('sealpostPublishMany', { numberOfKeys: 0, lua: PUBLISH_MANY });
    this.#publishMany = (this.#publisher as unknown as { sealpostPublishMany: PublishMany }).sealpostPublishMany.bind(this.#publisher);
    this.#subscriber = new Redis(url, { ...connection, autoResubscribe: false });
    for (const client of [this.#publisher, this.#subscriber]) {
      // ioredis reconnects by itself; an 'error' without a listener would crash the process.
      client.on('error', (error: Error) => {
        if (!this.#closed) options.onState?.('down', error);
      });
    }
    this.#subscriber.on('close', () => {
      if (this.#closed) return;
      if (this.#healthy) options.onState?.('down');
      this.#healthy = false;
      this.#wasDown = true;
    });
    this.#subscriber.on('ready', () => {
      void this.#resubscribe().then(() => {
        if (this.#closed) return;
        this.#healthy = true;
        options.onState?.('up');
        if (this.#wasDown) for (const listener of this.#recoveredListeners) listener();
      });
    });
    this.#subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#deliver(channel, message));
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  async subscribe(deviceId: string): Promise<void> {
    this.#wanted.add(deviceId);
    await this.#subscriber.subscribe(CHANNEL_PREFIX + deviceId);
  }

  unsubscribe(deviceId: string): void {
    this.#wanted.delete(deviceId);
    this.#subscriber.unsubscribe(CHANNEL_PREFIX + deviceId).catch(() => undefined);
  }

  publish(deviceId: string, notice: Notice): Promise<number | undefined> {
    return new Promise((resolve) => {
      const encoded = encode(toWire(this.#node, notice));
      // encode() hands back a Buffer of its own under Node: no second copy.
      const message = Buffer.isBuffer(encoded) ? encoded : Buffer.from(encoded);
      this.#outbox.push({ channel: CHANNEL_PREFIX + deviceId, message, resolve });
      if (this.#outbox.length === 1) queueMicrotask(() => this.#flush());
    });
  }

  #flush(): void {
    const batch = this.#outbox;
    this.#outbox = [];
    const [only] = batch;
    const sent = batch.length === 1 && only ? this.#publisher.publish(only.channel, only.message).then((n) => [n]) : this.#publishMany(...batch.flatMap((o) => [o.channel, o.message]));
    sent.then(
      (counts) => batch.forEach((o, i) => o.resolve(Array.isArray(counts) ? Number(counts[i]) : undefined)),
      () => batch.forEach((o) => o.resolve(undefined)),
    );
  }

  onNotice(listener: (deviceId: string, notice: Notice) => void): void {
    this.#noticeListeners.push(listener);
  }

  onRecovered(listener: () => void): void {
    this.#recoveredListeners.push(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#healthy = false;
    this.#publisher.disconnect();
    this.#subscriber.disconnect();
  }

  async #resubscribe(): Promise<void> {
    const channels = [...this.#wanted].map((id) => CHANNEL_PREFIX + id);
    for (let i = 0; i < channels.length; i += 1000) {
      await this.#subscriber.subscribe(...channels.slice(i, i + 1000)).catch(() => undefined);
    }
  }

  #deliver(channel: Buffer, message: Buffer): void {
    const name = channel.toString();
    if (!name.startsWith(CHANNEL_PREFIX)) return;
    let wire: WireNotice;
    try {
      wire = decode(message) as WireNotice;
    } catch {
      return;
    }
    if (wire.n === this.#node) return;
    const notice = fromWire(wire);
    if (!notice) return;
    const deviceId = name.slice(CHANNEL_PREFIX.length);
    for (const listener of this.#noticeListeners) listener(deviceId, notice);
  }
}
