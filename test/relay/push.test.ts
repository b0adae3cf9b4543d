/**
 * When the relay pushes (server/push/notifier.ts), against a real relay and a test push service
 * on 127.0.0.1 that checks the VAPID signature and decrypts each payload with the subscription's
 * keys (push-service.ts): only to a device with no live socket; one push for a burst; nothing
 * about the message, sender or recipient in the push; a subscription the push service reports
 * gone is deleted, and so is a removed device's; --no-push sends nothing; endpoints never reach
 * the logs.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PUSH_PAYLOAD } from '../../server/push/sender.js';
import { envelopeTo, connectInbox, quietPeriod, send } from '../support/envelopes.js';
import { call, connectDevice, listWithout, makeAccount, publishList, registerAll, uniqueHandle, type ClientSocket, type TestAccount, type TestDevice } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { startPushService, type ReceivedPush, type TestPushService } from './push-service.js';

const INTERVAL_MS = 1500;
const MARKER = 'push-privacy-marker-7f3a91';

let relay: RelayHandle;
let service: TestPushService;
let relayKey: string | undefined;
let alice: TestAccount;
let aliceSocket: ClientSocket;
beforeAll(async () => {
  relay = await startRelay({ pushAllowInsecureEndpoints: true, pushMinIntervalMs: INTERVAL_MS });
  relayKey = ((await (await fetch(`${relay.url}/v2/push/key`)).json()) as { publicKey: string }).publicKey;
  service = await startPushService(() => relayKey);
  alice = await makeAccount({ handle: uniqueHandle('alice') });
  await registerAll(relay.url, alice);
  aliceSocket = await connectDevice(relay.url, alice.devices[0]!);
});
afterAll(async () => {
  aliceSocket?.close();
  await relay?.close();
  await service?.close();
});

/** A new account whose device registered a subscription at the test push service under `name`. */
async function subscribed(name: string, devices = 1): Promise<{ account: TestAccount; device: TestDevice }> {
  const account = await makeAccount({ handle: uniqueHandle(name), devices });
  await registerAll(relay.url, account);
  const device = account.devices.at(-1)!;
  const put = await call(relay.url, { method: 'PUT', path: '/v2/push/subscription', body: service.subscribe(name), device: device.keys, headers: { 'x-sealpost-device-id': device.id } });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  return { account, device };
}

async function sendTo(device: TestDevice, text = MARKER): Promise<void> {
  const ack = await send(aliceSocket, envelopeTo(device, text));
  expect(ack).toMatchObject({ ok: true });
}

async function pushes(name: string, count: number, timeoutMs = 5000): Promise<ReceivedPush[]> {
  const deadline = Date.now() + timeoutMs;
  while (service.pushesFor(name).length < count) {
    if (Date.now() > deadline) throw new Error(`${name}: ${service.pushesFor(name).length} pushes, expected ${count}`);
    await quietPeriod(25);
  }
  return service.pushesFor(name);
}

const subscriptionRows = (device: TestDevice): number => {
  const db = new Database(relay.dbPath, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM push_subscriptions WHERE device_id = ?').get(device.id) as { n: number }).n;
  } finally {
    db.close();
  }
};

async function metric(result: string): Promise<number> {
  const text = await (await fetch(`${relay.url}/metrics`)).text();
  return Number(new RegExp(`^sealpost_push_sent_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('pushes', () => {
  it('go only to a device with no live socket, signed with the relay key and carrying nothing about the message', async () => {
    const { account: bob, device } = await subscribed('bob');
    const { socket, inbox } = await connectInbox(relay.url, device);
    await sendTo(device);
    await inbox.waitForCount(1);
    await quietPeriod(500);
    expect(service.pushesFor('bob')).toEqual([]);

    socket.close();
    await quietPeriod(200);
    await sendTo(device);
    const [push] = await pushes('bob', 1);
    expect(push!.problem).toBeUndefined();
    expect(push!.vapid).toBe(true);
    expect(push!.jwt).toMatchObject({ aud: service.origin, sub: 'mailto:postmaster@localhost' });
    expect(push!.headers).toMatchObject({ topic: 'sealpost', ttl: '3600', urgency: 'normal', 'content-encoding': 'aes128gcm' });
    // The payload, opened with the subscription's keys, is the fixed marker and nothing else.
    expect(push!.plaintext?.toString()).toBe(PUSH_PAYLOAD);
    const seen = Buffer.concat([push!.body, push!.plaintext ?? Buffer.alloc(0), Buffer.from(JSON.stringify(push!.headers))]).toString('latin1');
    for (const needle of [MARKER, alice.handle, alice.devices[0]!.id, bob.handle, device.id]) expect(seen).not.toContain(needle);
    expect(await metric('sent')).toBeGreaterThanOrEqual(1);
  });

  it('collapse a burst: ten envelopes within a second are one push; the next interval gets another', async () => {
    const { device } = await subscribed('burst');
    for (let i = 0; i < 10; i += 1) {
      await sendTo(device, `${MARKER} ${i}`);
      await quietPeriod(90);
    }
    await quietPeriod(300);
    expect(await pushes('burst', 1)).toHaveLength(1);
    await quietPeriod(INTERVAL_MS);
    await sendTo(device);
    expect(await pushes('burst', 2)).toHaveLength(2);
  });

  it('delete a subscription the push service reports gone (410): the next envelope makes no request', async () => {
    const { device } = await subscribed('gone');
    service.answer('gone', 410);
    const before = await metric('gone');
    await sendTo(device);
    expect((await pushes('gone', 1))[0]!.status).toBe(410);
    const deadline = Date.now() + 3000;
    while (subscriptionRows(device) > 0 && Date.now() < deadline) await quietPeriod(25);
    expect(subscriptionRows(device)).toBe(0);
    expect(await metric('gone')).toBe(before + 1);
    await quietPeriod(INTERVAL_MS);
    await sendTo(device);
    await quietPeriod(500);
    expect(service.pushesFor('gone')).toHaveLength(1);
  });

  it('end with the device: a removed device’s subscription is deleted', async () => {
    const { account, device } = await subscribed('removed', 2);
    expect(subscriptionRows(device)).toBe(1);
    expect((await publishList(relay.url, account, listWithout(account, [device.id]))).status).toBe(200);
    expect(subscriptionRows(device)).toBe(0);
  });

  it('never put an endpoint in the logs', () => {
    const logs = relay.logs.join('\n');
    expect(logs).toContain('push_subscription_gone');
    // The test service's endpoints are http://127.0.0.1:PORT/push/NAME.
    expect(logs).not.toContain(service.origin);
    expect(logs).not.toMatch(/push\/(bob|burst|gone|removed)/);
  });
});

describe('--no-push', () => {
  it('sends nothing, even to a device that registered a subscription before', async () => {
    const { device } = await subscribed('off');
    relay = await relay.restart({ push: false });
    aliceSocket.close();
    aliceSocket = await connectDevice(relay.url, alice.devices[0]!);
    await sendTo(device);
    await quietPeriod(800);
    expect(service.pushesFor('off')).toEqual([]);
    expect(await metric('sent')).toBe(0);
  });
});
