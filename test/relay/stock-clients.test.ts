/**
 * Third-party clients on stock parsers. On the default (msgpack) relay, a socket.io-msgpack-parser
 * client that sends a plain Uint8Array body (msgpack ext on the wire, not bin) is stored,
 * delivered byte for byte and deleted on ack. A relay started with `parser: 'json'` serves a
 * stock socket.io-client (no parser option), and splits deliveries into events of at most 10
 * envelopes, the most a stock decoder accepts.
 */
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import * as stockMsgpackParser from 'socket.io-msgpack-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, DeliveredEnvelope, ServerToClientEvents } from '../../protocol/events.js';
import { envelopeTo, openFor } from '../support/envelopes.js';
import { handshakeAuth, randomId, type TestDevice } from '../support/identity.js';
import { relayWithTwoAccounts, type TwoAccounts } from '../support/two-accounts.js';

type StockSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

function connect(url: string, device: TestDevice, parser: Partial<ManagerOptions & SocketOptions>, onEnvelopes: (batch: DeliveredEnvelope[]) => void = () => undefined): Promise<StockSocket> {
  const socket: StockSocket = io(url, { auth: { ...handshakeAuth(url, device) }, transports: ['websocket'], reconnection: false, forceNew: true, ...parser });
  socket.on('envelopes', onEnvelopes);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

describe('a stock socket.io-msgpack-parser client on the default relay', () => {
  let t: TwoAccounts;
  beforeAll(async () => {
    t = await relayWithTwoAccounts();
  });
  afterAll(async () => t.relay.close());

  it('stores, delivers and deletes an envelope sent as a plain Uint8Array', async () => {
    const to = t.bob.devices[0]!;
    const received: DeliveredEnvelope[] = [];
    const bob = await connect(t.relay.url, to, { parser: stockMsgpackParser }, (batch) => received.push(...batch));
    const alice = await connect(t.relay.url, t.alice.devices[0]!, { parser: stockMsgpackParser });
    const body = Uint8Array.from({ length: 1024 }, (_, i) => i % 251);
    expect(await alice.emitWithAck('send', { to: to.id, id: randomId(), body })).toEqual({ ok: true, failed: [] });
    await expect.poll(() => received.length).toBe(1);
    const got = received[0]!;
    expect(new Uint8Array(got.body)).toEqual(body);
    expect(await bob.emitWithAck('ack', { upTo: got.seq! })).toEqual({ ok: true, deleted: 1 });
    alice.close();
    bob.close();
  });
});

describe("a relay with parser 'json'", () => {
  let t: TwoAccounts;
  beforeAll(async () => {
    t = await relayWithTwoAccounts({ parser: 'json' });
  });
  afterAll(async () => t.relay.close());

  it('exchanges an envelope with a stock socket.io-client', async () => {
    const to = t.bob.devices[0]!;
    const received: DeliveredEnvelope[] = [];
    const bob = await connect(t.relay.url, to, {}, (batch) => received.push(...batch));
    const alice = await connect(t.relay.url, t.alice.devices[0]!, {});
    const envelope = envelopeTo(to, 'hello over json');
    expect(await alice.emitWithAck('send', envelope)).toEqual({ ok: true, failed: [] });
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]!.id).toBe(envelope.id);
    expect(openFor(to, received[0]!.body)).toBe('hello over json');
    expect(await bob.emitWithAck('ack', { upTo: received[0]!.seq! })).toEqual({ ok: true, deleted: 1 });
    alice.close();
    bob.close();
  });

  it('accepts a full batch of 100 bodies and delivers it in events of at most 10', async () => {
    const to = t.bob.devices[0]!;
    const batches: DeliveredEnvelope[][] = [];
    const bob = await connect(t.relay.url, to, {}, (batch) => batches.push(batch));
    const alice = await connect(t.relay.url, t.alice.devices[0]!, {});
    const batch = Array.from({ length: 100 }, (_, i) => envelopeTo(to, `#${i}`));
    expect(await alice.emitWithAck('send', batch)).toEqual({ ok: true, failed: [] });
    await expect.poll(() => batches.flat().length).toBe(100);
    expect(batches.flat().map((e) => e.id)).toEqual(batch.map((e) => e.id));
    expect(Math.max(...batches.map((b) => b.length))).toBeLessThanOrEqual(10);
    expect(bob.connected).toBe(true);
    alice.close();
    bob.close();
  });
});
