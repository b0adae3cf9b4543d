/**
 * Issue 18 item 3: before its signed handshake a connection costs the relay little, against the
 * real relay. Frames before the handshake are limited to 16 KiB (a 100 KiB one closes the
 * connection; after the handshake a full body fits); a msgpack map declaring a million keys is
 * refused at its header while /healthz keeps answering; one IP holds at most
 * --max-unauthenticated-per-ip unhandshaken connections while handshakes still succeed;
 * long-polling is off unless --long-polling; HTTP connections that send nothing or half a
 * header are closed within --headers-timeout-ms.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { hugeMap } from '../../bench/attacks/pre-login.js';
import { loadConfig } from '../../server/config.js';
import { UNAUTHENTICATED_FRAME_BYTES, gatewayBufferBytes } from '../../server/gateway/plugin.js';
import { relayDecodeLimits } from '../../server/gateway/wire.js';
import { MsgpackError, decode, encode } from '../../protocol/msgpack.js';
import { envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, handshakeAuth, openSocket, type TestDevice } from '../support/identity.js';
import { startRelay } from '../support/relay.js';
import { relaysClosedAfterAll } from '../support/two-accounts.js';

const { setup, track } = relaysClosedAfterAll();

/** A raw Engine.IO WebSocket that never handshakes; resolves once the relay sent its open packet. */
function anonymous(url: string, localAddress = '127.0.0.1'): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { localAddress });
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed ${code}`)));
  });
}

/**
 * A raw Engine.IO WebSocket that completed its signed handshake (a msgpack CONNECT). Its frames
 * are sent unmasked-in-effect (a zero mask), so the test process spends nothing on 6.6 MB frames
 * and /healthz latency measures the relay.
 */
async function handshaken(url: string, device: TestDevice): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, { generateMask: (mask) => void mask.fill(0) });
  const next = (): Promise<Buffer | string> =>
    new Promise((resolve, reject) => {
      ws.once('message', (data: Buffer, binary: boolean) => resolve(binary ? data : data.toString()));
      ws.once('error', reject);
    });
  expect(String(await next())).toMatch(/^0\{/); // Engine.IO open
  ws.send(encode({ type: 0, nsp: '/', data: handshakeAuth(url, device) }));
  expect(decode(new Uint8Array((await next()) as Buffer))).toMatchObject({ type: 0, nsp: '/' }); // CONNECT ack
  return ws;
}

function closed(ws: WebSocket, timeoutMs = 5000): Promise<number> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    ws.once('close', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('frames before the handshake', () => {
  it('closes an unauthenticated connection that sends a 100 KiB frame; a handshaken socket sends a full body', async () => {
    const { relay, alice, bob } = await setup();
    const ws = await anonymous(relay.url);
    const gone = closed(ws);
    ws.send(Buffer.alloc(100 * 1024));
    expect(await gone).toBe(1009); // ws: message too big, refused from its frame header
    // A frame at the small limit's size is refused too: the limit is the small one, not the server's.
    const again = await anonymous(relay.url);
    const goneAgain = closed(again);
    again.send(Buffer.alloc(UNAUTHENTICATED_FRAME_BYTES + 1));
    expect(await goneAgain).toBe(1009);
    // After the handshake, the server's limit applies: a maximal body (64 KiB) goes through.
    const s = await connectDevice(relay.url, alice.devices[0]!);
    expect(await send(s, envelopeTo(bob.devices[0]!, 'x', { body: new Uint8Array(relay.config.maxBodyBytes) }))).toEqual({ ok: true, failed: [] });
    s.close();
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });
});

describe('bounded decoding', () => {
  it('refuses a map header declaring 1.1 million keys before building anything', () => {
    const frame = hugeMap(1_100_000);
    const started = performance.now();
    expect(() => decode(frame, relayDecodeLimits(100))).toThrow(MsgpackError);
    expect(() => decode(frame, relayDecodeLimits(100))).toThrow(/more than 64 keys/);
    expect(performance.now() - started).toBeLessThan(20);
    // Arrays likewise, and the whole frame's value count.
    const array = Buffer.concat([Buffer.from([0xdc, 0x0f, 0xa1]), Buffer.alloc(4001, 0xc0)]);
    expect(() => decode(array, relayDecodeLimits(100))).toThrow(/more than 2000 items/);
    const wide = Buffer.concat([Buffer.from([0xdc, 0x07, 0xd0]), ...Array.from({ length: 2000 }, () => Buffer.from([0xdc, 0x07, 0xd0, ...Buffer.alloc(2000, 0xc0)]))]);
    expect(() => decode(wide, relayDecodeLimits(100))).toThrow(/too many values/);
  });

  it('drops sockets that send million-key maps, while /healthz keeps answering (never held for a second)', async () => {
    const { relay, alice } = await setup();
    const frame = hugeMap(1_100_000);
    expect(frame.length).toBeLessThan(gatewayBufferBytes(relay.config.maxBatch, relay.config.maxBodyBytes)); // within the authenticated limit
    let hammering = true;
    const latencies: number[] = [];
    const probe = (async () => {
      while (hammering) {
        const started = performance.now();
        const response = await fetch(`${relay.url}/healthz`);
        await response.arrayBuffer();
        expect(response.status).toBe(200);
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    // 8 handshaken connections, 3 rounds: every such frame closes its connection at once.
    for (let round = 0; round < 3; round++) {
      const sockets = await Promise.all(Array.from({ length: 8 }, () => handshaken(relay.url, alice.devices[0]!)));
      const gone = sockets.map((ws) => closed(ws));
      for (const ws of sockets) ws.send(frame);
      await Promise.all(gone);
    }
    hammering = false;
    await probe;
    expect(latencies.length).toBeGreaterThan(0);
    // Before bounded decoding one such map held the event loop for seconds (2.5 s at p99). The
    // latency target itself (p99 ≤ 100 ms) is measured by `npm run bench:attacks`, not here: a
    // timed bound this tight fails whenever the machine is busy.
    expect(Math.max(...latencies)).toBeLessThan(1000);
    expect((await relay.app.io.fetchSockets()).length).toBe(0);
  });
});

describe('unauthenticated connections per IP', () => {
  it('holds the cap for unhandshaken connections while handshakes succeed', async () => {
    const { relay, alice, bob } = await setup({ maxUnauthenticatedPerIp: 3 });
    const held = await Promise.all([anonymous(relay.url), anonymous(relay.url), anonymous(relay.url)]);
    // The 4th from the same IP is refused at the upgrade (Engine.IO answers 400).
    await expect(anonymous(relay.url)).rejects.toThrow(/server response: 400/);
    // Another IP is not affected: its handshake succeeds.
    const other = openSocket(relay.url, handshakeAuth(relay.url, bob.devices[0]!), { localAddress: '127.0.0.2' } as never);
    await new Promise<void>((resolve, reject) => {
      other.once('connect', resolve);
      other.once('connect_error', reject);
    });
    // One anonymous connection leaves: a handshake from the capped IP gets its slot, and once
    // verified no longer counts, so the IP may open another unhandshaken connection.
    const left = closed(held[0]!);
    held[0]!.close();
    await left;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const s = await connectDevice(relay.url, alice.devices[0]!);
    const third = await anonymous(relay.url);
    await expect(anonymous(relay.url)).rejects.toThrow(/server response: 400/);
    for (const ws of [...held.slice(1), third]) ws.close();
    s.close();
    other.close();
  });
});

describe('transports', () => {
  it('refuses long-polling by default, offers it with --long-polling', async () => {
    const { relay, alice } = await setup();
    const refused = await fetch(`${relay.url}/socket.io/?EIO=4&transport=polling`);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ message: 'Transport unknown' });
    const socket = openSocket(relay.url, handshakeAuth(relay.url, alice.devices[0]!), { transports: ['polling'] });
    const outcome = await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', () => resolve('refused'));
    });
    socket.close();
    expect(outcome).toBe('refused');

    const polling = track(await startRelay({ longPolling: true }));
    const offered = await fetch(`${polling.url}/socket.io/?EIO=4&transport=polling`);
    expect(offered.status).toBe(200);
    // Before the handshake a polling body is capped like a WebSocket frame.
    const sid = (JSON.parse((await offered.text()).slice(1)) as { sid: string }).sid;
    const big = await fetch(`${polling.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'POST', body: 'x'.repeat(100 * 1024) });
    expect(big.status).toBe(413);
  });
});

describe('HTTP connections that never complete a request', () => {
  for (const [name, bytes] of [['sends half a header', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n'], ['sends nothing', '']] as const) {
    it(`closes one that ${name} within --headers-timeout-ms`, async () => {
      const relay = track(await startRelay({ headersTimeoutMs: 500 }));
      const { port } = new URL(relay.url);
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          if (bytes) socket.write(bytes);
        });
        const timer = setTimeout(() => reject(new Error('still open')), 5000);
        socket.on('data', () => undefined);
        socket.on('error', () => undefined);
        socket.once('close', () => {
          clearTimeout(timer);
          resolve(Date.now() - started);
        });
      });
      expect(closedAfter).toBeGreaterThanOrEqual(400);
      expect(closedAfter).toBeLessThan(2000);
    });
  }

  it('sets short defaults', async () => {
    expect(loadConfig([], {}, { db: ':memory:' })).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, longPolling: false, maxUnauthenticatedPerIp: 16 });
    const relay = track(await startRelay());
    expect(relay.app.server.headersTimeout).toBe(10_000);
    expect(relay.app.server.requestTimeout).toBe(30_000);
    expect(relay.app.server.keepAliveTimeout).toBe(5_000);
  });
});
