/**
 * Issue 18, "the relay stays up for everyone": limits keyed to who asks, tried as an attacker
 * would. One signer spending nonces as fast as it can is refused alone (its own nonce table and
 * request bucket) while everyone else still connects and signs; handles cannot be enumerated
 * (lookups are signed by a registered device, limited per device and per IP; the recovery lookup
 * answers an unknown handle like a wrong key); the link mailbox has budgets per address, per
 * target and in total, and a few hundred addresses cannot fill it for everyone; prototype keys
 * in a JSON body are refused; the static route does not follow a symlink out of --static-dir.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../crypto/encoding.js';
import { generateSigningKeyPair } from '../../crypto/keys.js';
import { DEFAULT_MAILBOX_LIMITS, ProvisioningMailbox, addressKey } from '../../server/routes/provisioning-mailbox.js';
import type { NonceCache } from '../../server/http/nonce-cache.js';
import {
  addDevice,
  call,
  connectDevice,
  handshakeAuth,
  lookup,
  makeAccount,
  makeDevice,
  publishList,
  randomId,
  refusalCode,
  registeredDevice,
  signList,
  type CallResult,
  type TestDevice,
} from '../support/identity.js';
import { relaysClosedAfterAll } from '../support/two-accounts.js';
import { startRelay } from '../support/relay.js';

const { setup, track } = relaysClosedAfterAll();
const code = (r: CallResult): string | undefined => (r.body as { error?: { code?: string } } | undefined)?.error?.code;

/** A signed request with an empty prekey upload: the cheapest signed request a device can make. */
const touch = (url: string, device: TestDevice, headers: Record<string, string> = {}): Promise<CallResult> =>
  call(url, { method: 'PUT', path: `/v2/devices/${device.id}/prekeys`, body: {}, device: device.keys, headers });

/** Runs `total` calls, `width` at a time; returns how often each status answered and each code. */
async function flood(total: number, width: number, one: () => Promise<CallResult>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      next += 1;
      const r = await one();
      const key = code(r) ?? String(r.status);
      counts[key] = (counts[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return counts;
}

describe('one signer cannot lock everyone out (nonces and requests per signer)', () => {
  it('5,000 signed requests from one device: it alone is refused rate_limited; others still connect and sign', async () => {
    // The bucket wide open, so the nonce table alone has to hold: one signer, its own cap.
    const { relay, alice, bob } = await setup({ noncesPerDevice: 1000, signedRequestsPerDevice: 1_000_000 });
    const attacker = alice.devices[0]!;
    const victim = bob.devices[0]!;
    const counts = await flood(5000, 16, () => touch(relay.url, attacker));
    // Its registration (a request signed by the device key) spent the first of its 1,000 nonces.
    expect(counts['200']).toBe(999);
    expect(counts['rate_limited']).toBe(4001);
    expect(counts['replayed_nonce']).toBeUndefined();
    expect((relay.app.relay.nonces as NonceCache).countOf(attacker.id)).toBe(1000);
    // The attacker's handshakes share its table; everyone else's do not.
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, attacker))).toBe('rate_limited');
    const socket = await connectDevice(relay.url, victim);
    socket.close();
    expect((await touch(relay.url, victim)).status).toBe(200);
    const newcomer = await registeredDevice(relay.url, 'newcomer');
    expect((await lookup(relay.url, newcomer, bob.handle)).status).toBe(200);
  }, 120_000);

  it('limits signed requests per signer with a token bucket; refused ones spend no nonce', async () => {
    const { relay, alice, bob } = await setup({ signedRequestsPerDevice: 40 });
    const counts = await flood(60, 8, () => touch(relay.url, alice.devices[0]!));
    // The registration took the first token.
    expect(counts).toEqual({ '200': 39, rate_limited: 21 });
    expect((relay.app.relay.nonces as NonceCache).countOf(alice.devices[0]!.id)).toBe(40);
    expect((await touch(relay.url, bob.devices[0]!)).status).toBe(200);
  });
});

describe('handles cannot be enumerated', () => {
  it('refuses an unsigned lookup 401 and one by an unregistered device 401; answers a registered one', async () => {
    const { relay, alice, bob } = await setup();
    expect(code(await call(relay.url, { method: 'GET', path: `/v2/accounts/${alice.handle}` }))).toBe('unauthorized');
    expect(code(await call(relay.url, { method: 'GET', path: '/v2/accounts/nobody_here' }))).toBe('unauthorized');
    const stranger = makeDevice({ handle: 'stranger' });
    expect(code(await lookup(relay.url, stranger, alice.handle))).toBe('unauthorized');
    // Signed by someone else's key while naming bob's device: the signature does not verify.
    expect(code(await lookup(relay.url, { id: bob.devices[0]!.id, keys: alice.devices[0]!.keys }, alice.handle))).toBe('bad_signature');
    expect((await lookup(relay.url, bob.devices[0]!, alice.handle)).status).toBe(200);
    expect(code(await lookup(relay.url, bob.devices[0]!, 'nobody_here'))).toBe('not_found');
  });

  it('limits lookups per device and per IP', async () => {
    const { relay, alice, bob } = await setup({ lookupsPerDevice: 5, lookupsPerIp: 12, trustProxy: ['127.0.0.1'] });
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    const sweeper = alice.devices[0]!;
    const answers = [];
    for (let i = 0; i < 7; i++) answers.push((await lookup(relay.url, sweeper, `guess_${i}`, from('203.0.113.1'))).status);
    expect(answers).toEqual([404, 404, 404, 404, 404, 429, 429]);
    // Another device is not held back by the sweeper's budget…
    expect((await lookup(relay.url, bob.devices[0]!, alice.handle, from('203.0.113.1'))).status).toBe(200);
    // …but its address is: many devices behind one address share its budget (12 a minute).
    const helpers = await Promise.all([1, 2].map(() => registeredDevice(relay.url, 'helper')));
    const more: number[] = [];
    for (const helper of helpers) for (let i = 0; i < 3; i++) more.push((await lookup(relay.url, helper, alice.handle, from('203.0.113.1'))).status);
    expect(more.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect((await lookup(relay.url, helpers[0]!, alice.handle, from('198.51.100.7'))).status).toBe(200);
  });

  it('the recovery lookup answers only the account identity key, and an unknown handle like a wrong key', async () => {
    const { relay, alice } = await setup();
    const path = (handle: string) => `/v2/accounts/${handle}/device-list`;
    const own = await call(relay.url, { method: 'GET', path: path(alice.handle), device: alice.identity });
    expect(own.status).toBe(200);
    expect(own.body).toEqual({ handle: alice.handle, identityKey: alice.identityKey, deviceList: alice.list });
    const wrongKey = await call(relay.url, { method: 'GET', path: path(alice.handle), device: generateSigningKeyPair() });
    const unknown = await call(relay.url, { method: 'GET', path: path('nobody_here'), device: generateSigningKeyPair() });
    expect(wrongKey).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    expect(unknown).toEqual(wrongKey);
    expect(code(await call(relay.url, { method: 'GET', path: path(alice.handle) }))).toBe('unauthorized');
    // A device key is not the authority either.
    expect(code(await call(relay.url, { method: 'GET', path: path(alice.handle), device: alice.devices[0]!.keys }))).toBe('bad_signature');
  });
  it('answers a device added, or a list published, for an unknown handle exactly like a list signed by the wrong key', async () => {
    const { relay, alice } = await setup();
    const stranger = await makeAccount({ handle: 'nobody_here' });
    const newcomer = makeDevice(alice);
    // For alice: a list naming the newcomer, signed by a key that is not alice's authority.
    const forged = signList(alice, [...alice.devices, newcomer], 2, { signWith: stranger.identity.privateKey });
    const wrongKeyAdd = await addDevice(relay.url, alice, newcomer, forged);
    const unknownAdd = await addDevice(relay.url, stranger, stranger.devices[0]!);
    expect(wrongKeyAdd).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    expect(unknownAdd).toEqual(wrongKeyAdd);
    const wrongKeyList = await publishList(relay.url, alice, forged);
    const unknownList = await publishList(relay.url, stranger, signList(stranger, stranger.devices, 2));
    expect(wrongKeyList).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    expect(unknownList).toEqual(wrongKeyList);
  });
});

describe('the link mailbox has budgets per address, per target and in total', () => {
  const blob = (bytes: number) => toBase64Url(new Uint8Array(bytes).fill(1));

  it('refuses an address over its budget (rate_limited) while another address can still link', async () => {
    const relay = track(await startRelay({ trustProxy: ['127.0.0.1'] }));
    const put = (target: string, body: string, ip: string) =>
      call(relay.url, { method: 'PUT', path: `/v2/provisioning/${target}`, body: { body }, headers: { 'x-forwarded-for': ip } });
    const target = () => makeDevice({ handle: 'x' }).id;
    const attacker = '203.0.113.9';
    // One maximal blob (64 KiB) fits the address's 128 KiB; a second does not.
    expect((await put(target(), blob(65_536), attacker)).status).toBe(204);
    expect(code(await put(target(), blob(65_536), attacker))).toBe('rate_limited');
    // Small blobs up to the address's count (10 in all), then refused.
    const small: number[] = [];
    for (let i = 0; i < 10; i++) small.push((await put(target(), randomId(32), attacker)).status);
    expect(small).toEqual([204, 204, 204, 204, 204, 204, 204, 204, 204, 429]);
    // Another address links as usual: put, then the new device claims.
    const newDevice = makeDevice({ handle: 'y' });
    expect((await put(newDevice.id, randomId(64), '198.51.100.20')).status).toBe(204);
    const claimed = await call(relay.url, { method: 'POST', path: `/v2/provisioning/${newDevice.id}/claim`, device: newDevice.keys });
    expect((claimed.body as { bodies: string[] }).bodies).toHaveLength(1);
    // An IPv6 host counts by its /64: changing the low bits does not buy a new budget.
    const v6 = (n: number) => `2001:db8:1:2::${n.toString(16)}`;
    const v6answers: number[] = [];
    for (let i = 0; i < 11; i++) v6answers.push((await put(target(), randomId(32), v6(i + 1))).status);
    expect(v6answers.slice(0, 10).every((s) => s === 204)).toBe(true);
    expect(v6answers[10]).toBe(429);
  });

  it('300 addresses each at their budget leave room for everyone else; a full mailbox refuses only the new put', () => {
    const mailbox = new ProvisioningMailbox();
    const max = blob(65_536);
    for (let a = 0; a < 300; a++) {
      const ip = `10.${a >> 8}.${a & 255}.1`;
      expect(mailbox.put(`big-${a}`, max, ip)).toBe('stored');
      for (let i = 0; i < 9; i++) mailbox.put(`small-${a}-${i}`, randomId(2048), ip);
      expect(mailbox.put(`more-${a}`, randomId(32), ip)).toBe('ip_full');
    }
    expect(mailbox.usage().bytes).toBeLessThan(DEFAULT_MAILBOX_LIMITS.maxBytes);
    expect(mailbox.put('newcomer', randomId(64), '192.0.2.77')).toBe('stored');

    const tiny = new ProvisioningMailbox({ ...DEFAULT_MAILBOX_LIMITS, maxBlobs: 3, maxBytes: 1000 });
    expect(tiny.put('a', 'x'.repeat(400), '192.0.2.1')).toBe('stored');
    expect(tiny.put('b', 'x'.repeat(400), '192.0.2.2')).toBe('stored');
    expect(tiny.put('c', 'x'.repeat(400), '192.0.2.3')).toBe('full');
    expect(tiny.put('c', 'x'.repeat(100), '192.0.2.3')).toBe('stored');
    expect(tiny.put('d', 'x', '192.0.2.4')).toBe('full');
    tiny.claim('a');
    expect(tiny.put('d', 'x', '192.0.2.4')).toBe('stored');
    const perTarget = new ProvisioningMailbox();
    for (let i = 0; i < 5; i++) expect(perTarget.put('same', 'x', `192.0.2.${i}`)).toBe('stored');
    expect(perTarget.put('same', 'x', '192.0.2.99')).toBe('id_full');
    // Expiry gives every budget back.
    expect(perTarget.put('other', 'x', '192.0.2.1', Date.now() + DEFAULT_MAILBOX_LIMITS.ttlMs + 1)).toBe('stored');
    expect(perTarget.usage()).toMatchObject({ ids: 1, blobs: 1, addresses: 1 });
  });

  it('keys IPv6 addresses by their /64 and IPv4 (also mapped) by the address', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'));
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
  });
});

describe('bodies and files', () => {
  it('refuses __proto__, constructor and prototype keys anywhere in a JSON body (400 invalid)', async () => {
    const { relay, alice } = await setup();
    const target = makeDevice({ handle: 'z' }).id;
    const put = (raw: string) => call(relay.url, { method: 'PUT', path: `/v2/provisioning/${target}`, body: raw });
    expect((await put('{"body":"AAAA"}')).status).toBe(204);
    for (const raw of [
      '{"body":"AAAA","__proto__":{"polluted":true}}',
      '{"body":"AAAA","constructor":{"prototype":{"polluted":true}}}',
      '{"body":"AAAA","\\u005f_proto__":{}}',
      '{"body":"AAAA","x":[{"prototype":1}]}',
    ]) {
      const r = await put(raw);
      expect(r.status, raw).toBe(400);
      expect(code(r), raw).toBe('invalid');
    }
    // In a signed request too: refused before the handler, so the nonce is not spent.
    const r = await call(relay.url, { method: 'PUT', path: `/v2/devices/${alice.devices[0]!.id}/prekeys`, body: '{"__proto__":{}}', device: alice.devices[0]!.keys });
    expect(code(r)).toBe('invalid');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not serve a file whose real path is outside --static-dir (symlinks): 404', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sealpost-static-'));
    afterAll(() => rmSync(base, { recursive: true, force: true }));
    const site = join(base, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(base, 'secret.txt'), 'operator secret');
    mkdirSync(join(base, 'private'));
    writeFileSync(join(base, 'private', 'index.html'), 'private index');
    symlinkSync(join(base, 'secret.txt'), join(site, 'leak.txt'));
    symlinkSync(join(base, 'private'), join(site, 'outside'));
    symlinkSync(join(site, 'index.html'), join(site, 'alias.html'));
    const relay = track(await startRelay({ staticDir: site }));
    expect((await call(relay.url, { method: 'GET', path: '/' })).status).toBe(200);
    expect((await call(relay.url, { method: 'GET', path: '/alias.html' })).status).toBe(200);
    for (const path of ['/leak.txt', '/outside/', '/outside/index.html', '/%6ceak.txt']) {
      const r = await call(relay.url, { method: 'GET', path });
      expect(r.status, path).toBe(404);
      expect(JSON.stringify(r.body), path).not.toContain('secret');
      expect(JSON.stringify(r.body), path).not.toContain('private index');
    }
  });
});

