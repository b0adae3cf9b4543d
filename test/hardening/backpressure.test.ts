/**
 * A recipient that never acknowledges cannot make the relay buffer without bound: with a large
 * backlog queued, the relay pushes exactly one drain page and then waits; envelopes sent while
 * it waits go to the database, not into the socket's write buffer. test/relay/limits.test.ts
 * shows the page-by-page protocol; this shows the bound under a big backlog and live traffic.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { sodium } from '../../crypto/sodium.js';
import { deviceRoom } from '../../server/delivery/rooms.js';
import { connectInbox, quietPeriod, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, randomId, registerAll } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle | undefined;
afterAll(async () => relay?.close());

const PAGE = 50;
const BACKLOG = 2000;

async function pushedTotal(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^sealpost_envelopes_pushed_total (\d+)/m.exec(text)?.[1] ?? NaN);
}

describe('backpressure on the drain', () => {
  it('pushes one page to a never-acking recipient and keeps the rest on disk', async () => {
    relay = await startRelay({ drainPageSize: PAGE, sendRatePerSecond: 10_000, sendBurst: 10_000 });
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(relay.url, alice);
    await registerAll(relay.url, bob);
    const b = bob.devices[0]!;
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const body = sodium().randombytes_buf(512);
    for (let i = 0; i < BACKLOG; i += 100) {
      const batch = Array.from({ length: 100 }, () => ({ to: b.id, id: randomId(), body }));
      expect(await send(sa, batch)).toEqual({ ok: true, failed: [] });
    }
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(BACKLOG);

    const before = await pushedTotal(relay.url);
    // Bob connects and never acks.
    const { socket: sb, inbox } = await connectInbox(relay.url, b);
    await inbox.waitForCount(PAGE);
    // Live traffic while Bob sits on his page: stored, not pushed.
    for (let i = 0; i < 5; i++) {
      const batch = Array.from({ length: 100 }, () => ({ to: b.id, id: randomId(), body }));
      expect(await send(sa, batch)).toEqual({ ok: true, failed: [] });
    }
    await quietPeriod(500);
    expect(inbox.envelopes).toHaveLength(PAGE);
    expect((await pushedTotal(relay.url)) - before).toBe(PAGE);
    expect((await relay.app.store.queueStats(b.id)).envelopes).toBe(BACKLOG + 500);

    // Server side, the socket holds nothing more: Engine.IO's write buffer is flushed and the
    // relay has no per-socket queue of its own beyond the awaited page.
    // Still draining, so only in the room of all its sockets, not yet in the live one.
    expect(await relay.app.io.in(b.id).fetchSockets()).toHaveLength(0);
    const [server] = await relay.app.io.in(deviceRoom(b.id)).fetchSockets();
    expect(server).toBeDefined();
    const engineSocket = (relay.app.io.sockets.sockets.get(server!.id) as unknown as { conn: { writeBuffer: unknown[] } }).conn;
    expect(engineSocket.writeBuffer.length).toBe(0);
    expect(sb.connected).toBe(true);
    sa.close();
    sb.close();
  });
});
