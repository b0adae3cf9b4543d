/**
 * A node killed with SIGKILL mid-stream, three times, under load (issue: relays in a cluster):
 * its recipient reconnects to another node and loses nothing. Every envelope acknowledged to a
 * sender is delivered, exactly once after the client's dedup by id, and each connection gets its
 * envelopes in strictly increasing sequence. Nodes are child processes of the built binary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildRelay } from '../support/child-relay.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, registerAll, type ClientSocket, type TestDevice } from '../support/identity.js';

let cluster: TestCluster;
beforeAll(async () => {
  // The in-process nodes are not used here: every node is a child process.
  cluster = await startCluster(0);
}, 60_000);
afterAll(async () => cluster?.close(), 30_000);

/** Connects `device` and acknowledges cumulatively; records, per connection, the seqs in arrival order. */
async function connectReader(url: string, device: TestDevice, received: Set<string>, orders: number[][]): Promise<ClientSocket> {
  const order: number[] = [];
  orders.push(order);
  return connectDevice(url, device, (s) => {
    s.on('envelopes', (batch) => {
      for (const e of batch) {
        received.add(e.id);
        if (e.seq !== undefined) order.push(e.seq);
      }
      const last = batch.at(-1)?.seq;
      if (last !== undefined) s.emit('ack', { upTo: last }, () => undefined);
    });
  });
}

describe('a node killed with SIGKILL', () => {
  it('loses nothing that was acknowledged to a sender, three times under load', async () => {
    const nodes: ChildRelay[] = [await cluster.spawnNode(), await cluster.spawnNode()];
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(nodes[0]!.url, alice);
    await registerAll(nodes[0]!.url, bob);
    const acknowledged = new Set<string>();
    const received = new Set<string>();
    const orders: number[][] = [];
    // The sender stays on node 0, which is never killed; the recipient moves to a fresh node each round.
    const sender = await connectDevice(nodes[0]!.url, alice.devices[0]!);
    let sending = true;
    const load = (async () => {
      while (sending) {
        const batch = Array.from({ length: 5 }, (_, i) => envelopeTo(bob.devices[0]!, `m${i}`));
        const result = await send(sender, batch, 10_000).catch(() => undefined);
        if (result?.ok) for (const e of batch) if (!result.failed.some((f) => f.id === e.id)) acknowledged.add(e.id);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    let reader: ClientSocket | undefined;
    for (let round = 0; round < 3; round += 1) {
      const victim = await cluster.spawnNode();
      reader?.close();
      reader = await connectReader(victim.url, bob.devices[0]!, received, orders);
      await new Promise((r) => setTimeout(r, 700));
      victim.child.kill('SIGKILL');
      await victim.exited;
      await new Promise((r) => setTimeout(r, 300));
      // Back on a surviving node, draining what was stored meanwhile.
      reader.close();
      reader = await connectReader(nodes[1]!.url, bob.devices[0]!, received, orders);
      await new Promise((r) => setTimeout(r, 300));
    }
    sending = false;
    await load;
    expect(acknowledged.size).toBeGreaterThan(100);
    const deadline = Date.now() + 20_000;
    while ([...acknowledged].some((id) => !received.has(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect([...acknowledged].filter((id) => !received.has(id))).toEqual([]);
    for (const order of orders) for (let i = 1; i < order.length; i += 1) expect(order[i]!).toBeGreaterThan(order[i - 1]!);
    reader?.close();
    sender.close();
  }, 120_000);
});
