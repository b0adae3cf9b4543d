/**
 * Abuse limits beyond test/relay/limits.test.ts (which covers send rate, bundle claims per IP,
 * the socket cap, size caps and quotas): every socket event is rate-limited, not only `send`;
 * unknown events are refused; registrations are capped per IP; a packet beyond
 * maxHttpBufferSize is dropped with its socket; a connection that never completes its
 * handshake and a socket that goes idle are closed; refused handshakes are limited per IP.
 * Routes and sockets read one policy object.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../server/config.js';
import { gatewayBufferBytes } from '../../server/gateway/plugin.js';
import { ratePolicy } from '../../server/limits/rate-policy.js';
import { ack, emitRaw, envelopeTo, quietPeriod, send } from '../support/envelopes.js';
import { connectDevice, handshakeAuth, makeAccount, refusalCode, registerAccount, type ClientSocket } from '../support/identity.js';
import { startRelay } from '../support/relay.js';
import { relaysClosedAfterAll } from '../support/two-accounts.js';

const { setup, track } = relaysClosedAfterAll();

function disconnected(socket: ClientSocket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!socket.connected) return resolve('already');
    const timer = setTimeout(() => reject(new Error(`socket still connected after ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

describe('one rate policy', () => {
  it('derives the route limit, the socket buckets and the bundle-claim budgets from the same config', () => {
    const config = loadConfig([], {}, { db: ':memory:', ipRateLimitPerMinute: 7, sendRatePerSecond: 3, sendBurst: 4, eventRatePerSecond: 5, eventBurst: 6, maxConnectionsPerIp: 2, bundleClaimsPerDevice: 12, bundleClaimsPerTarget: 9, signedRequestsPerDevice: 30, lookupsPerDevice: 24, lookupsPerIp: 90, pairRatePerSecond: 2, pairBurst: 8, inboundBytesPerDevice: 1 << 20, inboundWindowMs: 5000 });
    expect(ratePolicy(config)).toEqual({
      perIpRoute: { max: 7, timeWindow: 60_000 },
      maxConnectionsPerIp: 2,
      failedHandshakes: { ratePerSecond: 7 / 60, burst: 7 },
      send: { ratePerSecond: 3, burst: 4 },
      otherEvents: { ratePerSecond: 5, burst: 6 },
      inbound: { perPair: { ratePerSecond: 2, burst: 8 }, perRecipient: { bytes: 1 << 20, windowMs: 5000 } },
      bundleClaims: { perRequester: { ratePerSecond: 12 / 60, burst: 12 }, perTarget: { ratePerSecond: 9 / 60, burst: 9 } },
      signedRequests: { ratePerSecond: 30 / 60, burst: 30 },
      lookups: { perDevice: { ratePerSecond: 24 / 60, burst: 24 }, perIp: { max: 90, timeWindow: 60_000 } },
    });
  });
});

describe('failed handshakes per IP', () => {
  it('after the per-IP budget of refused handshakes, refuses even a valid one without checking it', async () => {
    const { relay, alice } = await setup({ ipRateLimitPerMinute: 3 });
    const device = alice.devices[0]!;
    const forged = () => handshakeAuth(relay.url, device, { signWith: new Uint8Array(64).fill(7) });
    for (let i = 0; i < 3; i++) expect(await refusalCode(relay.url, forged())).toBe('bad_signature');
    expect(await refusalCode(relay.url, forged())).toBe('rate_limited');
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, device))).toBe('rate_limited');
  });

  it('does not count successful handshakes', async () => {
    const { relay, alice } = await setup({ ipRateLimitPerMinute: 2 });
    for (let i = 0; i < 5; i++) (await connectDevice(relay.url, alice.devices[0]!)).close();
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, alice.devices[0]!))).toBe('connected');
  });
});

describe('per-socket token buckets on every event', () => {
  it('rate-limits acks with rate_limited, separately from sends', async () => {
    const { relay, alice, bob } = await setup({ eventRatePerSecond: 1, eventBurst: 3, sendRatePerSecond: 1000, sendBurst: 1000 });
    const s = await connectDevice(relay.url, alice.devices[0]!);
    const acks = await Promise.all(Array.from({ length: 6 }, () => ack(s, { upTo: 1 })));
    expect(acks.filter((r) => r.ok)).toHaveLength(3);
    expect(acks.filter((r) => !r.ok && r.error.code === 'rate_limited')).toHaveLength(3);
    // The send bucket is untouched by the ack flood.
    expect(await send(s, envelopeTo(bob.devices[0]!, 'still allowed'))).toEqual({ ok: true, failed: [] });
    // Tokens come back at the refill rate.
    await quietPeriod(1100);
    expect(await ack(s, { upTo: 1 })).toMatchObject({ ok: true });
    s.close();
  });

  it('refuses unknown events with invalid, and charges them to the bucket', async () => {
    const { relay, alice } = await setup({ eventRatePerSecond: 1, eventBurst: 2 });
    const s = await connectDevice(relay.url, alice.devices[0]!);
    expect(await emitRaw(s, 'envelopes', [{}])).toMatchObject({ ok: false, error: { code: 'invalid', message: 'unknown event' } });
    expect(await emitRaw(s, 'join', ['someone-else'])).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await emitRaw(s, 'whatever', [])).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    // Without an ack callback nothing comes back and nothing breaks.
    (s as unknown as { emit(ev: string, ...a: unknown[]): void }).emit('no-ack-here', 1, 2, 3);
    await quietPeriod(100);
    expect(s.connected).toBe(true);
    s.close();
  });
});

describe('per-IP limits', () => {
  it('caps registrations per IP with HTTP 429 rate_limited', async () => {
    const relay = await startRelay({ ipRateLimitPerMinute: 2 });
    track(relay);
    const statuses: number[] = [];
    let last: unknown;
    for (let i = 0; i < 3; i++) {
      const r = await registerAccount(relay.url, await makeAccount());
      statuses.push(r.status);
      last = r.body;
    }
    expect(statuses).toEqual([201, 201, 429]);
    expect(last).toMatchObject({ error: { code: 'rate_limited' } });
    // Nothing was stored for the refused one.
    expect((await relay.app.store.relayStats()).devices).toBe(2);
  });

  it('counts a slot per handshake in flight, so concurrent handshakes cannot overshoot the socket cap', async () => {
    const { relay, alice } = await setup({ maxConnectionsPerIp: 3 });
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => connectDevice(relay.url, alice.devices[0]!)));
    const open = attempts.filter((a): a is PromiseFulfilledResult<ClientSocket> => a.status === 'fulfilled').map((a) => a.value);
    expect(open).toHaveLength(3);
    expect(attempts.filter((a) => a.status === 'rejected').map((a) => (a.reason as Error).message)).toEqual(Array(5).fill('rate_limited'));
    for (const s of open) s.close();
    await quietPeriod(150);
    // The slots come back when the sockets leave.
    const again = await connectDevice(relay.url, alice.devices[0]!);
    expect(again.connected).toBe(true);
    again.close();
  });
});

describe('transport limits', () => {
  it('sizes maxHttpBufferSize to a full batch of maximal bodies, and drops a socket that sends more', async () => {
    const { relay, alice, bob } = await setup({ maxBodyBytes: 1024, maxBatch: 4 });
    const limit = gatewayBufferBytes(4, 1024);
    expect(limit).toBeGreaterThanOrEqual(4 * 1024);
    expect((relay.app.io.engine as unknown as { opts: { maxHttpBufferSize: number } }).opts.maxHttpBufferSize).toBe(limit);
    const s = await connectDevice(relay.url, alice.devices[0]!);
    // A full legal batch fits.
    const full = Array.from({ length: 4 }, () => ({ to: bob.devices[0]!.id, id: envelopeTo(bob.devices[0]!, 'x').id, body: new Uint8Array(1024) }));
    expect(await send(s, full)).toEqual({ ok: true, failed: [] });
    // One frame larger than the buffer: the relay closes the connection instead of buffering it.
    const gone = disconnected(s, 5000);
    s.emit('send', { to: bob.devices[0]!.id, id: full[0]!.id, body: new Uint8Array(limit + 1) }, () => undefined);
    expect(await gone).toBe('transport close');
    expect((await relay.app.store.queueStats(bob.devices[0]!.id)).envelopes).toBe(4);
    const healthy = await fetch(`${relay.url}/healthz`);
    expect(healthy.status).toBe(200);
  });

  it('closes a connection that never sends its handshake within handshakeTimeoutMs', async () => {
    const { relay } = await setup({ handshakeTimeoutMs: 300 });
    // A raw Engine.IO WebSocket: the transport opens, but no Socket.IO CONNECT (with auth) follows.
    const ws = new WebSocket(`${relay.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const opened = Date.now();
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('not closed')), 5000);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve(Date.now() - opened);
      });
      ws.once('error', reject);
    });
    expect(closedAfter).toBeGreaterThanOrEqual(250);
    expect(closedAfter).toBeLessThan(3000);
  });

  it('closes sockets that send no event for idleTimeoutMs, and keeps busy ones', async () => {
    const { relay, alice, bob } = await setup({ idleTimeoutMs: 400 });
    const idle = await connectDevice(relay.url, alice.devices[0]!);
    const busy = await connectDevice(relay.url, bob.devices[0]!);
    const idleGone = disconnected(idle, 3000);
    const started = Date.now();
    // The busy socket acks every 150 ms: each event re-arms its timer.
    while (Date.now() - started < 900) {
      expect(await ack(busy, { upTo: 0 })).toMatchObject({ ok: true });
      await quietPeriod(150);
    }
    expect(await idleGone).toBe('io server disconnect');
    expect(busy.connected).toBe(true);
    busy.close();
    await quietPeriod(100);
    expect(await relay.app.io.fetchSockets()).toHaveLength(0);
  });
});
