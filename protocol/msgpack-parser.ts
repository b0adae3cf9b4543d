/**
 * The Socket.IO parser of the relay's wire, shared by the relay, the SDK (Node and browser), the
 * tests and the benchmark: socket.io-msgpack-parser's packets, so an event and its binary bodies
 * travel as ONE binary WebSocket frame (the stock parser sends a header frame plus one frame per
 * body), and stock socket.io-msgpack-parser clients interoperate. Its packet checks are kept;
 * the codec is ours (msgpack.ts): bodies leave as bin whatever byte array the caller holds and
 * arrive as plain Uint8Arrays, lengths are checked before anything is allocated, and a map key
 * `__proto__` is refused. `msgpackParserWith(limits)` gives a Decoder whose decoding is bounded
 * by those DecodeLimits (the relay's: server/gateway/wire.ts); `msgpackParser` uses the codec's
 * defaults.
 */
import * as stock from 'socket.io-msgpack-parser';
import { DEFAULT_DECODE_LIMITS, decode, encode, type DecodeLimits } from './msgpack.js';

class Encoder extends stock.Encoder {
  override encode(packet: unknown): ArrayBuffer {
    // Socket.IO takes any binary frame; the stock typing says ArrayBuffer.
    return [encode(packet)] as unknown as ArrayBuffer;
  }
}

class Decoder extends stock.Decoder {
  protected readonly limits: DecodeLimits = DEFAULT_DECODE_LIMITS;

  override add(frame: unknown): void {
    if (!(frame instanceof Uint8Array || frame instanceof ArrayBuffer)) throw new Error('msgpack packets travel in binary frames');
    const packet = decode(frame instanceof ArrayBuffer ? new Uint8Array(frame) : frame, this.limits);
    if (packet === null || typeof packet !== 'object' || Array.isArray(packet)) throw new Error('invalid packet');
    this.checkPacket(packet);
    this.emit('decoded', packet);
  }
}

/** Pass as `parser` to socket.io's Server and to socket.io-client's `io()`. */
export const msgpackParser = { Encoder, Decoder };

/** The same parser with a Decoder bounded by `limits` (the Encoder is msgpackParser's own). */
export function msgpackParserWith(limits: DecodeLimits): { Encoder: typeof Encoder; Decoder: typeof Decoder } {
  class BoundedDecoder extends Decoder {
    protected override readonly limits = limits;
  }
  return { Encoder, Decoder: BoundedDecoder };
}
