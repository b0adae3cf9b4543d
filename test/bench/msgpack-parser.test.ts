/**
 * The relay's opt-in msgpack parser (`--parser msgpack`, a benchmark lever): a client on
 * socket.io-msgpack-parser sends a plain Uint8Array body (which msgpack decodes as an
 * ArrayBuffer), the relay stores it, delivers it byte for byte and deletes it on ack.
 */
import { io } from 'socket.io-client';
import * as msgpackParser from 'socket.io-msgpack-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready } from '../../crypto/sodium.js';
import type { ClientToServerEvents, DeliveredEnvelope, ServerToClientEvents } from '../../server/protocol/events.js';
import type { Socket } from 'socket.io-client';
import { handshakeAuth, makeAccount, randomId, registerAll, type TestDevice } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

type MsgpackSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function connect(url: string, device: TestDevice, onEnvelopes?: (batch: DeliveredEnvelope[]) => void): Promise<MsgpackSocket> {
  const socket: MsgpackSocket = io(url, {
    auth: { ...handshakeAuth(url, device) },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    parser: msgpackParser,
  });
  if (onEnvelopes) socket.on('envelopes', onEnvelopes);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('relay with --parser msgpack', () => {
  let relay: RelayHandle;
  beforeAll(async () => {
    await ready();
    relay = await startRelay({ parser: 'msgpack' });
  });
  afterAll(async () => relay.close());

  it('stores, delivers and deletes an envelope sent as a plain Uint8Array', async () => {
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(relay.url, alice);
    await registerAll(relay.url, bob);
    const to = bob.devices[0]!;
    const received: DeliveredEnvelope[] = [];
    const bobSocket = await connect(relay.url, to, (batch) => received.push(...batch));
    const aliceSocket = await connect(relay.url, alice.devices[0]!);
    const body = Uint8Array.from({ length: 1024 }, (_, i) => i % 251);
    const ack = await aliceSocket.emitWithAck('send', { to: to.id, id: randomId(), body });
    expect(ack).toEqual({ ok: true, failed: [] });
    await expect.poll(() => received.length).toBe(1);
    const got = received[0]!;
    expect(new Uint8Array(got.body instanceof ArrayBuffer ? got.body : got.body)).toEqual(body);
    const deleted = await bobSocket.emitWithAck('ack', { upTo: got.seq! });
    expect(deleted).toEqual({ ok: true, deleted: 1 });
    aliceSocket.close();
    bobSocket.close();
  });
});
