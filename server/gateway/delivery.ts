/**
 * Backlog drain with flow control, per socket. A new socket is not yet in the room named by its
 * device id (live pushes go there) and receives its queue page by page in seq order; the next
 * page is read only when every envelope of the current one is acknowledged. When a read comes
 * back empty the socket joins that room and gets live pushes from then on.
 *
 * Why this cannot lose or duplicate within a socket: every read runs on the group commit's
 * chain (group-commit.ts), between commits, and joining the room happens in the same link as
 * the read that came back empty. An envelope is therefore either committed and pushed before
 * that read (not pushed to this socket, found by the drain) or committed after the socket went
 * live (pushed to it).
 *
 * A live socket whose send buffer is full (socket-buffer.ts) is paused: it leaves that room in
 * the link of the commit it could not take, so it is pushed nothing from that commit on, and once
 * its buffer is down it drains again from the last envelope it was given — live or by drain —
 * until a read comes back empty and it rejoins. The same argument holds: every envelope is either
 * pushed before the pause or read by the drain after it.
 */
import type { Socket } from 'socket.io';
import type { AckRequest, ClientToServerEvents, DeliveredEnvelope, ServerToClientEvents, SocketData } from '../../protocol/events.js';
import type { Store } from '../store/store.js';
import { SendBuffer, type SendBufferOptions } from './socket-buffer.js';
import { emitInChunks } from './wire.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type RelaySocket = Socket<ClientToServerEvents, ServerToClientEvents, {}, SocketData>;

export interface SocketDrainOptions {
  pageSize: number;
  sequenced: <T>(read: () => Promise<T>) => Promise<T>;
  onPushed: (count: number) => void;
  /** The socket's send-buffer cap and timeout; `onStuck` is told before a full socket is closed. */
  buffer: Pick<SendBufferOptions, 'maxBytes' | 'drainTimeoutMs' | 'onStuck'>;
  /** A drain page that failed after a pause (the socket then waits for its next reconnect). */
  onError: (error: unknown) => void;
}

export class SocketDrain {
  /** The highest seq this socket was given, by drain or live push: a drain resumes after it. */
  #cursor = 0;
  /** seq → id of the envelopes of the page awaiting acknowledgement. */
  #awaiting = new Map<number, string>();
  #done = false;
  /** Out of the live room because its send buffer was full; drains again once it is not. */
  #paused = false;
  readonly buffer: SendBuffer;

  constructor(
    private readonly socket: RelaySocket,
    private readonly store: Store,
    private readonly options: SocketDrainOptions,
  ) {
    this.buffer = new SendBuffer(socket, { ...options.buffer, onDrained: () => this.#resume() });
  }

  get draining(): boolean {
    return !this.#done;
  }

  /** A live push of envelopes up to `lastSeq` was written to this socket. */
  pushed(lastSeq: number): void {
    if (lastSeq > this.#cursor) this.#cursor = lastSeq;
    this.buffer.check();
  }

  /**
   * Called on the group commit's chain, before a push this socket has no room for: it leaves the
   * live room at once (so it gets nothing of this commit or later ones) and drains later.
   */
  pause(): void {
    if (!this.#done || this.#paused) return;
    this.#done = false;
    this.#paused = true;
    void this.socket.leave(this.socket.data.deviceId);
    this.buffer.watch();
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#awaiting.clear();
    this.nextPage().catch(this.options.onError);
  }

  async nextPage(): Promise<void> {
    if (this.#done || this.#paused || !this.socket.connected) return;
    const deviceId = this.socket.data.deviceId;
    const page = await this.options.sequenced(async () => {
      const read = await this.store.readQueue(deviceId, this.#cursor, this.options.pageSize, Date.now());
      if (read.length === 0) {
        this.#done = true;
        void this.socket.join(deviceId);
      }
      return read;
    });
    if (page.length === 0) return;
    const last = page[page.length - 1];
    if (last) this.#cursor = last.seq;
    this.#awaiting = new Map(page.map((e) => [e.seq, e.id]));
    const batch: DeliveredEnvelope[] = page.map((e) => ({ id: e.id, seq: e.seq, body: e.body }));
    emitInChunks(this.socket.nsp.server, (chunk) => this.socket.emit('envelopes', chunk), batch);
    this.options.onPushed(batch.length);
    // A page is sent whatever the buffer holds (the next waits for acks), but a socket that then
    // stays over the cap is closed like a live one.
    this.buffer.check();
  }

  /** Called after this socket's ack was applied; moves on once the page is fully acknowledged. */
  async acknowledged(request: AckRequest): Promise<void> {
    this.buffer.acked();
    if (this.#done || this.#paused || this.#awaiting.size === 0) return;
    if ('upTo' in request) {
      for (const seq of this.#awaiting.keys()) if (seq <= request.upTo) this.#awaiting.delete(seq);
    } else {
      const ids = new Set(request.ids);
      for (const [seq, id] of this.#awaiting) if (ids.has(id)) this.#awaiting.delete(seq);
    }
    if (this.#awaiting.size === 0) await this.nextPage();
  }
}
