/**
 * This node's sockets, by socket id, and pushes to a device's live sockets (its live room,
 * rooms.ts), each within its send buffer's cap (socket-buffer.ts) and only when the push starts
 * right after what the socket was given. A socket with no room for a push is paused before the
 * push, one whose cursor is behind the push's first seq drains instead (socket-drain.ts); the
 * others get the push as one room broadcast, encoded once.
 */
import type { DeliveredEnvelope } from '../../protocol/events.js';
import type { RelayServer } from '../types.js';
import { deviceRoom, liveRoom } from './rooms.js';
import type { SocketDrain } from './socket-drain.js';
import { emitInChunks } from '../gateway/wire.js';

/** Framing per envelope on the wire (msgpack map keys, id, seq): an estimate, generous. */
const ENVELOPE_OVERHEAD = 64;

const wireBytes = (envelopes: readonly DeliveredEnvelope[]): number => envelopes.reduce((n, e) => n + e.body.byteLength + ENVELOPE_OVERHEAD, 0);

export class LiveSockets {
  readonly #drains = new Map<string, SocketDrain>();

  constructor(private readonly io: RelayServer) {}

  add(socketId: string, drain: SocketDrain): void {
    this.#drains.set(socketId, drain);
  }

  delete(socketId: string): void {
    this.#drains.delete(socketId);
  }

  get(socketId: string): SocketDrain | undefined {
    return this.#drains.get(socketId);
  }

  #members(room: string): ReadonlySet<string> | undefined {
    const members = this.io.of('/').adapter.rooms.get(room);
    return members && members.size > 0 ? members : undefined;
  }

  /** Every socket of the device on this node, draining or live. */
  ofDevice(deviceId: string): SocketDrain[] {
    const members = this.#members(deviceRoom(deviceId));
    if (!members) return [];
    const drains: SocketDrain[] = [];
    for (const id of members) {
      const drain = this.#drains.get(id);
      if (drain) drains.push(drain);
    }
    return drains;
  }

  /** Devices with at least one socket on this node. */
  devices(): Set<string> {
    const ids = new Set<string>();
    for (const drain of this.#drains.values()) ids.add(drain.deviceId);
    return ids;
  }

  /**
   * Stored envelopes of one device, in seq order, to its live sockets; on the group commit's
   * chain. Returns how many sockets were pushed to.
   */
  push(deviceId: string, envelopes: DeliveredEnvelope[]): number {
    const room = liveRoom(deviceId);
    const before = this.#members(room);
    if (!before) return 0;
    const first = envelopes[0]?.seq ?? 0;
    const bytes = wireBytes(envelopes);
    for (const id of [...before]) {
      const drain = this.#drains.get(id);
      if (!drain) continue;
      if (drain.cursor + 1 !== first) drain.resync();
      else if (!drain.buffer.fits(bytes)) drain.pause();
    }
    const members = this.#members(room);
    if (!members) return 0;
    emitInChunks(this.io, (batch) => this.io.to(room).emit('envelopes', batch), envelopes);
    const lastSeq = envelopes.at(-1)?.seq ?? 0;
    for (const id of members) this.#drains.get(id)?.pushed(lastSeq);
    return members.size;
  }

  /** An ephemeral envelope to the live sockets that have room for it; the others miss it (it is never stored). */
  pushEphemeral(deviceId: string, envelope: DeliveredEnvelope): void {
    const room = liveRoom(deviceId);
    const members = this.#members(room);
    if (!members) return;
    const bytes = wireBytes([envelope]);
    const full = [...members].filter((id) => this.#drains.get(id)?.buffer.fits(bytes) === false);
    const target = full.length > 0 ? this.io.to(room).except(full) : this.io.to(room);
    target.emit('envelopes', [envelope]);
  }
}
