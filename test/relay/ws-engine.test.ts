/**
 * The relay's WebSocket server (server/gateway/ws-engine.ts) against a stock ws client: every
 * message arrives intact and in order on both sides of the single-write size and of the 7-bit
 * and 16-bit frame lengths, small binary messages leave in one socket write each, and text,
 * large and compressed messages still go through ws.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, type RawData } from 'ws';
import { SingleWriteWsServer } from '../../server/gateway/ws-engine.js';

const servers: SingleWriteWsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    for (const client of server.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server, a client connected to it, and the server side's socket writes counted. */
async function pair(perMessageDeflate: boolean) {
  const server = new SingleWriteWsServer({ host: '127.0.0.1', port: 0, perMessageDeflate });
  servers.push(server);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[WebSocket]>;
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`, { perMessageDeflate });
  const received: { data: Buffer; binary: boolean }[] = [];
  client.on('message', (data: RawData, binary: boolean) => received.push({ data: data as Buffer, binary }));
  const [socket] = await accepted;
  await once(client, 'open');
  const raw = (socket as unknown as { _socket: { write: (...args: unknown[]) => boolean } })._socket;
  const writes = { count: 0 };
  const write = raw.write.bind(raw);
  raw.write = (...args: unknown[]) => {
    writes.count += 1;
    return write(...args);
  };
  return { socket, received, writes };
}

const SIZES = [0, 1, 125, 126, 127, 1000, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 70_000];
const payload = (size: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + size) & 0xff));

describe('single-write WebSocket server', () => {
  it('sends small binary messages in one write each, and every message intact and in order', async () => {
    const { socket, received, writes } = await pair(false);
    const perMessage: number[] = [];
    for (const size of SIZES) {
      const before = writes.count;
      await new Promise<void>((resolve, reject) => socket.send(payload(size), (error) => (error ? reject(error) : resolve())));
      perMessage.push(writes.count - before);
    }
    // A plain Uint8Array (not a Buffer) takes the same path.
    socket.send(new Uint8Array([9, 8, 7]));
    socket.send('text stays text');
    await expect.poll(() => received.length).toBe(SIZES.length + 2);
    expect(received.slice(0, SIZES.length).map((m) => m.data)).toEqual(SIZES.map(payload));
    expect(received.every((m, i) => m.binary === i <= SIZES.length)).toBe(true);
    expect([...received[SIZES.length]!.data]).toEqual([9, 8, 7]);
    expect(received[SIZES.length + 1]!.data.toString()).toBe('text stays text');
    // One write up to 16 KiB; ws's own corked pair of writes above it.
    expect(perMessage).toEqual(SIZES.map((size) => (size <= 16 * 1024 ? 1 : 2)));
  });

  it('leaves a compressing connection to ws', async () => {
    const { socket, received } = await pair(true);
    for (const size of SIZES) socket.send(payload(size));
    await expect.poll(() => received.length).toBe(SIZES.length);
    expect(received.map((m) => m.data)).toEqual(SIZES.map(payload));
  });
});
