/**
 * The wire's msgpack codec (protocol/msgpack.ts) against notepack.io, the codec of stock
 * socket.io-msgpack-parser clients: the same bytes for the values both write alike, each side
 * reading the other's, and the refusals notepack.io lacks (short frames, deep nesting,
 * `__proto__` keys, unknown types, trailing bytes).
 */
import fc from 'fast-check';
// @ts-expect-error notepack.io ships no types; only encode and decode are used.
import * as notepack from 'notepack.io';
import { describe, expect, it } from 'vitest';
import { decode, encode } from '../../protocol/msgpack.js';

const stock = notepack as unknown as { encode(value: unknown): Buffer; decode(bytes: Uint8Array): unknown };

/** Values both codecs write byte for byte alike: no byte arrays, integers within ±2^53. */
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ maxLength: 300 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.maxSafeInteger(),
    fc.maxSafeNat().map((n) => (n === 0 ? 0 : -n)),
    // notepack.io garbles larger integers; both write -0 as the integer 0.
    fc.double().filter((d) => (!Number.isInteger(d) || Number.isSafeInteger(d)) && !Object.is(d, -0)),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(fc.string({ maxLength: 20 }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 20 }),
  ),
})).value;

/** With byte arrays inside, which this codec reads back as plain Uint8Arrays. */
const valueWithBytes = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    plainValue,
    fc.uint8Array({ maxLength: 2000 }),
    fc.array(tie('value'), { maxLength: 8 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 8 }),
  ),
})).value;

/** Buffers as plain Uint8Arrays, to compare notepack.io's reading with ours. */
function plainBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(plainBytes);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainBytes(v)]));
  return value;
}

describe('msgpack codec', () => {
  it('writes what notepack.io writes, and each reads the other', () => {
    fc.assert(
      fc.property(plainValue, (value) => {
        const ours = encode(value);
        expect(Buffer.from(ours)).toEqual(stock.encode(value));
        expect(decode(ours)).toEqual(value);
        expect(decode(stock.encode(value))).toEqual(value);
      }),
      { numRuns: 400 },
    );
  });

  it('sends every byte array as bin of its own bytes and reads bin and ext 0 as plain Uint8Arrays', () => {
    fc.assert(
      fc.property(valueWithBytes, (value) => {
        const ours = encode(value);
        expect(plainBytes(decode(ours))).toEqual(plainBytes(value));
        expect(plainBytes(stock.decode(ours))).toEqual(plainBytes(value));
        // notepack.io writes a Uint8Array as ext 0 (of its whole ArrayBuffer: here its own bytes).
        expect(plainBytes(decode(stock.encode(value)))).toEqual(plainBytes(value));
      }),
      { numRuns: 300 },
    );
    const whole = Uint8Array.from({ length: 32 }, (_, i) => i);
    for (const view of [whole.subarray(4, 12), new DataView(whole.buffer, 4, 8), Buffer.from(whole.subarray(4, 12))]) {
      expect([...encode(view)]).toEqual([0xc4, 8, 4, 5, 6, 7, 8, 9, 10, 11]);
    }
    expect([...encode(whole.slice(4, 6).buffer)]).toEqual([0xc4, 2, 4, 5]);
    const read = decode(encode({ body: whole })) as { body: Uint8Array };
    expect(read.body.constructor).toBe(Uint8Array);
  });

  it('keeps reading the right keys when many distinct keys share the key cache', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => `k${i.toString(36)}`);
    for (let round = 0; round < 2; round++) {
      for (const key of keys) expect(Object.keys(decode(encode({ [key]: 1, type: 2 })) as object)).toEqual([key, 'type']);
    }
  });

  it('writes integers past ±2^53 as float64, dates and undefined as notepack.io does', () => {
    expect([...encode(-0)]).toEqual([0]);
    expect(decode(encode(2 ** 60))).toBe(2 ** 60);
    expect(encode(2 ** 60)[0]).toBe(0xcb);
    expect(decode(encode(-(2 ** 60)))).toBe(-(2 ** 60));
    const date = new Date(1_790_000_000_123);
    expect(Buffer.from(encode(date))).toEqual(stock.encode(date));
    expect(decode(encode(date))).toEqual(date);
    expect(decode(encode([undefined, { a: undefined }]))).toEqual([undefined, { a: undefined }]);
    expect(decode(encode({ keep: 1, method: () => 1 }))).toEqual({ keep: 1 });
    expect(decode(encode({ toJSON: () => 'as json' }))).toBe('as json');
  });

  it('survives a toJSON that encodes while it is encoding', () => {
    const inner = { toJSON: () => Buffer.from(encode({ x: 'inner' })).toString('hex') };
    const value = decode(encode({ before: 'a'.repeat(100), inner, after: [1, 2, 3] }));
    expect(value).toEqual({ before: 'a'.repeat(100), inner: Buffer.from(stock.encode({ x: 'inner' })).toString('hex'), after: [1, 2, 3] });
  });

  it('refuses what cannot be written: bigint, symbol, function, cycles', () => {
    expect(() => encode(1n)).toThrow(/bigint/);
    expect(() => encode(Symbol('s'))).toThrow(/symbol/);
    expect(() => encode([() => 1])).toThrow(/function/);
    const cycle: unknown[] = [];
    cycle.push(cycle);
    expect(() => encode(cycle)).toThrow(/deeply/);
  });

  it('refuses frames shorter than declared, before allocating what they declare', () => {
    fc.assert(
      fc.property(valueWithBytes, fc.nat(), (value, cutAt) => {
        const frame = encode(value);
        const cut = cutAt % frame.length;
        expect(() => decode(frame.subarray(0, cut))).toThrow(/shorter/);
      }),
      { numRuns: 300 },
    );
    // 4 GiB declared by 6-byte frames: bin, ext, str, array and map of 32-bit length.
    for (const type of [0xc6, 0xc9, 0xdb, 0xdd, 0xdf]) expect(() => decode(Uint8Array.from([type, 0xff, 0xff, 0xff, 0xff, 0]))).toThrow(/shorter/);
  });

  it('refuses __proto__ keys however they are spelled, deep nesting, unknown types and trailing bytes', () => {
    const str = (text: string): number[] => [0xa0 + text.length, ...Buffer.from(text)];
    const proto = Buffer.from('__proto__');
    // fixstr, str8, and an array key whose property name is "__proto__".
    for (const key of [[...str('__proto__')], [0xd9, proto.length, ...proto], [0x91, ...str('__proto__')]]) {
      expect(() => decode(Uint8Array.from([0x82, ...str('id'), ...str('x'), ...key, 0x81, ...str('to'), ...str('y')]))).toThrow(/__proto__/);
    }
    expect(() => decode(Uint8Array.from(Array.from({ length: 100 }, () => 0x91).concat([1])))).toThrow(/deeply/);
    expect(decode(Uint8Array.from(Array.from({ length: 60 }, () => 0x91).concat([1])))).toBeInstanceOf(Array);
    expect(() => decode(Uint8Array.from([0xc1]))).toThrow(/unknown type/);
    expect(() => decode(Uint8Array.from([0x01, 0x02]))).toThrow(/trailing/);
  });
});
