/**
 * Web Push in cluster mode (two nodes on one PostgreSQL and one Redis): every node serves the
 * same VAPID key (one row in PostgreSQL); a device connected to node 2 gets no push when node 1
 * stores its envelope (Redis answers node 1's notice PUBLISH with the nodes listening on the device's channel), and one
 * push once it disconnected; a removed device's subscription goes with it (foreign key); while
 * Redis is down the relay pushes anyway.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../support/cluster.js';
import { connectInbox, envelopeTo, quietPeriod, send } from '../support/envelopes.js';
import { call, connectDevice, listWithout, makeAccount, publishList, registerAll, uniqueHandle, type ClientSocket, type TestAccount, type TestDevice } from '../support/identity.js';
import { startPushService, type TestPushService } from './push-service.js';

let cluster: TestCluster;
let service: TestPushService;
let relayKey: string | undefined;
let alice: TestAccount;
let aliceSocket: ClientSocket;
const url = (i: number): string => cluster.nodes[i]!.url;

beforeAll(async () => {
  cluster = await startCluster(2, { pushAllowInsecureEndpoints: true, pushMinIntervalMs: 300 });
  relayKey = ((await (await fetch(`${url(0)}/v2/push/key`)).json()) as { publicKey: string }).publicKey;
  service = await startPushService(() => relayKey);
  alice = await makeAccount({ handle: uniqueHandle('alice') });
  await registerAll(url(0), alice);
  aliceSocket = await connectDevice(url(0), alice.devices[0]!);
}, 120_000);
afterAll(async () => {
  aliceSocket?.close();
  await service?.close();
  await cluster?.close();
}, 30_000);

async function subscribed(name: string, devices = 1): Promise<{ account: TestAccount; device: TestDevice }> {
  const account = await makeAccount({ handle: uniqueHandle(name), devices });
  await registerAll(url(1), account);
  const device = account.devices.at(-1)!;
  const put = await call(url(1), { method: 'PUT', path: '/v2/push/subscription', body: service.subscribe(name), device: device.keys, headers: { 'x-sealpost-device-id': device.id } });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  return { account, device };
}

async function pushed(name: string, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (service.pushesFor(name).length < count) {
    if (Date.now() > deadline) throw new Error(`${name}: ${service.pushesFor(name).length} pushes, expected ${count}`);
    await quietPeriod(25);
  }
}

async function subscriptionCount(device: TestDevice): Promise<number> {
  const client = new pg.Client({ connectionString: cluster.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM push_subscriptions WHERE device_id = $1', [device.id]);
    return Number(rows[0]?.n);
  } finally {
    await client.end();
  }
}

describe('Web Push across nodes', () => {
  it('signs with one VAPID key on every node', async () => {
    expect(await (await fetch(`${url(1)}/v2/push/key`)).json()).toEqual({ publicKey: relayKey });
  });

  it('sends no push to a device connected to another node, and one once it left', async () => {
    const { device } = await subscribed('bob');
    const { socket, inbox } = await connectInbox(url(1), device);
    // Node 1 stores it; node 2 holds bob's socket and delivers it after the notice.
    expect(await send(aliceSocket, envelopeTo(device, 'while connected to node 2'))).toMatchObject({ ok: true });
    await inbox.waitForCount(1);
    await quietPeriod(600);
    expect(service.pushesFor('bob')).toEqual([]);

    socket.close();
    await quietPeriod(400);
    expect(await send(aliceSocket, envelopeTo(device, 'while away'))).toMatchObject({ ok: true });
    await pushed('bob', 1);
    const [push] = service.pushesFor('bob');
    expect(push!.vapid, push!.problem).toBe(true);
    expect(push!.plaintext?.toString()).toBe('{"v":1}');
  });

  it('deletes a removed device’s subscription in PostgreSQL', async () => {
    const { account, device } = await subscribed('removed', 2);
    expect(await subscriptionCount(device)).toBe(1);
    expect((await publishList(url(0), account, listWithout(account, [device.id]))).status).toBe(200);
    expect(await subscriptionCount(device)).toBe(0);
  });

  it('pushes anyway while Redis is down (it cannot say who is connected)', async () => {
    const { device } = await subscribed('no-redis');
    await cluster.redis.stop();
    await quietPeriod(300);
    expect(await send(aliceSocket, envelopeTo(device, 'redis is away'))).toMatchObject({ ok: true });
    await pushed('no-redis', 1);
  });
});
