/**
 * A socket that never reads cannot grow the relay. The attacker's client stops reading TCP but
 * keeps writing Engine.IO pongs blind, so the heartbeat thinks it alive; before the send-buffer
 * cap every push to it piled up in the relay (~78 MB/s under load). Now the relay stops pushing
 * to it past `--max-socket-buffer-bytes` (its envelopes stay queued), closes it once it has not
 * drained within `--socket-drain-timeout-ms`, and meanwhile other users' sends and handshakes go
 * on. Nothing sent to the stuck device is lost: it gets everything when it reconnects and reads.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sodium } from '../../crypto/sodium.js';
import { bufferedBytes } from '../../server/delivery/socket-buffer.js';
import { ack, connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, randomId, registerAll, type ClientSocket } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle | undefined;
afterAll(async () => relay?.close());

const CAP = 256 * 1024;
const TIMEOUT_MS = 2000;
/** Batches of 25 × 8 KiB (205 KB, each push under the cap): 33 MB in all, well past what the kernel's socket buffers absorb. */
const BATCHES = 160;
const PER_BATCH = 25;
const BODY = 8 * 1024;

interface RawClient {
  io: { engine: { transport: { ws?: { _socket?: { pause(): void }; send(data: string): void } } } };
}

/** Stops reading the socket's TCP stream, and writes a pong every second without reading a ping. */
function stopReading(socket: ClientSocket): () => void {
  const ws = (socket as unknown as RawClient).io.engine.transport.ws;
  if (!ws?._socket) throw new Error('expected a websocket transport');
  ws._socket.pause();
  const pongs = setInterval(() => ws.send('3'), 1000);
  return () => clearInterval(pongs);
}

describe('a socket that never reads', () => {
  it('stays bounded in relay memory, is closed, and does not hold up anyone else', async () => {
    relay = await startRelay({ maxSocketBufferBytes: CAP, socketDrainTimeoutMs: TIMEOUT_MS, sendRatePerSecond: 10_000, sendBurst: 10_000 });
    const [alice, bob, carol, dave] = await Promise.all([makeAccount(), makeAccount(), makeAccount(), makeAccount()]);
    for (const account of [alice, bob, carol, dave]) await registerAll(relay.url, account!);
    const b = bob!.devices[0]!;
    const { socket: stuck, inbox: stuckInbox } = await connectInbox(relay.url, b);
    await stuckInbox.until((i) => i.prekeyCounts.length > 0);
    // Live (drained) before it stops reading.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [serverSide] = await relay.app.io.in(b.id).fetchSockets();
    expect(serverSide).toBeDefined();
    const server = relay.app.io.sockets.sockets.get(serverSide!.id)!;
    let closedAt: number | undefined;
    server.once('disconnect', () => (closedAt = Date.now()));
    const stopPongs = stopReading(stuck);

    const sa = await connectDevice(relay.url, alice!.devices[0]!);
    const body = sodium().randombytes_buf(BODY);
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, server.connected ? bufferedBytes(server) : 0)), 5);
    const startedAt = Date.now();
    for (let i = 0; i < BATCHES; i++) {
      const batch = Array.from({ length: PER_BATCH }, () => ({ to: b.id, id: randomId(), body }));
      expect(await send(sa, batch)).toEqual({ ok: true, failed: [] });
    }

    // Another user, meanwhile: a fresh handshake, a send, a push and an ack.
    const sc = await connectDevice(relay.url, carol!.devices[0]!);
    const { socket: sd, inbox: daveInbox } = await connectInbox(relay.url, dave!.devices[0]!);
    expect(await send(sc, envelopeTo(dave!.devices[0]!, 'still here'))).toMatchObject({ ok: true });
    await daveInbox.waitForCount(1);
    expect(await ack(sd, { upTo: daveInbox.envelopes[0]!.seq! })).toEqual({ ok: true, deleted: 1 });

    // Closed once it did not drain in time (plus a poll and some slack).
    const deadline = Date.now() + TIMEOUT_MS + 3000;
    while (closedAt === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    clearInterval(sample);
    stopPongs();
    expect(closedAt).toBeDefined();
    expect(closedAt! - startedAt).toBeLessThan(TIMEOUT_MS + 3000 + 10_000);
    // The relay held at most the cap plus one push for it, of ~33 MB sent.
    expect(peak).toBeLessThanOrEqual(CAP + PER_BATCH * (BODY + 64) + 64 * 1024);
    expect(peak).toBeGreaterThan(0);

    // Nothing was lost: every envelope waits in Bob's queue, and a reading client gets them all.
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(BATCHES * PER_BATCH);
    stuck.close();
    const { socket: again, inbox } = await connectInbox(relay.url, b);
    again.on('envelopes', (batch) => void ack(again, { upTo: batch.at(-1)!.seq! }).catch(() => undefined));
    await inbox.until((i) => new Set(i.envelopes.map((e) => e.id)).size === BATCHES * PER_BATCH, 20_000, 'the whole backlog');
    for (const s of [sa, sc, sd, again]) s.close();
  });
});
