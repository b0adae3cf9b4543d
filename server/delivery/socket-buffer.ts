/**
 * What the relay holds for one socket that has not reached the client yet, and what happens when
 * that grows (`--max-socket-buffer-bytes`, `--socket-drain-timeout-ms`).
 *
 * A client that stops reading TCP (while its Engine.IO pongs, written blind, keep it "alive")
 * would otherwise make every push pile up in the relay: in Engine.IO's write buffer (packets not
 * yet handed to the transport) and in ws's and Node's socket buffers. The gateway asks `fits()`
 * before a live push; a socket that would go past the cap leaves the live room instead and gets
 * its envelopes later from the store, by drain, like a backlog (delivery.ts). The socket is then
 * watched: once it is down to half the cap it resumes; if it has not come down by the timeout it
 * is closed. Only the client reading counts as progress — pings do not, and neither does an ack
 * unless the buffer shrank since the last one (an ack proves the client read something).
 */
import type { RelaySocket } from '../gateway/event-guard.js';

const POLL_MS = 100;

interface EnginePacket {
  data?: unknown;
}

interface EngineConnection {
  writeBuffer?: EnginePacket[];
  transport?: { socket?: { bufferedAmount?: number; terminate?: () => void } };
}

const sizeOf = (data: unknown): number =>
  typeof data === 'string' ? Buffer.byteLength(data) : data instanceof Uint8Array ? data.byteLength : data instanceof ArrayBuffer ? data.byteLength : 0;

/** Bytes written to this socket that have not left the relay: Engine.IO's write buffer plus the WebSocket's. */
export function bufferedBytes(socket: RelaySocket): number {
  const conn = socket.conn as unknown as EngineConnection;
  let bytes = conn.transport?.socket?.bufferedAmount ?? 0;
  for (const packet of conn.writeBuffer ?? []) bytes += sizeOf(packet.data);
  return bytes;
}

/** Closes the connection now: a graceful close would wait for the very buffer that does not drain. */
export function terminate(socket: RelaySocket): void {
  const ws = (socket.conn as unknown as EngineConnection).transport?.socket;
  if (typeof ws?.terminate === 'function') ws.terminate();
  else socket.disconnect(true);
}

export interface SendBufferOptions {
  maxBytes: number;
  drainTimeoutMs: number;
  /** Called once the buffer is down to half the cap after it went over. */
  onDrained: () => void;
  /** Called when it did not come down in time, just before the socket is terminated. */
  onStuck: () => void;
}

export class SendBuffer {
  #timer: NodeJS.Timeout | undefined;
  #deadline = 0;
  #lastAckBytes = Infinity;

  constructor(
    private readonly socket: RelaySocket,
    private readonly options: SendBufferOptions,
  ) {
    socket.once('disconnect', () => this.#stop());
  }

  get bytes(): number {
    return bufferedBytes(this.socket);
  }

  get watching(): boolean {
    return this.#timer !== undefined;
  }

  /** Whether `more` bytes can be written without going past the cap. */
  fits(more: number): boolean {
    return !this.watching && this.bytes + more <= this.options.maxBytes;
  }

  /** After any write: starts the watch when the socket is now over the cap. */
  check(): void {
    if (!this.watching && this.bytes > this.options.maxBytes) this.watch();
  }

  /** Starts watching (idempotent): resumes the socket once drained, closes it if it stays full. */
  watch(): void {
    if (this.#timer || !this.socket.connected) return;
    this.#deadline = Date.now() + this.options.drainTimeoutMs;
    this.#lastAckBytes = Infinity;
    this.#timer = setInterval(() => this.#poll(), POLL_MS);
    this.#timer.unref();
  }

  /** An ack from the client: progress only if the buffer shrank since the last ack. */
  acked(): void {
    if (!this.watching) return;
    const bytes = this.bytes;
    if (bytes < this.#lastAckBytes) this.#deadline = Date.now() + this.options.drainTimeoutMs;
    this.#lastAckBytes = bytes;
  }

  #poll(): void {
    if (!this.socket.connected) return this.#stop();
    if (this.bytes <= this.options.maxBytes / 2) {
      this.#stop();
      this.options.onDrained();
    } else if (Date.now() >= this.#deadline) {
      this.#stop();
      this.options.onStuck();
      terminate(this.socket);
    }
  }

  #stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
