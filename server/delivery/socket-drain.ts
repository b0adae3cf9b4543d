/**
 * One socket's way through its device's queue: the backlog drain with flow control, then live
 * pushes, and back to draining whenever live pushes could skip something. The cursor is the
 * highest seq this socket was given; everything it gets comes in seq order after it.
 *
 * A new socket is not yet in its device's live room (rooms.ts) and receives its queue page by
 * page; the next page is read only when every envelope of the current one is acknowledged. When
 * a read comes back empty the socket joins the live room and gets live pushes from then on.
 *
 * Why this cannot lose or duplicate within a socket, on one node: every read runs on the group
 * commit's chain (group-commit.ts), between commits, and joining the live room happens in the
 * same link as the read that came back empty. An envelope is therefore either committed and
 * pushed before that read (not pushed to this socket, found by the drain) or committed after the
 * socket went live (pushed to it). A push is given only when it starts right after the cursor
 * (live-sockets.ts); otherwise the socket drains again from its cursor, so nothing is skipped.
 *
 * In a cluster, envelopes committed by other nodes are announced by notices (notice-bus.ts)
 * after their commit. A notice beyond the cursor sends a live socket back to draining. One heard
 * while a read is in flight makes an empty read go round once more instead of going live: the
 * notice was published after its commit, so the second read sees the envelope (or its ack).
 *
 * A live socket whose send buffer is full (socket-buffer.ts) is paused the same way: it leaves
 * the live room in the link of the commit it could not take, and once its buffer is down it
 * drains again from its cursor.
 */
import type { AckRequest, DeliveredEnvelope } from '../../protocol/events.js';
import type { RelaySocket } from '../gateway/event-guard.js';
import { emitInChunks } from '../gateway/wire.js';
import type { Store } from '../store/store.js';
import { liveRoom } from './rooms.js';
import { SendBuffer, type SendBufferOptions } from './socket-buffer.js';

export interface SocketDrainOptions {
  pageSize: number;
  sequenced: <T>(read: () => Promise<T>) => Promise<T>;
  onPushed: (count: number) => void;
  /** The socket's send-buffer cap and timeout; `onStuck` is told before a full socket is closed. */
  buffer: Pick<SendBufferOptions, 'maxBytes' | 'drainTimeoutMs' | 'onStuck'>;
  /** A drain page that failed (the socket then waits for a notice, a check or its next reconnect). */
  onError: (error: unknown) => void;
}

export class SocketDrain {
  #cursor = 0;
  /** The highest seq announced for this device since this socket connected (cluster notices). */
  #noticed = 0;
  /** seq → id of the envelopes of the page awaiting acknowledgement. */
  #awaiting = new Map<number, string>();
  /** In the live room, taking live pushes. */
  #live = false;
  /** A drain read or page is under way (not live). */
  #reading = false;
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

  get deviceId(): string {
    return this.socket.data.deviceId;
  }

  /** The highest seq this socket was given, by drain or live push. */
  get cursor(): number {
    return this.#cursor;
  }

  get live(): boolean {
    return this.#live;
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
    if (!this.#live || this.#paused) return;
    this.#leave();
    this.#paused = true;
    this.buffer.watch();
  }

  /** Envelopes up to `seq` exist for this device (a notice, or a check of the store). */
  noticed(seq: number): void {
    if (seq > this.#noticed) this.#noticed = seq;
    if (this.#live && seq > this.#cursor) this.resync();
  }

  /** Leaves the live room and drains from the cursor: a push would not start right after it, or a notice is ahead of it. */
  resync(): void {
    if (!this.#live) return;
    this.#leave();
    this.nextPage().catch(this.options.onError);
  }

  #leave(): void {
    this.#live = false;
    void this.socket.leave(liveRoom(this.deviceId));
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#awaiting.clear();
    this.nextPage().catch(this.options.onError);
  }

  async nextPage(): Promise<void> {
    if (this.#live || this.#paused || this.#reading || !this.socket.connected) return;
    this.#reading = true;
    let page: DeliveredEnvelope[];
    try {
      page = await this.options.sequenced(() => this.#read());
    } finally {
      this.#reading = false;
    }
    if (page.length === 0) return;
    const last = page[page.length - 1];
    if (last?.seq !== undefined) this.#cursor = last.seq;
    this.#awaiting = new Map(page.map((e) => [e.seq ?? 0, e.id]));
    emitInChunks(this.socket.nsp.server, (chunk) => this.socket.emit('envelopes', chunk), page);
    this.options.onPushed(page.length);
    // A page is sent whatever the buffer holds (the next waits for acks), but a socket that then
    // stays over the cap is closed like a live one.
    this.buffer.check();
  }

  /** On the chain: the next page after the cursor, or — when there is none — the live room. */
  async #read(): Promise<DeliveredEnvelope[]> {
    const deviceId = this.deviceId;
    for (;;) {
      const noticedBefore = this.#noticed;
      const read = await this.store.readQueue(deviceId, this.#cursor, this.options.pageSize, Date.now());
      if (read.length > 0) return read.map((e) => ({ id: e.id, seq: e.seq, body: e.body }));
      // A notice heard during the read may name an envelope committed after the read began.
      if (this.#noticed > noticedBefore && this.#noticed > this.#cursor) continue;
      if (!this.socket.connected) return [];
      this.#live = true;
      void this.socket.join(liveRoom(deviceId));
      return [];
    }
  }

  /** Called after this socket's ack was applied; moves on once the page is fully acknowledged. */
  async acknowledged(request: AckRequest): Promise<void> {
    this.buffer.acked();
    if (this.#live || this.#paused || this.#reading || this.#awaiting.size === 0) return;
    if ('upTo' in request) {
      for (const seq of this.#awaiting.keys()) if (seq <= request.upTo) this.#awaiting.delete(seq);
    } else {
      const ids = new Set(request.ids);
      for (const [seq, id] of this.#awaiting) if (ids.has(id)) this.#awaiting.delete(seq);
    }
    if (this.#awaiting.size === 0) await this.nextPage();
  }
}
