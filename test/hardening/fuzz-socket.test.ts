/**
 * Property-based fuzzing (fast-check) of the Socket.IO surface of a relay running as a child
 * process: random, malformed, wrongly typed, oversized payloads to `send` and `ack`, unknown
 * events, events without ack callbacks, raw frames (msgpack packets of the wrong shape,
 * truncated, mutated or declaring more bytes than they hold, and frames that are not msgpack at
 * all), and garbage handshake `auth`. Every ack must be typed, every refused handshake must carry a known code,
 * and afterwards the process is alive, stored nothing, and serves a normal exchange.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../server/errors.js';
import { gatewayBufferBytes } from '../../server/gateway/plugin.js';
import { msgpackParser } from '../../protocol/msgpack-parser.js';
import { emitRaw } from '../support/envelopes.js';
import { CLOSED_BEFORE_CONNECTING, connectDevice, connectWith, handshakeAuth, randomId, type ClientSocket } from '../support/identity.js';
import { expectStillServing, isTypedAck, startFuzzRelay, stopFuzzRelay, type FuzzRelay } from './fuzz-support.js';

const RUNS = { send: 2000, ack: 1500, unknownEvents: 1000, noAck: 1000, rawFrames: 600, handshake: 800 };
const tried: Record<string, number> = {};

let f: FuzzRelay;
let socket: ClientSocket;

beforeAll(async () => {
  f = await startFuzzRelay();
  socket = await connectDevice(f.relay.url, f.alice.devices[0]!);
}, 30_000);
afterAll(async () => {
  socket?.close();
  console.log(`[fuzz-socket] cases per target: ${JSON.stringify(tried)}`);
  await stopFuzzRelay(f);
});

/** A live socket for the next case (a transport-level refusal may have closed the last one). */
async function live(): Promise<ClientSocket> {
  if (!socket.connected) {
    socket.close();
    socket = await connectDevice(f.relay.url, f.alice.devices[0]!);
  }
  return socket;
}

/** msgpack bytes of a packet, as a client's encoder writes it. */
function packetBytes(packet: object): Buffer {
  return (new msgpackParser.Encoder().encode(packet) as unknown as Buffer[])[0]!;
}

/** The relay's largest frame for the fuzz relay's limits (server/gateway/plugin.ts); a larger one closes the connection. */
const MAX_FRAME = gatewayBufferBytes(16, 2048);
/** An event's frame vs MAX_FRAME; within a few bytes of it the ack id's size decides, so either outcome is fine. */
function frameSize(args: unknown[]): 'fits' | 'too large' | 'borderline' {
  const bytes = packetBytes({ type: 2, nsp: '/', data: args }).length;
  return bytes > MAX_FRAME ? 'too large' : bytes > MAX_FRAME - 16 ? 'borderline' : 'fits';
}

/** Whether a map in `value` has an own `__proto__` key: the relay refuses that frame and closes the connection (docs/relay-api.md). */
function setsProto(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return false;
  if (!Array.isArray(value) && Object.prototype.hasOwnProperty.call(value, '__proto__')) return true;
  return Object.values(value).some(setsProto);
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
/** 43 base64url characters: device-id shaped, but never one of the registered devices. */
const key32ish = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const idish = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), fc.string(), fc.constant(''));
const wrong = fc.oneof(fc.anything(), bytes(64), fc.constant(null), fc.constant(undefined), fc.double(), fc.bigInt().map(String));

const envelopeish = fc.record(
  {
    to: fc.oneof(key32ish, fc.string(), wrong),
    id: fc.oneof(idish, wrong),
    body: fc.oneof(bytes(64), bytes(2048), fc.integer({ min: 2049, max: 6000 }).map((n) => new Uint8Array(n)), fc.string(), wrong),
    ephemeral: fc.oneof(fc.boolean(), wrong),
    extra: wrong,
  },
  { requiredKeys: [] },
);
const sendPayload = fc.oneof(
  { weight: 3, arbitrary: envelopeish },
  { weight: 2, arbitrary: fc.array(envelopeish, { maxLength: 20 }) },
  { weight: 1, arbitrary: fc.array(fc.constant({ to: 'A'.repeat(43), id: 'A'.repeat(22), body: new Uint8Array(1) }), { minLength: 17, maxLength: 40 }) },
  // Up to 80 maximal bodies: from a batch over the cap to a frame over maxHttpBufferSize.
  { weight: 1, arbitrary: fc.array(fc.constant({ to: 'A'.repeat(43), id: 'A'.repeat(22), body: new Uint8Array(2048) }), { minLength: 17, maxLength: 80, size: 'max' }) },
  { weight: 2, arbitrary: wrong },
);
const ackPayload = fc.oneof(
  fc.record({ upTo: fc.oneof(fc.integer(), fc.double(), fc.string(), wrong) }, { requiredKeys: [] }),
  fc.record({ ids: fc.oneof(fc.array(idish, { maxLength: 1200 }), wrong) }, { requiredKeys: [] }),
  fc.record({ upTo: fc.integer(), ids: fc.array(idish, { maxLength: 3 }) }),
  wrong,
);

describe('socket events', () => {
  it('answers every send payload with a typed ack', async () => {
    let n = 0;
    let oversizedFrames = 0;
    let protoFrames = 0;
    await fc.assert(
      fc.asyncProperty(sendPayload, async (payload) => {
        n += 1;
        const s = await live();
        const size = frameSize(['send', payload]);
        if (size === 'borderline') return;
        if (size === 'too large' || setsProto(payload)) {
          // Refused by the transport or the parser before any handler: the connection is
          // closed. Nothing is buffered or stored.
          await expect(emitRaw(s, 'send', [payload], 5000)).rejects.toThrow(/disconnected/);
          if (size === 'too large') oversizedFrames += 1;
          else protoFrames += 1;
          return;
        }
        const reply = await emitRaw(s, 'send', [payload], 5000);
        expect(isTypedAck(reply), JSON.stringify(reply)).toBe(true);
        // Nothing a fuzzer builds addresses a registered device, so nothing may be accepted.
        const failed = (reply as { ok: boolean; failed?: unknown[] }).failed;
        if ((reply as { ok: boolean }).ok) expect(failed?.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS.send },
    );
    tried.send = n;
    tried.sendClosedForFrameSize = oversizedFrames;
    tried.sendClosedForProtoKey = protoFrames;
  }, 60_000);

  it('answers every ack payload with a typed ack', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(ackPayload, async (payload) => {
        n += 1;
        const sent = emitRaw(await live(), 'ack', [payload], 5000);
        if (setsProto(payload)) await expect(sent).rejects.toThrow(/disconnected/);
        else expect(isTypedAck(await sent)).toBe(true);
      }),
      { numRuns: RUNS.ack },
    );
    tried.ack = n;
  }, 60_000);

  it('refuses unknown events with a typed ack', async () => {
    let n = 0;
    const name = fc.string({ maxLength: 40 }).filter((s) => !['send', 'ack', 'connect', 'disconnect', 'disconnecting', 'newListener', 'removeListener', 'connect_error'].includes(s));
    await fc.assert(
      fc.asyncProperty(name, fc.array(wrong, { maxLength: 4 }), async (event, args) => {
        n += 1;
        const sent = emitRaw(await live(), event, args, 5000);
        if (setsProto(args)) await expect(sent).rejects.toThrow(/disconnected/);
        else expect(await sent).toMatchObject({ ok: false, error: { code: 'invalid' } });
      }),
      { numRuns: RUNS.unknownEvents },
    );
    tried.unknownEvents = n;
  }, 60_000);

  it('tolerates events without an ack callback (and callbacks in odd places)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('send', 'ack', 'other'), fc.array(fc.oneof(sendPayload, ackPayload), { maxLength: 3 }), async (event, args) => {
        // Frames over the size cap or with a __proto__ key close the connection: covered above.
        fc.pre(frameSize([event, ...args]) === 'fits' && !setsProto(args));
        n += 1;
        const s = await live();
        (s as unknown as { emit(ev: string, ...a: unknown[]): void }).emit(event, ...args);
        if (n % 50 === 0) expect(isTypedAck(await emitRaw(s, 'ack', [{ upTo: 0 }], 5000))).toBe(true);
      }),
      { numRuns: RUNS.noAck },
    );
    // `send` with only a callback: the relay answers through it.
    expect(await emitRaw(await live(), 'send', [], 5000)).toMatchObject({ ok: false, error: { code: 'invalid' } });
    tried.noAck = n;
  }, 60_000);
});

/** The first Socket.IO packet in a binary frame. */
function decodePacket(frame: Buffer): { type?: unknown } {
  const decoder = new msgpackParser.Decoder();
  let packet: { type?: unknown } = {};
  decoder.on('decoded', (p: { type?: unknown }) => (packet = p));
  decoder.add(frame);
  return packet;
}

/** An Engine.IO WebSocket that completed the Socket.IO handshake (a msgpack CONNECT), for sending raw frames. */
async function rawConnection(): Promise<WebSocket> {
  const ws = new WebSocket(`${f.relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw handshake timed out')), 5000);
    ws.on('message', (data: Buffer, isBinary) => {
      // Socket.IO packets are binary frames; Engine.IO's own (open, ping) are text.
      if (isBinary) {
        clearTimeout(timer);
        const type = decodePacket(data).type;
        if (type === 0) resolve();
        else reject(new Error(`handshake refused: packet type ${String(type)}`));
        return;
      }
      const text = data.toString();
      if (text.startsWith('0')) ws.send(packetBytes({ type: 0, nsp: '/', data: handshakeAuth(f.relay.url, f.alice.devices[0]!) }));
      else if (text === '2') ws.send('3');
    });
    ws.once('error', reject);
  });
  return ws;
}

/**
 * Sends an `ack` event after whatever was sent before and waits for its answer or for the relay
 * to close the connection: either way the relay has processed the frames before it.
 */
function settled(ws: WebSocket, id: number): Promise<'answered' | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const done = (outcome: 'answered' | 'closed' | 'silent'): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      resolve(outcome);
    };
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      const packet = isBinary ? (decodePacket(data) as { type?: unknown; id?: unknown }) : {};
      if (packet.type === 3 && packet.id === id) done('answered');
    };
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done('silent'), 2000);
    ws.on('message', onMessage);
    ws.once('close', onClose);
    if (ws.readyState === WebSocket.OPEN) ws.send(packetBytes({ type: 2, nsp: '/', data: ['ack', { upTo: 0 }], id }));
    else done('closed');
  });
}

/** msgpack types with a 4-byte length or count: bin 32, ext 32, str 32, array 32, map 32. */
const LONG_HEADERS = [0xc6, 0xc9, 0xdb, 0xdd, 0xdf];
/** A `send` packet cut right where its payload starts, to put a forged header there. */
const SEND_PREFIX = () => packetBytes({ type: 2, nsp: '/', data: ['send', null] }).subarray(0, -1);

/** A frame that declares `length` bytes or values after a header of this type, and holds a few. */
function overstated(type: number, length: number, nested: boolean): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length, 1);
  return Buffer.concat([nested ? SEND_PREFIX() : Buffer.alloc(0), header, Buffer.from('tail')]);
}

describe('raw frames', () => {
  it('survives msgpack packets of the wrong shape, truncated, mutated or overstated, and frames that are not msgpack', async () => {
    /** Any field of a Socket.IO packet of any type, or missing. */
    const packet = fc.record(
      {
        type: fc.oneof(fc.integer({ min: -1, max: 7 }), wrong),
        nsp: fc.oneof(fc.constant('/'), fc.constant('/other'), wrong),
        data: fc.oneof(fc.tuple(fc.constantFrom('send', 'ack', 'other'), fc.oneof(envelopeish, ackPayload)), fc.array(wrong, { maxLength: 4 }), wrong),
        id: fc.oneof(fc.nat(), wrong),
      },
      { requiredKeys: [] },
    ).map(packetBytes);
    const frames = fc.oneof(
      packet,
      fc.tuple(packet, fc.nat()).map(([bytes, cut]) => bytes.subarray(0, cut % bytes.length)),
      fc.tuple(packet, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([bytes, at, value]) => {
        const mutated = Buffer.from(bytes);
        mutated[at % mutated.length] = value;
        return mutated;
      }),
      fc.tuple(fc.constantFrom(...LONG_HEADERS), fc.integer({ min: 5, max: 0xffffffff }), fc.boolean()).map(([type, length, nested]) => overstated(type, length, nested)),
      // Not msgpack at all: random bytes, text frames, a stock-parser client's packets, Engine.IO control frames.
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.string({ maxLength: 200 }),
      fc.jsonValue().map((v) => `42${JSON.stringify(['send', v])}`),
      fc.constantFrom('4', '40', '41', '44', '2', '3', '5', '6', '1', '', '4{}', '42[]'),
    );
    let n = 0;
    const outcomes = { answered: 0, closed: 0, silent: 0 };
    let ws = await rawConnection();
    await fc.assert(
      fc.asyncProperty(frames, async (frame) => {
        n += 1;
        if (ws.readyState !== WebSocket.OPEN) {
          ws.terminate();
          ws = await rawConnection();
        }
        ws.send(frame);
        // Each frame reaches a live connection: the next one waits until the relay dealt with it.
        outcomes[await settled(ws, 1_000_000 + n)] += 1;
      }),
      { numRuns: RUNS.rawFrames },
    );
    ws.terminate();
    tried.rawFrames = n;
    tried.rawFramesThenAnswered = outcomes.answered;
    tried.rawFramesThenClosed = outcomes.closed;
    tried.rawFramesThenSilent = outcomes.silent;
  }, 60_000);

  it('closes a connection whose frame declares gigabytes at once, without allocating them', async () => {
    for (const type of LONG_HEADERS) {
      for (const nested of [false, true]) {
        const ws = await rawConnection();
        const closed = new Promise((resolve) => ws.once('close', resolve));
        const started = Date.now();
        ws.send(overstated(type, 0xffffffff, nested));
        await closed;
        expect(Date.now() - started, `type 0x${type.toString(16)}`).toBeLessThan(2000);
      }
    }
    expect(f.relay.child.exitCode).toBeNull();
  });

  it('closes a connection whose send sets a prototype through a __proto__ key', async () => {
    const ws = await rawConnection();
    const closed = new Promise((resolve) => ws.once('close', resolve));
    const hostile = JSON.parse(`{"__proto__": {"to": "${f.bob.devices[0]!.id}", "id": "${randomId()}", "body": "x"}}`) as object;
    ws.send(packetBytes({ type: 2, nsp: '/', data: ['send', hostile], id: 1 }));
    await closed;
    expect(f.relay.child.exitCode).toBeNull();
  });
});

describe('handshake', () => {
  it('closes, never hangs, a handshake whose auth sets __proto__', async () => {
    const outcome = await connectWith(f.relay.url, JSON.parse('{"v":2,"nonce":{"__proto__":0}}')).then(
      (connected) => {
        connected.close();
        return 'connected';
      },
      (error: Error) => error.message,
    );
    expect(outcome).toBe(`${CLOSED_BEFORE_CONNECTING}: transport close`);
  });


  it('refuses garbage auth with a known code', async () => {
    const good = () => handshakeAuth(f.relay.url, f.alice.devices[0]!);
    const auth = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 12 }), fc.anything(), { maxKeys: 6 }),
      fc.record({ v: fc.oneof(fc.constant(2), wrong), deviceId: fc.oneof(key32ish, wrong), timestamp: fc.oneof(fc.integer(), fc.constant(Date.now()), wrong), nonce: fc.oneof(idish, wrong), signature: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{86}$/), wrong) }, { requiredKeys: [] }),
      // One field of a correctly signed handshake replaced: never accepted.
      fc.tuple(fc.constantFrom('v', 'deviceId', 'timestamp', 'nonce', 'signature'), wrong).map(([field, value]) => ({ ...good(), [field]: value })),
      fc.stringMatching(/^[A-Za-z0-9_-]{86}$/).map((signature) => ({ ...good(), signature })),
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(auth, async (a) => {
        n += 1;
        let outcome: string;
        try {
          (await connectWith(f.relay.url, a)).close();
          outcome = 'connected';
        } catch (error) {
          outcome = (error as Error).message;
        }
        // A `__proto__` map key anywhere makes the packet undecodable, and the relay closes such a
        // connection (docs/relay-api.md); anything else decodable is refused with a known code.
        if (setsProto(a)) expect(outcome.startsWith(CLOSED_BEFORE_CONNECTING), outcome).toBe(true);
        else expect((ERROR_CODES as string[]).includes(outcome) && outcome !== 'internal', outcome).toBe(true);
      }),
      { numRuns: RUNS.handshake },
    );
    tried.handshake = n;
  }, 60_000);
});

describe('afterwards', () => {
  it('is alive, stored nothing, and serves a normal exchange', async () => {
    socket.close();
    await expectStillServing(f);
    expect(randomId()).toHaveLength(22);
  }, 30_000);
});
