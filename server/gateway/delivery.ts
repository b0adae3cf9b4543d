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
 */
import type { Socket } from 'socket.io';
import type { AckRequest, ClientToServerEvents, DeliveredEnvelope, ServerToClientEvents, SocketData } from '../protocol/events.js';
import type { Store } from '../store/store.js';
import { emitInChunks } from './wire.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
type RelaySocket = Socket<ClientToServerEvents, ServerToClientEvents, {}, SocketData>;

export class SocketDrain {
  #cursor = 0;
  /** seq → id of the envelopes of the page awaiting acknowledgement. */
  #awaiting = new Map<number, string>();
  #done = false;

  constructor(
    private readonly socket: RelaySocket,
    private readonly store: Store,
    private readonly pageSize: number,
    private readonly sequenced: <T>(read: () => Promise<T>) => Promise<T>,
    private readonly onPushed: (count: number) => void,
  ) {}

  get draining(): boolean {
    return !this.#done;
  }

  async nextPage(): Promise<void> {
    if (this.#done || !this.socket.connected) return;
    const deviceId = this.socket.data.deviceId;
    const page = await this.sequenced(async () => {
      const read = await this.store.readQueue(deviceId, this.#cursor, this.pageSize, Date.now());
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
    this.onPushed(batch.length);
  }

  /** Called after this socket's ack was applied; moves on once the page is fully acknowledged. */
  async acknowledged(request: AckRequest): Promise<void> {
    if (this.#done || this.#awaiting.size === 0) return;
    if ('upTo' in request) {
      for (const seq of this.#awaiting.keys()) if (seq <= request.upTo) this.#awaiting.delete(seq);
    } else {
      const ids = new Set(request.ids);
      for (const [seq, id] of this.#awaiting) if (ids.has(id)) this.#awaiting.delete(seq);
    }
    if (this.#awaiting.size === 0) await this.nextPage();
  }
}
