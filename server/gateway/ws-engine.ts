/**
 * The WebSocket server under Engine.IO (its `wsEngine` option): ws's own, except that a binary
 * message of up to MAX_SINGLE_WRITE bytes leaves as ONE socket write of its frame header and
 * payload together. ws writes a server frame as two buffers, corked, which Node's stream layer
 * turns into a writev with its own bookkeeping; the relay writes three small frames per chat
 * message (the sender's ack, the push, the answer to the recipient's ack), and that bookkeeping
 * was the largest user-space cost left after the codec. Copying ≤ 16 KiB costs less.
 * Text, larger messages and compressed connections go through ws unchanged.
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

class SingleWriteWebSocket extends WebSocket {
  /** Whether no extension (permessage-deflate) was negotiated: known once open, asked once. */
  #plain: boolean | undefined;

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

/** Pass as Socket.IO's (Engine.IO's) `wsEngine`. */
export class SingleWriteWsServer extends WebSocketServer {
  constructor(options: ServerOptions, callback?: () => void) {
    super({ ...options, WebSocket: SingleWriteWebSocket }, callback);
  }
}
