/** The msgpack encoder of the relay's wire; what it writes and why is at the top of msgpack.ts. */
import { MAX_DEPTH, MsgpackError, NodeBuffer } from './msgpack-common.js';

// ---------------------------------------------------------------- encoding
const textEncoder = new TextEncoder();
const newBytes = (size: number): Uint8Array => (NodeBuffer ? NodeBuffer.allocUnsafeSlow(size) : new Uint8Array(size));
/** Reused between calls; each result is a copy of its part, as Socket.IO may hold it while queued. */
let scratch = newBytes(16 * 1024);
let out = scratch;
let pos = 0;
let encoding = false;

/** Encodes `value` as msgpack. Throws MsgpackError on what msgpack cannot hold (bigint, symbol, function, cycles). */
export function encode(value: unknown): Uint8Array {
  // A toJSON() that encodes would clobber the shared buffer: nested calls get their own.
  const nested = encoding;
  const outerOut = out;
  const outerPos = pos;
  out = nested ? newBytes(256) : scratch;
  pos = 0;
  encoding = true;
  try {
    write(value, 0);
    if (!NodeBuffer) return out.slice(0, pos);
    const result = NodeBuffer.allocUnsafe(pos);
    (out as Buffer).copy(result, 0, 0, pos);
    return result;
  } finally {
    if (!nested) scratch = out; // keep the grown buffer
    out = outerOut;
    pos = outerPos;
    encoding = nested;
  }
}

function room(bytes: number): void {
  if (pos + bytes <= out.length) return;
  const grown = newBytes(Math.max(out.length * 2, pos + bytes));
  grown.set(out.subarray(0, pos));
  out = grown;
}

function put(type: number, size: 0 | 1 | 2 | 4, n: number): void {
  room(1 + size);
  out[pos++] = type;
  if (size === 4) {
    out[pos++] = n >>> 24;
    out[pos++] = n >>> 16;
  }
  if (size >= 2) out[pos++] = n >>> 8;
  if (size >= 1) out[pos++] = n;
}

/** A length header: the fix form below `fixLimit`, else the 8-, 16- or 32-bit form (no 8-bit form when `type8` is 0). */
function header(n: number, fixType: number, fixLimit: number, type8: number, type16: number, type32: number): void {
  if (n < fixLimit) put(fixType | n, 0, 0);
  else if (type8 !== 0 && n < 0x100) put(type8, 1, n);
  else if (n < 0x10000) put(type16, 2, n);
  else if (n <= 0xffffffff) put(type32, 4, n);
  else throw new MsgpackError('msgpack: too long');
}

function write(value: unknown, depth: number): void {
  switch (typeof value) {
    case 'string':
      return writeString(value);
    case 'number':
      return writeNumber(value);
    case 'boolean':
      return put(value ? 0xc3 : 0xc2, 0, 0);
    case 'undefined':
      room(3);
      out[pos++] = 0xd4;
      out[pos++] = 0;
      out[pos++] = 0;
      return;
    case 'object':
      if (value === null) return put(0xc0, 0, 0);
      if (depth >= MAX_DEPTH) throw new MsgpackError('msgpack: nested too deeply');
      if (Array.isArray(value)) {
        header(value.length, 0x90, 0x10, 0, 0xdc, 0xdd);
        for (const item of value as unknown[]) write(item, depth + 1);
        return;
      }
      if (ArrayBuffer.isView(value)) return writeBin(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      if (value instanceof ArrayBuffer) return writeBin(new Uint8Array(value));
      if (value instanceof Date) return writeDate(value.getTime());
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return write((value as { toJSON: () => unknown }).toJSON(), depth + 1);
      return writeMap(value as Record<string, unknown>, depth);
    default:
      throw new MsgpackError(`msgpack: cannot encode a ${typeof value}`);
  }
}

function writeMap(map: Record<string, unknown>, depth: number): void {
  const keys = Object.keys(map);
  let count = 0;
  for (const key of keys) if (typeof map[key] !== 'function') count++; // as JSON and notepack: methods are not data
  header(count, 0x80, 0x10, 0, 0xde, 0xdf);
  for (const key of keys) {
    const item = map[key];
    if (typeof item === 'function') continue;
    writeString(key);
    write(item, depth + 1);
  }
}

function writeString(text: string): void {
  if (text.length < 0x20) {
    // Short strings (keys, ids): measured and written by hand, ASCII in one loop.
    let ascii = true;
    for (let i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      room(1 + text.length);
      out[pos++] = 0xa0 | text.length;
      for (let i = 0; i < text.length; i++) out[pos++] = text.charCodeAt(i);
      return;
    }
  }
  if (NodeBuffer) {
    const length = NodeBuffer.byteLength(text);
    header(length, 0xa0, 0x20, 0xd9, 0xda, 0xdb);
    room(length);
    pos += (out as Buffer).write(text, pos, length, 'utf8');
    return;
  }
  const bytes = textEncoder.encode(text);
  header(bytes.length, 0xa0, 0x20, 0xd9, 0xda, 0xdb);
  room(bytes.length);
  out.set(bytes, pos);
  pos += bytes.length;
}

function writeNumber(n: number): void {
  if (!Number.isSafeInteger(n)) {
    room(9);
    out[pos++] = 0xcb;
    new DataView(out.buffer, out.byteOffset + pos, 8).setFloat64(0, n);
    pos += 8;
    return;
  }
  if (n >= 0) {
    if (n < 0x80) return put(n, 0, 0);
    if (n < 0x100) return put(0xcc, 1, n);
    if (n < 0x10000) return put(0xcd, 2, n);
    if (n <= 0xffffffff) return put(0xce, 4, n);
    return put64(0xcf, n);
  }
  if (n >= -0x20) return put(n & 0xff, 0, 0);
  if (n >= -0x80) return put(0xd0, 1, n & 0xff);
  if (n >= -0x8000) return put(0xd1, 2, n & 0xffff);
  if (n >= -0x80000000) return put(0xd2, 4, n >>> 0);
  return put64(0xd3, n);
}

/** uint64/int64 of a safe integer: the high word is floor(n / 2^32), two's complement when negative. */
function put64(type: number, n: number): void {
  put(type, 4, Math.floor(n / 2 ** 32) >>> 0);
  putUint32(n >>> 0);
}
function putUint32(n: number): void {
  room(4);
  out[pos++] = n >>> 24;
  out[pos++] = n >>> 16;
  out[pos++] = n >>> 8;
  out[pos++] = n;
}

/** As notepack: fixext 8, type 0, the milliseconds as int64. */
function writeDate(time: number): void {
  put(0xd7, 1, 0);
  putUint32(Math.floor(time / 2 ** 32) >>> 0);
  putUint32(time >>> 0);
}

function writeBin(bytes: Uint8Array): void {
  header(bytes.length, 0, 0, 0xc4, 0xc5, 0xc6);
  room(bytes.length);
  out.set(bytes, pos);
  pos += bytes.length;
}
