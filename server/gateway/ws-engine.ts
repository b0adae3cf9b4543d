/**
 * The WebSocket server under Engine.IO (its `wsEngine` option): ws's own, except that a binary
 * message of up to MAX_SINGLE_WRITE bytes leaves as ONE socket write of its frame header and
 * payload together. ws writes a server frame as two buffers, corked, which Node's stream layer
 * turns into a writev with its own bookkeeping; the relay writes three small frames per chat
 * message (the sender's ack, the push, the answer to the recipient's ack), and that bookkeeping
 * was the largest user-space cost left after the codec. Copying ≤ 16 KiB costs less.
 * Text, larger messages and compressed connections go through ws unchanged.
 *
 * It also bounds what an anonymous connection can make the relay buffer: every WebSocket starts
 * with a frame limit of `unauthenticatedMaxPayload` (16 KiB: a signed CONNECT is ~300 bytes), and
 * ws refuses a longer message from its frame header (close 1009) before buffering it. Engine.IO's
 * maxHttpBufferSize (a full authenticated batch) applies only once the gateway calls
 * `allowFullFrames` for a socket whose handshake verified (plugin.ts).
 */
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';

const MAX_SINGLE_WRITE = 16 * 1024;

/** ws's Sender writes a frame given as one buffer with a single `socket.write` (Engine.IO calls it too, for pre-encoded frames). */
interface FrameWriter {
  sendFrame(list: Buffer[], cb?: (error?: Error) => void): void;
}

/** An unmasked, final, binary frame (RFC 6455 §5.2) of a payload under 64 KiB. */
function binaryFrame(payload: Uint8Array): Buffer {
  const header = payload.length < 126 ? 2 : 4;
  const frame = Buffer.allocUnsafe(header + payload.length);
  frame[0] = 0x82; // FIN, opcode 2 (binary)
  if (header === 2) frame[1] = payload.length;
  else {
    frame[1] = 126; // a 16-bit length follows
    frame.writeUInt16BE(payload.length, 2);
  }
  frame.set(payload, header);
  return frame;
}

/** ws's Receiver keeps its limit here (ws 8), read on every frame header. */
interface FrameReceiver {
  _maxPayload: number;
}

/** Per-connection read budget (bytes per second, burst); 0 = unlimited. */
export interface InboundBudget {
  bytesPerSecond: number;
  burstBytes: number;
}

interface NetSocket {
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  once(event: 'close', listener: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
  destroyed?: boolean;
}

/** What a connection may make the relay read before its handshake verifies. */
const UNAUTHENTICATED_BUDGET: InboundBudget = { bytesPerSecond: 64 * 1024, burstBytes: 64 * 1024 };

/** A read budget's tokens: one connection's, or — once its handshake verified — its device's, shared by all the device's connections. */
interface BudgetState {
  tokens: number;
  last: number;
}

/**
 * Budgets shared per device: a device that reconnects to send again (each bad frame closes its
 * connection) meets the same budget instead of a fresh burst. Bounded: past `MAX_SHARED` keys,
 * budgets back at their burst are dropped (nothing to remember).
 */
const MAX_SHARED = 100_000;
class SharedBudgets {
  readonly #states = new Map<string, BudgetState>();
  constructor(private readonly budget: InboundBudget) {}

  get(key: string): BudgetState {
    let state = this.#states.get(key);
    if (!state) {
      if (this.#states.size >= MAX_SHARED) this.#prune();
      state = { tokens: this.budget.burstBytes, last: Date.now() };
      this.#states.set(key, state);
    }
    return state;
  }

  #prune(): void {
    const now = Date.now();
    for (const [key, state] of this.#states) {
      if (state.tokens + ((now - state.last) / 1000) * this.budget.bytesPerSecond >= this.budget.burstBytes) this.#states.delete(key);
    }
    if (this.#states.size >= MAX_SHARED) this.#states.delete(this.#states.keys().next().value as string);
  }
}

/**
 * Pauses `socket` whenever it has read more than its budget allows, and resumes it once the
 * budget is back above zero. `holder.state` may be swapped for a shared one (shareBudget).
 */
function throttleReads(socket: NetSocket, holder: { state: BudgetState; budget: InboundBudget }): void {
  if (holder.budget.bytesPerSecond <= 0) return;
  let timer: NodeJS.Timeout | undefined;
  socket.on('data', (chunk) => {
    const now = Date.now();
    const { state, budget } = holder;
    state.tokens = Math.min(budget.burstBytes, state.tokens + (Math.max(0, now - state.last) / 1000) * budget.bytesPerSecond) - chunk.length;
    state.last = now;
    if (state.tokens >= 0) return;
    // Paused again on every chunk read while in debt: ws resumes the socket itself when its own buffer drains.
    socket.pause();
    timer ??= setTimeout(() => {
      timer = undefined;
      if (!socket.destroyed) socket.resume();
    }, Math.ceil((-state.tokens / budget.bytesPerSecond) * 1000));
  });
  socket.once('close', () => clearTimeout(timer));
}

class SingleWriteWebSocket extends WebSocket {
  /** Whether no extension (permessage-deflate) was negotiated: known once open, asked once. */
  #plain: boolean | undefined;
  /** The server's (authenticated) frame limit; the receiver starts below it. */
  #fullMaxPayload = 0;

  /** The limit before the handshake verifies (0 = the server's); set by singleWriteWsServer's subclass. */
  protected readonly unauthenticatedMaxPayload: number = 0;
  /** The connection's read budget (0 = unlimited) and the per-device budgets; set by singleWriteWsServer's subclass. */
  protected readonly inbound: InboundBudget = { bytesPerSecond: 0, burstBytes: 0 };
  protected readonly shared: SharedBudgets | undefined = undefined;
  #budget: { state: BudgetState; budget: InboundBudget } = { state: { tokens: 0, last: 0 }, budget: { bytesPerSecond: 0, burstBytes: 0 } };

  /** ws's server calls this once, right after the upgrade; the limit of its options is the server's. */
  setSocket(socket: unknown, head: unknown, options: { maxPayload?: number }): void {
    // Before its handshake a connection has a small budget of its own (a signed CONNECT is ~300 bytes).
    const before = this.inbound.bytesPerSecond > 0 ? UNAUTHENTICATED_BUDGET : this.inbound;
    this.#budget = { state: { tokens: before.burstBytes, last: Date.now() }, budget: before };
    throttleReads(socket as NetSocket, this.#budget);
    this.#fullMaxPayload = options.maxPayload ?? 0;
    const small = this.unauthenticatedMaxPayload;
    const first = small > 0 && (this.#fullMaxPayload === 0 || small < this.#fullMaxPayload) ? small : this.#fullMaxPayload;
    (WebSocket.prototype as unknown as { setSocket: (s: unknown, h: unknown, o: unknown) => void }).setSocket.call(this, socket, head, { ...options, maxPayload: first });
  }

  /** Lifts the frame limit to the server's: the socket's handshake verified; from now on it reads on its device's budget. */
  allowFullFrames(deviceId?: string): void {
    const receiver = (this as unknown as { _receiver?: FrameReceiver | null })._receiver;
    if (receiver) receiver._maxPayload = this.#fullMaxPayload;
    if (this.inbound.bytesPerSecond <= 0) return;
    // Mutated, not replaced: throttleReads holds this object.
    this.#budget.state = deviceId !== undefined && this.shared ? this.shared.get(deviceId) : { tokens: this.inbound.burstBytes, last: Date.now() };
    this.#budget.budget = this.inbound;
  }

  override send(data: unknown, options?: unknown, cb?: unknown): void {
    if (typeof options === 'function') {
      cb = options;
      options = undefined;
    }
    if (options === undefined && data instanceof Uint8Array && data.length <= MAX_SINGLE_WRITE && this.readyState === WebSocket.OPEN) {
      this.#plain ??= this.extensions === '';
      const writer = (this as unknown as { _sender?: FrameWriter })._sender;
      if (this.#plain && writer) {
        writer.sendFrame([binaryFrame(data)], cb as ((error?: Error) => void) | undefined);
        return;
      }
    }
    (super.send as (data: unknown, options: unknown, cb: unknown) => void)(data, options ?? {}, cb);
  }
}

/** ws's server with single-write frames and no limit of its own before the handshake. */
export class SingleWriteWsServer extends WebSocketServer {
  constructor(options: ServerOptions, callback?: () => void) {
    super({ WebSocket: SingleWriteWebSocket, ...options }, callback);
  }
}

/** Pass as Socket.IO's (Engine.IO's) `wsEngine`: frames before the handshake are limited to `unauthenticatedMaxPayload` bytes, and reads to `inbound`. */
export function singleWriteWsServer(unauthenticatedMaxPayload: number, inbound: InboundBudget = { bytesPerSecond: 0, burstBytes: 0 }) {
  const shared = inbound.bytesPerSecond > 0 ? new SharedBudgets(inbound) : undefined;
  class LimitedWebSocket extends SingleWriteWebSocket {
    protected override readonly unauthenticatedMaxPayload = unauthenticatedMaxPayload;
    protected override readonly inbound = inbound;
    protected override readonly shared = shared;
  }
  return class LimitedWsServer extends SingleWriteWsServer {
    constructor(options: ServerOptions, callback?: () => void) {
      super({ ...options, WebSocket: LimitedWebSocket }, callback);
    }
  };
}

/** An Engine.IO connection's transport (websocket: its `socket` is the ws; polling: a per-request buffer cap). */
interface EngineTransport {
  name?: string;
  socket?: unknown;
  maxHttpBufferSize?: number;
}

/**
 * Lifts an Engine.IO connection's frame limit to the server's (the handshake verified); for
 * long-polling, sets its POST body cap. `limitPolling` puts the small cap on a polling transport.
 */
export function allowFullFrames(transport: EngineTransport | undefined, fullBytes: number, deviceId?: string): void {
  if (!transport) return;
  if (transport.socket instanceof SingleWriteWebSocket) transport.socket.allowFullFrames(deviceId);
  else if (transport.name === 'polling') transport.maxHttpBufferSize = fullBytes;
}

export function limitPolling(transport: EngineTransport | undefined, smallBytes: number): void {
  if (transport?.name === 'polling') transport.maxHttpBufferSize = smallBytes;
}
