/**
 * Nothing plaintext or secret reaches what a cluster writes: PostgreSQL (a full data dump),
 * Redis (every key), and every file of each node (logs). A control needle that must be stored
 * (a device id) proves the dump is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { envelopeTo, send } from '../support/envelopes.js';
import { connectDevice, makeAccount, registerAll } from '../support/identity.js';
import { expectNoNeedles, scanForNeedles, type ScanSources } from '../support/privacy-scan.js';

let cluster: TestCluster;
beforeAll(async () => {
  cluster = await startCluster(2);
}, 60_000);
afterAll(async () => cluster?.close(), 30_000);

describe('what a cluster writes', () => {
  it('holds no plaintext and no private key in PostgreSQL, Redis or any node\'s files', async () => {
    const [one, two] = cluster.nodes;
    const alice = await makeAccount();
    const bob = await makeAccount();
    await registerAll(one!.url, alice);
    await registerAll(two!.url, bob);
    const secrets = ['cluster secret: meet at the old mill at nine', 'ephemeral secret: typing about the mill'];
    const sender = await connectDevice(one!.url, alice.devices[0]!);
    // Bob is offline: the first is stored in PostgreSQL; the second is ephemeral (Redis only carries it).
    expect((await send(sender, envelopeTo(bob.devices[0]!, secrets[0]!))).ok).toBe(true);
    const listener = await connectDevice(two!.url, bob.devices[0]!);
    expect((await send(sender, envelopeTo(bob.devices[0]!, secrets[1]!, { ephemeral: true }))).ok).toBe(true);
    sender.close();
    listener.close();

    const sources: ScanSources = {
      postgresUrl: cluster.databaseUrl,
      redisUrl: cluster.redis.url,
      files: cluster.nodes.map((node) => node.logPath),
      captured: Object.fromEntries(cluster.nodes.map((node, i) => [`node ${i} log lines`, node.logs])),
    };
    const control = await scanForNeedles(sources, [bob.devices[0]!.id]);
    expect(control.hits.some((hit) => hit.where.startsWith('pg_dump'))).toBe(true);
    const report = await expectNoNeedles(sources, [...secrets, alice.devices[0]!.keys.privateKey, bob.devices[0]!.keys.privateKey, alice.identity.privateKey]);
    expect(report.scanned.some((where) => where.startsWith('pg_dump'))).toBe(true);
    expect(report.scanned.some((where) => where.startsWith('redis') || where.includes('redis'))).toBe(true);
  });
});
