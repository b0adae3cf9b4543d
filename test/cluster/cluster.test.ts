/**
 * Three relay nodes on one PostgreSQL and one Redis (issue: relays in a cluster). Devices on any
 * node reach each other; sequence numbers per device stay contiguous and in order whichever
 * nodes commit; Redis restarted or PostgreSQL stopped behave as docs/self-hosting.md says.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEnvelope } from '../../protocol/events.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, lookup, makeAccount, randomId, registerAll, type ClientSocket, type TestAccount, type TestDevice } from '../support/identity.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster(3);
}, 60_000);
afterAll(async () => cluster?.close(), 30_000);

const url = (i: number): string => cluster.nodes[i]!.url;

/** A socket that acknowledges every batch cumulatively (as the SDK does) and keeps what it got, in order. */
async function reader(nodeUrl: string, device: TestDevice): Promise<{ socket: ClientSocket; got: DeliveredEnvelope[]; until(n: number, ms?: number): Promise<void> }> {
  const got: DeliveredEnvelope[] = [];
  const socket = await connectDevice(nodeUrl, device, (s) => {
    s.on('envelopes', (batch) => {
      got.push(...batch);
      const last = batch.filter((e) => e.seq !== undefined).at(-1)?.seq;
      if (last !== undefined) s.emit('ack', { upTo: last }, () => undefined);
    });
  });
  return {
    socket,
    got,
    async until(n, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > deadline) throw new Error(`got ${got.length} of ${n} envelopes`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

async function twoAccounts(): Promise<{ alice: TestAccount; bob: TestAccount }> {
  const alice = await makeAccount();
  const bob = await makeAccount();
  await registerAll(url(0), alice);
  await registerAll(url(1), bob);
  return { alice, bob };
}

describe('a cluster of three relay nodes', () => {
  it('delivers from a sender on node 1 to a recipient on node 2, live and from the backlog, and to one device on two nodes at once', async () => {
    const { alice, bob } = await twoAccounts();
    const a = await connectDevice(url(0), alice.devices[0]!);
    // Backlog: bob is offline, then connects to node 3.
    const first = envelopeTo(bob.devices[0]!, 'while away');
    expect((await send(a, first)).ok).toBe(true);
    const late = await reader(url(2), bob.devices[0]!);
    await late.until(1);
    expect(late.got.map((e) => e.id)).toEqual([first.id]);
    // Live: bob also on node 2. The device's two sockets share one queue (an ack from either
    // deletes for both), so the device gets every envelope — on one socket or both — each socket in order.
    const other = await reader(url(1), bob.devices[0]!);
    const live = Array.from({ length: 5 }, (_, i) => envelopeTo(bob.devices[0]!, `live ${i}`));
    for (const e of live) expect((await send(a, e)).ok).toBe(true);
    const union = (): Set<string> => new Set([...late.got, ...other.got].map((e) => e.id));
    const deadline = Date.now() + 10_000;
    while (union().size < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(union()).toEqual(new Set([first.id, ...live.map((e) => e.id)]));
    for (const socket of [late, other]) {
      const seqs = socket.got.map((e) => e.seq ?? 0);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    for (const s of [a, late.socket, other.socket]) s.close();
  });

  it('keeps one device\'s sequence contiguous and in order with senders on all three nodes at once', async () => {
    const { alice, bob } = await twoAccounts();
    const recipient = await reader(url(1), bob.devices[0]!);
    const senders = await Promise.all([0, 1, 2].map((i) => connectDevice(url(i), alice.devices[0]!)));
    const ids = new Set<string>();
    const perSender = 60;
    await Promise.all(
      senders.map(async (s) => {
        for (let i = 0; i < perSender; i += 3) {
          const batch = [0, 1, 2].map(() => ({ ...envelopeTo(bob.devices[0]!, 'x'), id: randomId() }));
          for (const e of batch) ids.add(e.id);
          const result = await send(s, batch);
          expect(result.ok && result.failed).toEqual([]);
        }
      }),
    );
    await recipient.until(ids.size, 20_000);
    const seqs = recipient.got.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: ids.size }, (_, i) => i + 1));
    expect(new Set(recipient.got.map((e) => e.id))).toEqual(ids);
    for (const s of [recipient.socket, ...senders]) s.close();
  }, 40_000);

  it('goes on delivering while Redis restarts (by reading PostgreSQL), and sends never fail', async () => {
    const { alice, bob } = await twoAccounts();
    const recipient = await reader(url(2), bob.devices[0]!);
    const a = await connectDevice(url(0), alice.devices[0]!);
    let sent = 0;
    for (let round = 0; round < 3; round += 1) {
      if (round === 1) await cluster.redis.restart();
      for (let i = 0; i < 20; i += 1) {
        expect((await send(a, envelopeTo(bob.devices[0]!, `r${round}`))).ok).toBe(true);
        sent += 1;
      }
    }
    await recipient.until(sent, 15_000);
    expect(recipient.got.map((e) => e.seq)).toEqual(Array.from({ length: sent }, (_, i) => i + 1));
    a.close();
    recipient.socket.close();
  }, 40_000);

  it('answers sends `unavailable` and /readyz 503 while PostgreSQL is down, and recovers by itself', async () => {
    const { alice, bob } = await twoAccounts();
    const a = await connectDevice(url(0), alice.devices[0]!);
    await cluster.postgres.stopPostgres();
    try {
      const refused = await send(a, envelopeTo(bob.devices[0]!, 'while down'), 15_000);
      expect(refused.ok).toBe(false);
      expect(!refused.ok && refused.error.code).toBe('unavailable');
      const ready = await fetch(`${url(0)}/readyz`);
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    } finally {
      await cluster.postgres.startPostgres();
    }
    const deadline = Date.now() + 15_000;
    let result = await send(a, envelopeTo(bob.devices[0]!, 'after'));
    while (!result.ok && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      result = await send(a, envelopeTo(bob.devices[0]!, 'after'));
    }
    expect(result.ok).toBe(true);
    expect((await fetch(`${url(0)}/readyz`)).status).toBe(200);
    const recipient = await reader(url(1), bob.devices[0]!);
    await recipient.until(1);
    a.close();
    recipient.socket.close();
  }, 60_000);

  it('holds a budget keyed to the asking device across nodes (lookups per device, in Redis)', async () => {
    const strict = await Promise.all([0, 1, 2].map(() => cluster.addNode({ lookupsPerDevice: 4 })));
    const { alice, bob } = await twoAccounts();
    const statuses: number[] = [];
    for (let i = 0; i < 9; i += 1) statuses.push((await lookup(strict[i % 3]!.url, alice.devices[0]!, bob.handle)).status);
    // Three lookups per node: each node's own budget of 4 would let all nine through.
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
  });
});
