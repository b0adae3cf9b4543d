/**
 * Web Push routes on a real relay (docs/relay-api.md §"Web Push"): the VAPID key (made once,
 * kept beside the database 0600, the same after a restart), registering and removing a device's
 * subscription (signed by that device; endpoint and keys checked), the SDK's calls, --no-push,
 * and where pushes may never go (private addresses).
 */
import { statSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SealpostClient, MemoryPersistence, SdkError, enablePush, disablePush, fetchPushKey } from '../../client/sdk/index.js';
import { toBase64Url } from '../../crypto/encoding.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { pushSubject } from '../../server/push/plugin.js';
import { vapidPath } from '../../server/push/vapid.js';
import { endpointProblem, guardedLookup } from '../../server/push/subscription-check.js';
import { call, makeAccount, registerAll, registeredDevice, uniqueHandle, type TestDevice } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { startPushService, type TestPushService, type TestSubscription } from './push-service.js';

let relay: RelayHandle;
let service: TestPushService;
let device: TestDevice;
beforeAll(async () => {
  relay = await startRelay({ pushAllowInsecureEndpoints: true });
  service = await startPushService(() => undefined);
  device = await registeredDevice(relay.url, 'pusher');
});
afterAll(async () => {
  await relay?.close();
  await service?.close();
});

const put = (url: string, who: Pick<TestDevice, 'id' | 'keys'>, body: unknown, headers: Record<string, string> = {}) =>
  call(url, { method: 'PUT', path: '/v2/push/subscription', body, device: who.keys, headers: { 'x-sealpost-device-id': who.id, ...headers } });
const remove = (url: string, who: Pick<TestDevice, 'id' | 'keys'>) => call(url, { method: 'DELETE', path: '/v2/push/subscription', device: who.keys, headers: { 'x-sealpost-device-id': who.id } });
const rows = (db: string) => {
  const handle = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return handle.prepare('SELECT * FROM push_subscriptions').all() as Record<string, unknown>[];
  } finally {
    handle.close();
  }
};
const code = (body: unknown) => (body as { error?: { code?: string } }).error?.code;

describe('the VAPID key', () => {
  it('is made on first start, kept beside the database (0600) and served unchanged after a restart', async () => {
    const first = await fetch(`${relay.url}/v2/push/key`);
    expect(first.status).toBe(200);
    const { publicKey } = (await first.json()) as { publicKey: string };
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    const file = vapidPath(relay.dbPath);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ publicKey });
    relay = await relay.restart();
    expect(await (await fetch(`${relay.url}/v2/push/key`)).json()).toEqual({ publicKey });
  });
});

describe('PUT and DELETE /v2/push/subscription', () => {
  it('keep one subscription per device, signed by it: endpoint and keys, nothing else', async () => {
    const sub = service.subscribe('one');
    expect(await put(relay.url, device, { ...sub, expirationTime: null })).toMatchObject({ status: 200, body: { enabled: true } });
    const replacement = service.subscribe('two');
    expect((await put(relay.url, device, replacement)).status).toBe(200);
    expect(rows(relay.dbPath)).toEqual([{ device_id: device.id, endpoint: replacement.endpoint, p256dh: replacement.keys.p256dh, auth: replacement.keys.auth }]);
    expect(await remove(relay.url, device)).toMatchObject({ status: 200, body: { enabled: false } });
    expect(rows(relay.dbPath)).toEqual([]);
    // Removing again is not an error: the device gets no pushes either way.
    expect((await remove(relay.url, device)).status).toBe(200);
  });

  it('refuse unsigned requests, unregistered devices and another device’s signature', async () => {
    const sub = service.subscribe('refused');
    const unsigned = await call(relay.url, { method: 'PUT', path: '/v2/push/subscription', body: sub, headers: { 'x-sealpost-device-id': device.id } });
    expect([unsigned.status, code(unsigned.body)]).toEqual([401, 'unauthorized']);
    const stranger = (await makeAccount()).devices[0]!;
    expect(code((await put(relay.url, stranger, sub)).body)).toBe('unauthorized');
    const other = await registeredDevice(relay.url, 'other');
    const forged = await put(relay.url, { id: device.id, keys: other.keys }, sub);
    expect([forged.status, code(forged.body)]).toEqual([401, 'bad_signature']);
    expect(rows(relay.dbPath)).toEqual([]);
  });

  it('refuse endpoints that are not https:// on a public host, and keys that are not P-256 / 16 bytes', async () => {
    const { keys } = service.subscribe('shape');
    // (This relay runs with --push-allow-insecure-endpoints: loopback endpoints are its test push service's.)
    for (const endpoint of ['https://10.1.2.3/push', 'https://[fd00::1]/push', 'https://a.localhost/x', 'https://169.254.169.254/latest', 'http://push.example.org/x', 'ftp://push.example.org/x', 'https://user:pw@push.example.org/x', 'not a url']) {
      const refused = await put(relay.url, device, { endpoint, keys });
      expect([refused.status, code(refused.body)], endpoint).toEqual([400, 'invalid']);
    }
    const badPoint = Buffer.from(keys.p256dh, 'base64url');
    badPoint[40] = (badPoint[40] ?? 0) ^ 1;
    for (const bad of [{ ...keys, p256dh: toBase64Url(badPoint) }, { ...keys, auth: 'A'.repeat(21) }, { ...keys, extra: 'x' }]) {
      expect((await put(relay.url, device, { endpoint: 'https://push.example.org/x', keys: bad })).status).toBe(400);
    }
    expect((await put(relay.url, device, { endpoint: `https://push.example.org/${'x'.repeat(2048)}`, keys })).status).toBe(400);
    expect((await put(relay.url, device, { endpoint: 'https://push.example.org/x', keys, sender: 'alice' })).status).toBe(400);
    expect(rows(relay.dbPath)).toEqual([]);
    // Loopback http:// only with --push-allow-insecure-endpoints (development and tests).
    expect(endpointProblem('http://127.0.0.1:9/push', true)).toBeUndefined();
    expect(endpointProblem('http://127.0.0.1:9/push', false)).toMatch(/https/);
    for (const loopback of ['https://127.0.0.1/push', 'https://[::1]/push', 'https://localhost/push', 'https://[::ffff:127.0.0.1]/push']) expect(endpointProblem(loopback, false), loopback).toBeDefined();
    expect(endpointProblem('https://fcm.googleapis.com/fcm/send/abc', false)).toBeUndefined();
  });

  it('send no push to a name that resolves to a private address', async () => {
    const resolve = (allow: boolean) =>
      new Promise<{ code?: string; address?: unknown }>((done) => guardedLookup(allow)('localhost', {}, (error, address) => done({ ...(error?.code ? { code: error.code } : {}), address })));
    expect((await resolve(false)).code).toBe('ENOTPUSHABLE');
    expect((await resolve(true)).code).toBeUndefined();
  });
});

describe('the SDK', () => {
  it('enables and disables push for its device with signed calls, and fetches the key as bytes', async () => {
    const client = await SealpostClient.open({ persistence: new MemoryPersistence() });
    try {
      await client.register(relay.url, uniqueHandle('sdkpush'));
      const key = await fetchPushKey(relay.url);
      expect(toBase64Url(key)).toBe(((await (await fetch(`${relay.url}/v2/push/key`)).json()) as { publicKey: string }).publicKey);
      const sub: TestSubscription = service.subscribe('sdk');
      // A browser's PushSubscription hands its JSON over through toJSON().
      await enablePush(client, { toJSON: () => ({ ...sub, expirationTime: null }) });
      expect(rows(relay.dbPath)).toEqual([{ device_id: client.deviceId, endpoint: sub.endpoint, p256dh: sub.keys.p256dh, auth: sub.keys.auth }]);
      await disablePush(client);
      expect(rows(relay.dbPath)).toEqual([]);
      await expect(enablePush(client, { endpoint: 'http://push.example.org/x', keys: sub.keys })).rejects.toMatchObject({ code: 'relay_error', details: { relayCode: 'invalid' } });
    } finally {
      await client.close();
    }
  });
});

describe('--no-push', () => {
  it('answers 404 not_found on every push route, to the SDK too', async () => {
    const off = await startRelay({ push: false });
    try {
      const account = await makeAccount();
      await registerAll(off.url, account);
      const mine = account.devices[0]!;
      const key = await fetch(`${off.url}/v2/push/key`);
      expect([key.status, code(await key.json())]).toEqual([404, 'not_found']);
      expect(code((await put(off.url, mine, service.subscribe('off'))).body)).toBe('not_found');
      expect(code((await remove(off.url, mine)).body)).toBe('not_found');
      const error = await fetchPushKey(off.url).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SdkError);
      expect(error).toMatchObject({ code: 'relay_error', details: { relayCode: 'not_found', status: 404 } });
    } finally {
      await off.close();
    }
  });
});

describe('push options', () => {
  it('are on by default; --no-push or SEALPOST_PUSH=false turn push off; the subject is a mailto: or https: URL', () => {
    const memory = { db: ':memory:' };
    expect(loadConfig([], {}, memory)).toMatchObject({ push: true, pushMinIntervalMs: 5000, pushAllowInsecureEndpoints: false, pushSubject: undefined });
    expect(loadConfig(['--no-push'], {}, memory).push).toBe(false);
    expect(loadConfig([], { SEALPOST_PUSH: 'false' }, memory).push).toBe(false);
    expect(() => loadConfig(['--push-subject', 'http://relay.example.org'], {}, memory)).toThrow(ConfigError);
    expect(pushSubject(loadConfig(['--push-subject', 'mailto:ops@example.org'], {}, memory))).toBe('mailto:ops@example.org');
    expect(pushSubject(loadConfig(['--public-origin', 'https://relay.example.org'], {}, memory))).toBe('https://relay.example.org');
    expect(pushSubject(loadConfig(['--public-origin', 'http://relay.example.org'], {}, memory))).toBe('mailto:postmaster@localhost');
  });
});

