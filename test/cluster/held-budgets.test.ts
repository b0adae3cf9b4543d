/**
 * Budgets of things an address holds, across the nodes of a cluster (issue 18: "in cluster mode
 * every limit holds across nodes"): live sockets per IP, connections whose handshake has not
 * verified, and link blobs per address are leases in Redis (server/cluster/redis-leases.ts), so
 * an address holds each budget once, not once per node. The leases themselves are tested on
 * the real Redis too: an expired lease gives its room back, a released one at once.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toBase64Url } from '../../crypto/encoding.js';
import { redisLeases } from '../../server/cluster/redis-leases.js';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { call, connectDevice, handshakeAuth, makeAccount, makeDevice, refusalCode, registerAll, type ClientSocket, type TestAccount } from '../support/identity.js';

let cluster: TestCluster;
let account: TestAccount;
const url = (i: number): string => cluster.nodes[i]!.url;

beforeAll(async () => {
  cluster = await startCluster(2, { maxConnectionsPerIp: 3, maxUnauthenticatedPerIp: 2 });
  account = await makeAccount({ devices: 4 });
  await registerAll(url(0), account);
}, 120_000);
afterAll(async () => {
  await cluster?.close();
}, 30_000);

/** A raw Engine.IO WebSocket that never sends its CONNECT: resolves once open (its OPEN packet came), rejects when refused or closed. */
function anonymous(base: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve(ws));
    ws.once('error', reject);
    ws.once('close', (code) => reject(new Error(`closed ${code}`)));
  });
}

/** Whether a connection stays open for `ms` (a connection over the budget is closed once the lease is refused). */
function staysOpen(ws: WebSocket, ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms);
    ws.once('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

async function eventually(probe: () => Promise<boolean>, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('budgets an address holds, across nodes', () => {
  it('counts an address’s sockets once across the nodes, and gives a slot back when one closes', async () => {
    const [d0, d1, d2, d3] = account.devices as [TestAccount['devices'][0], TestAccount['devices'][0], TestAccount['devices'][0], TestAccount['devices'][0]];
    const held: ClientSocket[] = [await connectDevice(url(0), d0), await connectDevice(url(1), d1), await connectDevice(url(0), d2)];
    // Three sockets on two nodes: the fourth, on either node, is refused.
    expect(await refusalCode(url(1), handshakeAuth(url(1), d3))).toBe('rate_limited');
    expect(await refusalCode(url(0), handshakeAuth(url(0), d3))).toBe('rate_limited');
    held[1]!.close();
    expect(await eventually(async () => (await refusalCode(url(1), handshakeAuth(url(1), d3))) === 'connected')).toBe(true);
    for (const s of held) s.close();
  });

  it('counts connections that never handshake once across the nodes', async () => {
    // Earlier sockets' leases are released as they close; wait until the address holds none.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const first = await anonymous(url(0));
    const second = await anonymous(url(1));
    // Each node alone holds one: both let the third in at the upgrade, and the shared budget closes it.
    const third = await anonymous(url(0)).catch(() => undefined);
    if (third) expect(await staysOpen(third)).toBe(false);
    const fourth = await anonymous(url(1)).catch(() => undefined);
    if (fourth) expect(await staysOpen(fourth)).toBe(false);
    // Both budgets still hold their two; one leaves and the next is admitted and kept.
    expect(first.readyState).toBe(WebSocket.OPEN);
    expect(second.readyState).toBe(WebSocket.OPEN);
    first.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const next = await anonymous(url(1));
    expect(await staysOpen(next)).toBe(true);
    second.close();
    next.close();
  });

  it('holds the link mailbox budget of an address across the nodes', async () => {
    const body = toBase64Url(new Uint8Array(1000).fill(7));
    const put = (node: number) => call(url(node), { method: 'PUT', path: `/v2/provisioning/${makeDevice({ handle: 'x' }).id}`, body: { body } });
    const statuses: number[] = [];
    // 10 blobs per address (DEFAULT_MAILBOX_LIMITS), put alternately through the two nodes.
    for (let i = 0; i < 12; i += 1) statuses.push((await put(i % 2)).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(204));
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});

describe('leases in Redis', () => {
  it('lets a key hold its count and weight, gives room back on release and on expiry, and never over-grants to takers at once', async () => {
    const redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: 1 });
    const shared = redisLeases(redis);
    try {
      const leases = shared.leases('test', { maxCount: 3, maxWeight: 100, ttlMs: 400 });
      const a = await leases.take('k', 60);
      expect(a).toBeDefined();
      expect(await leases.take('k', 50)).toBeUndefined(); // 110 > 100
      a!.release();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const taken = await Promise.all(Array.from({ length: 10 }, () => leases.take('k', 1)));
      expect(taken.filter(Boolean)).toHaveLength(3);
      expect(await leases.take('other', 1)).toBeDefined();
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await leases.take('k', 1)).toBeDefined();
    } finally {
      shared.close();
      redis.disconnect();
    }
  });
});
