/**
 * The msgpack codec of the relay's wire (this file decodes; msgpack-encode.ts encodes), shared by the relay, the SDK (Node and browser), the
 * tests and the benchmark. It reads and writes what notepack.io (socket.io-msgpack-parser's
 * codec) does, so stock clients interoperate, with these differences, each on purpose:
 * - every byte array (any ArrayBuffer view, or an ArrayBuffer) leaves as msgpack bin of exactly
 *   its own bytes; bin arrives as a plain Uint8Array over the frame, ext type 0 (a stock Node
 *   sender's Uint8Array) as a plain Uint8Array copy;
 * - decoding is one pass that checks every declared length against the bytes left before it
 *   allocates anything, so a 6-byte frame cannot declare 4 GiB;
 * - a map key `__proto__` is refused (assigned one by one, it would set the object's prototype);
 * - nesting deeper than MAX_DEPTH is refused both ways instead of overflowing the stack;
 * - decoding does bounded work: an array or map header declaring more items than the caller's
 *   DecodeLimits allow, or a frame holding more values in all, is refused when its header is
 *   read, before anything is allocated (the relay passes limits sized to its largest packet:
 *   server/gateway/wire.ts);
 * - integers beyond ±2^53 are written as float64, which is what they are in JavaScript.
 * Why not notepack.io itself: with the checks above wrapped around it, it took ~13 % of the
 * relay's event loop under chat load; one checking pass, Node's UTF-8 slicer and the key cache
 * below cut decoding to a third (README "Performance").
 */

import { MAX_DEPTH, MsgpackError, NodeBuffer } from './msgpack-common.js';

export { MsgpackError } from './msgpack-common.js';
export { encode } from './msgpack-encode.js';

/** Bounds on what one decode may build; each is checked before the container it limits is allocated. */
export interface DecodeLimits {
  /** Deepest nesting of arrays and maps (at most MAX_DEPTH). */
  readonly maxDepth: number;
  /** Most items one array header may declare. */
  readonly maxArrayLength: number;
  /** Most key-value pairs one map header may declare. */
  readonly maxMapPairs: number;
  /** Most values (scalars, arrays, maps, map keys) in one frame. */
  readonly maxValues: number;
}

/** Generous for any packet of the wire, tight enough that no header can make a decode run long (1 Mi values at most). */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxDepth: MAX_DEPTH, maxArrayLength: 65_536, maxMapPairs: 4_096, maxValues: 1 << 20 };

const shorter = (): MsgpackError => new MsgpackError('msgpack: the frame is shorter than it declares');

// ---------------------------------------------------------------- decoding
// The frame being decoded; decode() is synchronous and calls no user code, so one set serves.
let src: Uint8Array = new Uint8Array(0);
let at = 0;
let end = 0;
let limits: DecodeLimits = DEFAULT_DECODE_LIMITS;
/** Values still allowed in this frame (limits.maxValues, counted down as headers declare them). */
let budget = 0;

const textDecoder = new TextDecoder();
/** Node's own UTF-8 slicer (what Buffer#toString ends in, without its argument handling); works on any Uint8Array. */
const nodeUtf8Slice = (NodeBuffer?.prototype as unknown as { utf8Slice?: (this: Uint8Array, from: number, to: number) => string } | undefined)?.utf8Slice;
const utf8Slice: (bytes: Uint8Array, from: number, to: number) => string = nodeUtf8Slice
  ? (bytes, from, to) => nodeUtf8Slice.call(bytes, from, to)
  : (bytes, from, to) => textDecoder.decode(bytes.subarray(from, to));

/** Decodes one msgpack value that fills `bytes` exactly. Throws MsgpackError on anything else. */
export function decode(bytes: Uint8Array, bounds: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  src = bytes;
  at = 0;
  end = bytes.length;
  limits = bounds;
  budget = bounds.maxValues - 1;
  try {
    const value = read(0);
    if (at !== end) throw new MsgpackError(`msgpack: ${end - at} trailing bytes`);
    return value;
  } finally {
    src = EMPTY; // do not keep the last frame alive
    limits = DEFAULT_DECODE_LIMITS;
  }
}
const EMPTY: Uint8Array = new Uint8Array(0);

function uint(size: 1 | 2 | 4): number {
  if (size > end - at) throw shorter();
  let n = src[at]!;
  for (let i = 1; i < size; i++) n = n * 256 + src[at + i]!;
  at += size;
  return n;
}

function float(size: 4 | 8): number {
  if (size > end - at) throw shorter();
  const view = new DataView(src.buffer, src.byteOffset + at, size);
  at += size;
  return size === 4 ? view.getFloat32(0) : view.getFloat64(0);
}

function read(depth: number): unknown {
  if (at >= end) throw shorter();
  const type = src[at++]!;
  if (type < 0x80) return type;
  if (type < 0x90) return readMap(type & 0x0f, depth);
  if (type < 0xa0) return readArray(type & 0x0f, depth);
  if (type < 0xc0) return readString(type & 0x1f);
  if (type >= 0xe0) return type - 0x100;
  switch (type) {
    case 0xc0: return null;
    case 0xc2: return false;
    case 0xc3: return true;
    case 0xc4: return readBin(uint(1));
    case 0xc5: return readBin(uint(2));
    case 0xc6: return readBin(uint(4));
    case 0xc7: return readExt(uint(1));
    case 0xc8: return readExt(uint(2));
    case 0xc9: return readExt(uint(4));
    case 0xca: return float(4);
    case 0xcb: return float(8);
    case 0xcc: return uint(1);
    case 0xcd: return uint(2);
    case 0xce: return uint(4);
    case 0xcf: return uint(4) * 2 ** 32 + uint(4);
    case 0xd0: return (uint(1) << 24) >> 24;
    case 0xd1: return (uint(2) << 16) >> 16;
    case 0xd2: return uint(4) | 0;
    case 0xd3: return (uint(4) | 0) * 2 ** 32 + uint(4);
    case 0xd4: return readFixExt(1);
    case 0xd5: return readFixExt(2);
    case 0xd6: return readFixExt(4);
    case 0xd7: return readFixExt(8);
    case 0xd8: return readFixExt(16);
    case 0xd9: return readString(uint(1));
    case 0xda: return readString(uint(2));
    case 0xdb: return readString(uint(4));
    case 0xdc: return readArray(uint(2), depth);
    case 0xdd: return readArray(uint(4), depth);
    case 0xde: return readMap(uint(2), depth);
    case 0xdf: return readMap(uint(4), depth);
  }
  throw new MsgpackError(`msgpack: unknown type 0x${type.toString(16)}`);
}

/** Charges `count` values to the frame's budget; refuses when they exceed it. */
function spend(count: number): void {
  budget -= count;
  if (budget < 0) throw new MsgpackError('msgpack: too many values');
}

function readArray(length: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH || depth >= limits.maxDepth) throw new MsgpackError('msgpack: nested too deeply');
  if (length > end - at) throw shorter(); // every value takes a byte at least
  if (length > limits.maxArrayLength) throw new MsgpackError(`msgpack: an array of more than ${limits.maxArrayLength} items`);
  spend(length);
  const array = new Array<unknown>(length);
  for (let i = 0; i < length; i++) array[i] = read(depth + 1);
  return array;
}

function readMap(pairs: number, depth: number): Record<string, unknown> {
  if (depth >= MAX_DEPTH || depth >= limits.maxDepth) throw new MsgpackError('msgpack: nested too deeply');
  if (pairs > (end - at) / 2) throw shorter();
  if (pairs > limits.maxMapPairs) throw new MsgpackError(`msgpack: a map of more than ${limits.maxMapPairs} keys`);
  spend(2 * pairs);
  const map: Record<string, unknown> = {};
  for (let i = 0; i < pairs; i++) {
    const type = at < end ? src[at]! : 0;
    let key: string;
    if (type >= 0xa0 && type < 0xc0) {
      at++;
      key = readKey(type & 0x1f);
    } else key = String(read(depth + 1)); // as notepack: any value, as its property name
    if (key === '__proto__') throw new MsgpackError('msgpack: a map sets __proto__');
    map[key] = read(depth + 1);
  }
  return map;
}

function readString(length: number): string {
  if (length > end - at) throw shorter();
  const text = length === 0 ? '' : utf8Slice(src, at, at + length);
  at += length;
  return text;
}

/**
 * Map keys are few and repeat in every packet (type, data, nsp, id, to, body, upTo, …): the same
 * string object comes back for the same bytes, already interned by its first use as a property
 * name. Bounded: one slot per hash, a collision replaces the slot.
 */
const KEY_SLOTS = 1024;
const MAX_CACHED_KEY = 16;
const keyBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(KEY_SLOTS);
const keyTexts: string[] = new Array<string>(KEY_SLOTS);

function readKey(length: number): string {
  if (length > end - at) throw shorter();
  if (length > MAX_CACHED_KEY || length === 0) return readString(length);
  let hash = length;
  for (let i = 0; i < length; i++) hash = (hash * 31 + src[at + i]!) | 0;
  const slot = hash & (KEY_SLOTS - 1);
  const cached = keyBytes[slot];
  if (cached !== undefined && cached.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (cached[i] !== src[at + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      at += length;
      return keyTexts[slot]!;
    }
  }
  keyBytes[slot] = src.slice(at, at + length);
  const text = readString(length);
  keyTexts[slot] = text;
  return text;
}

function readBin(length: number): Uint8Array {
  if (length > end - at) throw shorter();
  const bytes = new Uint8Array(src.buffer, src.byteOffset + at, length);
  at += length;
  return bytes;
}

function readExt(length: number): unknown {
  if (length + 1 > end - at) throw shorter();
  const type = (src[at++]! << 24) >> 24;
  if (type === 0) {
    const copy = new Uint8Array(length);
    copy.set(src.subarray(at, at + length));
    at += length;
    return copy;
  }
  return [type, readBin(length)];
}

function readFixExt(length: number): unknown {
  if (length + 1 > end - at) throw shorter();
  const type = (src[at++]! << 24) >> 24;
  if (type === 0 && length === 1) {
    at += 1;
    return undefined;
  }
  if (type === 0 && length === 8) return new Date((uint(4) | 0) * 2 ** 32 + uint(4));
  return [type, readBin(length)];
}
