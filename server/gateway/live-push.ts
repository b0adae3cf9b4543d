/**
 * Pushes to a device's live sockets (the room named by its device id), each within its send
 * buffer's cap (socket-buffer.ts). A socket with no room for a push is paused before the push
 * (delivery.ts: it leaves the room and drains from the store later); the others get the push as
 * one room broadcast, encoded once.
 */
import type { DeliveredEnvelope } from '../../protocol/events.js';
import type { RelayServer } from '../types.js';
import type { SocketDrain } from './delivery.js';
import { emitInChunks } from './wire.js';

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

  #members(deviceId: string): ReadonlySet<string> | undefined {
    const room = this.io.of('/').adapter.rooms.get(deviceId);
    return room && room.size > 0 ? room : undefined;
  }

  /**
   * Stored envelopes of one device, in seq order, to its live sockets; on the group commit's
   * chain. Returns how many sockets were pushed to.
   */
  push(deviceId: string, envelopes: DeliveredEnvelope[]): number {
    const before = this.#members(deviceId);
    if (!before) return 0;
    const bytes = wireBytes(envelopes);
    for (const id of [...before]) {
      const drain = this.#drains.get(id);
      if (drain && !drain.buffer.fits(bytes)) drain.pause();
    }
    const members = this.#members(deviceId);
    if (!members) return 0;
    emitInChunks(this.io, (batch) => this.io.to(deviceId).emit('envelopes', batch), envelopes);
    const lastSeq = envelopes.at(-1)?.seq ?? 0;
    for (const id of members) this.#drains.get(id)?.pushed(lastSeq);
    return members.size;
  }

  /** An ephemeral envelope to the live sockets that have room for it; the others miss it (it is never stored). */
  pushEphemeral(deviceId: string, envelope: DeliveredEnvelope): void {
    const members = this.#members(deviceId);
    if (!members) return;
    const bytes = wireBytes([envelope]);
    const full = [...members].filter((id) => this.#drains.get(id)?.buffer.fits(bytes) === false);
    const target = full.length > 0 ? this.io.to(deviceId).except(full) : this.io.to(deviceId);
    target.emit('envelopes', [envelope]);
  }
}
