/**
 * Property-based fuzzing (fast-check) of the Socket.IO surface of a relay running as a child
 * process: random, malformed, wrongly typed, oversized payloads to `send` and `ack`, unknown
 * events, events without ack callbacks, raw truncated/garbage Engine.IO frames, and garbage
 * handshake `auth`. Every ack must be typed, every refused handshake must carry a known code,
 * and afterwards the process is alive, stored nothing, and serves a normal exchange.
 */
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../server/errors.js';
import { emitRaw } from '../support/envelopes.js';
import { connectDevice, connectWith, handshakeAuth, randomId, type ClientSocket } from '../support/identity.js';
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

/** Binary attachments Socket.IO will make of these arguments (one per byte array, at any depth). */
function attachments(value: unknown, depth = 0): number {
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return 1;
  if (value === null || typeof value !== 'object' || depth > 20) return 0;
  return Object.values(value).reduce((n: number, v) => n + attachments(v, depth + 1), 0);
}
/** The relay's decoder takes at most maxBatch + 1 attachments per packet (server/gateway/wire.ts). */
const MAX_ATTACHMENTS = 16 + 1;

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
    let oversizedPackets = 0;
    await fc.assert(
      fc.asyncProperty(sendPayload, async (payload) => {
        n += 1;
        const s = await live();
        if (attachments(payload) > MAX_ATTACHMENTS) {
          // Refused by the decoder before any handler: the connection is closed, like a frame
          // beyond maxHttpBufferSize. Nothing is buffered or stored.
          await expect(emitRaw(s, 'send', [payload], 5000)).rejects.toThrow(/disconnected/);
          oversizedPackets += 1;
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
    tried.sendClosedForAttachmentCount = oversizedPackets;
  }, 60_000);

  it('answers every ack payload with a typed ack', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(ackPayload, async (payload) => {
        n += 1;
        expect(isTypedAck(await emitRaw(await live(), 'ack', [payload], 5000))).toBe(true);
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
        const reply = await emitRaw(await live(), event, args, 5000);
        expect(reply).toMatchObject({ ok: false, error: { code: 'invalid' } });
      }),
      { numRuns: RUNS.unknownEvents },
    );
    tried.unknownEvents = n;
  }, 60_000);

  it('tolerates events without an ack callback (and callbacks in odd places)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('send', 'ack', 'other'), fc.array(fc.oneof(sendPayload, ackPayload), { maxLength: 3 }), async (event, args) => {
        // Packets over the attachment cap close the connection: covered by the send property.
        fc.pre(attachments(args) <= MAX_ATTACHMENTS);
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

/** An Engine.IO WebSocket that completed the Socket.IO handshake, for sending raw frames. */
async function rawConnection(): Promise<WebSocket> {
  const ws = new WebSocket(`${f.relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('raw handshake timed out')), 5000);
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('0')) ws.send(`40${JSON.stringify(handshakeAuth(f.relay.url, f.alice.devices[0]!))}`);
      else if (text.startsWith('40')) {
        clearTimeout(timer);
        resolve();
      } else if (text === '2') ws.send('3');
    });
    ws.once('error', reject);
  });
  return ws;
}

describe('raw frames', () => {
  it('survives truncated, garbage and mismatched Engine.IO / Socket.IO frames', async () => {
    const frames = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ maxLength: 200 }).map((s) => `42${s}`),
      fc.jsonValue().map((v) => `42${JSON.stringify(['send', v]).slice(0, -1)}`), // truncated JSON
      fc.jsonValue().map((v) => `421${JSON.stringify(['send', v])}`),
      fc.nat(20).map((k) => `45${k}-["send",{"_placeholder":true,"num":${k}}]`), // attachments that never come
      fc.nat(20).map((k) => `461-["ack",{"_placeholder":true,"num":${k + 1}}]`),
      fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.constantFrom('4', '40', '41', '44', '2', '3', '5', '6', '1', '', '4{}', '42', '42[]', '42[1]', '42{"a":1}'),
    );
    let n = 0;
    let reconnects = 0;
    let ws = await rawConnection();
    await fc.assert(
      fc.asyncProperty(frames, async (frame) => {
        n += 1;
        if (ws.readyState !== WebSocket.OPEN) {
          ws.terminate();
          ws = await rawConnection();
          reconnects += 1;
        }
        ws.send(frame);
        if (n % 25 === 0) await new Promise((r) => setTimeout(r, 5));
      }),
      { numRuns: RUNS.rawFrames },
    );
    ws.terminate();
    tried.rawFrames = n;
    tried.rawFrameReconnects = reconnects;
  }, 60_000);
});

describe('handshake', () => {
  it('refuses garbage auth with a known code', async () => {
    const good = () => handshakeAuth(f.relay.url, f.alice.devices[0]!);
    const auth = fc.oneof(
      fc.dictionary(fc.string({ maxLength: 12 }), fc.anything(), { maxKeys: 6 }),
      fc.record({ deviceId: fc.oneof(key32ish, wrong), timestamp: fc.oneof(fc.integer(), fc.constant(Date.now()), wrong), nonce: fc.oneof(idish, wrong), signature: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{86}$/), wrong) }, { requiredKeys: [] }),
      // One field of a correctly signed handshake replaced: never accepted.
      fc.tuple(fc.constantFrom('deviceId', 'timestamp', 'nonce', 'signature'), wrong).map(([field, value]) => ({ ...good(), [field]: value })),
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
        expect((ERROR_CODES as string[]).includes(outcome) && outcome !== 'internal', outcome).toBe(true);
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
