/**
 * The Socket.IO parser of the relay's wire, shared by the relay, the SDK (Node and browser), the
 * tests and the benchmark: socket.io-msgpack-parser, so an event and its binary bodies travel as
 * ONE binary WebSocket frame (the stock parser sends a header frame plus one frame per body).
 * Stock socket.io-msgpack-parser clients interoperate; this wrapper only fixes three things:
 * - bodies leave as msgpack bin whatever kind of byte array the caller holds;
 * - bodies arrive as plain Uint8Arrays on every platform, where notepack.io hands out a Buffer
 *   or an ArrayBuffer depending on platform and sender;
 * - a frame declaring more bytes than it holds is refused before notepack.io allocates them;
 * - a map with a `__proto__` key is refused: notepack.io assigns keys one by one, so that key
 *   would set the decoded object's prototype, and fields read through it would be inherited.
 */
import * as msgpack from 'socket.io-msgpack-parser';

/** Byte arrays sit at most 3 levels into an event's arguments: ['send', [envelope, …]] → body. */
const MAX_DEPTH = 3;

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/**
 * notepack.io writes msgpack bin for a Buffer in Node and for an ArrayBuffer in browsers (its
 * browser build); any other byte array would become an extension in Node (of its whole
 * underlying buffer, not the view: bytes next to the body would leak) or a map of numbers in
 * browsers. Returns `bytes` itself when it is already in that form.
 */
const toBin: (bytes: Uint8Array | ArrayBuffer) => unknown = NodeBuffer
  ? (bytes) => (NodeBuffer.isBuffer(bytes) ? bytes : bytes instanceof ArrayBuffer ? NodeBuffer.from(bytes) : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  : (bytes) => (bytes instanceof ArrayBuffer ? bytes : bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer);

/** The caller's value with every byte array in bin form; copies only what it has to change (the caller may reuse its objects). */
function withBins(value: unknown, depth = 0): unknown {
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return toBin(value);
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  const record = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const after = withBins(record[key], depth + 1);
    if (after !== record[key]) (copy ??= (Array.isArray(record) ? [...record] : { ...record }) as Record<string, unknown>)[key] = after;
  }
  return copy ?? value;
}

/**
 * notepack.io decodes bin as a Buffer in Node but as an ArrayBuffer in browsers, and a stock Node
 * sender's Uint8Array (ext 0) as an ArrayBuffer: each becomes a plain Uint8Array over the same
 * bytes. In place: the packet was just decoded, nobody else holds it.
 */
function viewBinaries(value: unknown, depth = 0): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (item instanceof ArrayBuffer) record[key] = new Uint8Array(item);
    else if (item instanceof Uint8Array) record[key] = new Uint8Array(item.buffer, item.byteOffset, item.byteLength);
    else viewBinaries(item, depth + 1);
  }
}

const PROTO_KEY = new TextEncoder().encode('__proto__');

/** Whether `frame` holds the bytes of "__proto__" anywhere (natively in Node): only then is a decoded packet walked for it. */
const mentionsProto: (frame: Uint8Array) => boolean = NodeBuffer
  ? (frame) => NodeBuffer.from(frame.buffer, frame.byteOffset, frame.byteLength).includes('__proto__')
  : (frame) => {
      for (let at = frame.indexOf(PROTO_KEY[0]!); at !== -1 && at + PROTO_KEY.length <= frame.length; at = frame.indexOf(PROTO_KEY[0]!, at + 1)) {
        if (PROTO_KEY.every((byte, i) => frame[at + i] === byte)) return true;
      }
      return false;
    };

/** Throws if any object in the decoded value has a prototype other than a plain object's or array's. */
function assertPlain(value: unknown): void {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  if (Array.isArray(value)) {
    for (const item of value) assertPlain(item);
    return;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) throw new Error('msgpack: a map sets __proto__');
  // Own keys only: the prototype is Object.prototype, which has no enumerable ones.
  for (const key in value) assertPlain((value as Record<string, unknown>)[key]);
}

/** A lookup table for the type bytes 0xc0–0xdf (index: type − 0xc0). */
function byType<T>(entries: Record<number, T>): readonly (T | undefined)[] {
  return Array.from({ length: 0x20 }, (_, i) => entries[0xc0 + i]);
}
/** Types whose header carries a length: [bytes of that field, what it counts]. */
const LENGTH_FIELDS = byType<readonly [number, 'bytes' | 'ext' | 'values' | 'pairs']>({
  0xc4: [1, 'bytes'], 0xc5: [2, 'bytes'], 0xc6: [4, 'bytes'], // bin
  0xc7: [1, 'ext'], 0xc8: [2, 'ext'], 0xc9: [4, 'ext'], // ext: a type byte, then the data
  0xd9: [1, 'bytes'], 0xda: [2, 'bytes'], 0xdb: [4, 'bytes'], // str
  0xdc: [2, 'values'], 0xdd: [4, 'values'], // array
  0xde: [2, 'pairs'], 0xdf: [4, 'pairs'], // map
});
/** Types of fixed size: bytes after the type byte (nil, booleans, numbers, fixext). */
const FIXED_SIZES = byType<number>({
  0xc0: 0, 0xc2: 0, 0xc3: 0, 0xca: 4, 0xcb: 8, 0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8,
  0xd0: 1, 0xd1: 2, 0xd2: 4, 0xd3: 8, 0xd4: 2, 0xd5: 3, 0xd6: 5, 0xd7: 9, 0xd8: 17,
});

const shorter = (): Error => new Error('msgpack: the frame is shorter than it declares');

/**
 * notepack.io's Node decoder allocates and fills an ArrayBuffer of the length an ext header
 * DECLARES before it notices the frame is shorter: a 6-byte frame declaring 4 GiB blocks the
 * event loop for over a minute. So the headers are walked first (payloads skipped): every
 * length must fit in the frame, and every array or map cannot hold more values than bytes left.
 */
export function assertLengthsFit(frame: Uint8Array): void {
  const end = frame.length;
  let at = 0;
  let values = 1;
  while (values > 0) {
    values -= 1;
    if (at >= end) throw shorter();
    const type = frame[at++]!;
    let skip = 0; // fixints (< 0x80, ≥ 0xe0) are their type byte alone
    if (type >= 0x80 && type < 0x90) values += 2 * (type & 0x0f); // fixmap
    else if (type >= 0x90 && type < 0xa0) values += type & 0x0f; // fixarray
    else if (type >= 0xa0 && type < 0xc0) skip = type & 0x1f; // fixstr
    else if (type >= 0xc0 && type < 0xe0) {
      const fixed = FIXED_SIZES[type - 0xc0];
      const field = LENGTH_FIELDS[type - 0xc0];
      if (fixed !== undefined) skip = fixed;
      else if (field === undefined) throw new Error(`msgpack: unknown type 0x${type.toString(16)}`);
      else {
        const [size, counts] = field;
        if (at + size > end) throw shorter();
        let n = 0;
        for (let i = 0; i < size; i++) n = n * 256 + frame[at + i]!;
        at += size;
        if (counts === 'bytes') skip = n;
        else if (counts === 'ext') skip = n + 1;
        else values += counts === 'values' ? n : 2 * n;
      }
    }
    at += skip;
    if (at > end || values > end - at) throw shorter();
  }
}

class Encoder extends msgpack.Encoder {
  override encode(packet: { data?: unknown }): ArrayBuffer {
    const data = withBins(packet.data);
    return super.encode(data === packet.data ? packet : { ...packet, data });
  }
}

class Decoder extends msgpack.Decoder {
  /** Set while decoding a frame that holds the bytes of "__proto__". */
  #mentionsProto = false;

  override add(frame: unknown): void {
    if (!(frame instanceof Uint8Array || frame instanceof ArrayBuffer)) throw new Error('msgpack packets travel in binary frames');
    const bytes = frame instanceof ArrayBuffer ? new Uint8Array(frame) : frame;
    assertLengthsFit(bytes);
    this.#mentionsProto = mentionsProto(bytes);
    super.add(frame);
  }

  /** Runs on each packet between decoding and emitting it. */
  override checkPacket(packet: { data?: unknown }): void {
    super.checkPacket(packet);
    if (this.#mentionsProto) assertPlain(packet);
    viewBinaries(packet.data);
  }
}

/** Pass as `parser` to socket.io's Server and to socket.io-client's `io()`. */
export const msgpackParser = { Encoder, Decoder };
