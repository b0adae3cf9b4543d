/** Directory routes: registration, lookup, devices, bundles, prekeys, provisioning, signed requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../crypto/encoding.js';
import { generateSigningKeyPair } from '../../crypto/keys.js';
import { signDeviceCertificate } from '../../crypto/statements.js';
import { connectInbox, envelopeTo, send } from '../support/envelopes.js';
import { addDevice, call, connectDevice, makeAccount, makeDevice, randomId, registerAccount, registerAll, registration, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => relay.close());

const code = (r: { body: unknown }): unknown => (r.body as { error?: { code?: string } }).error?.code;

describe('accounts', () => {
  it('creates an account and looks it up by exact handle', async () => {
    const alice = await makeAccount();
    const created = await registerAccount(relay.url, alice);
    expect(created).toMatchObject({ status: 201, body: { handle: alice.handle, deviceId: alice.devices[0]!.id } });
    const view = await call(relay.url, { method: 'GET', path: `/v1/accounts/${alice.handle}` });
    expect(view.status).toBe(200);
    expect(view.body).toEqual({ handle: alice.handle, identityKey: alice.identityKey, devices: [{ deviceId: alice.devices[0]!.id, certificate: alice.devices[0]!.certificate, signedPrekey: registration(alice.devices[0]!).signedPrekey }] });
    expect(await call(relay.url, { method: 'GET', path: '/v1/accounts/nobody_here' })).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('refuses a duplicate handle with 409 conflict and keeps the first account', async () => {
    const first = await makeAccount();
    await registerAll(relay.url, first);
    const squatter = await makeAccount({ handle: first.handle });
    const again = await registerAccount(relay.url, squatter);
    expect(again.status).toBe(409);
    expect(code(again)).toBe('conflict');
    const view = await call(relay.url, { method: 'GET', path: `/v1/accounts/${first.handle}` });
    expect((view.body as { identityKey: string }).identityKey).toBe(first.identityKey);
  });

  it('requires both proofs of possession, fresh and unreplayed', async () => {
    const a = await makeAccount();
    const body = { handle: a.handle, identityKey: a.identityKey, device: registration(a.devices[0]!) };
    const post = (extra: object) => call(relay.url, { method: 'POST', path: '/v1/accounts', body, ...extra });
    expect(code(await post({}))).toBe('unauthorized');
    expect(code(await post({ identity: a.identity }))).toBe('unauthorized');
    expect(code(await post({ identity: generateSigningKeyPair(), device: a.devices[0]!.keys }))).toBe('bad_signature');
    expect(code(await post({ identity: a.identity, device: generateSigningKeyPair() }))).toBe('bad_signature');
    expect(code(await post({ identity: a.identity, device: a.devices[0]!.keys, timestamp: Date.now() - 120_000 }))).toBe('stale_timestamp');
    const nonce = randomId();
    expect((await post({ identity: a.identity, device: a.devices[0]!.keys, nonce })).status).toBe(201);
    const replay = await post({ identity: a.identity, device: a.devices[0]!.keys, nonce });
    expect(code(replay)).toBe('replayed_nonce');
  });

  it('rejects malformed and low-order keys with invalid', async () => {
    const a = await makeAccount();
    const reg = registration(a.devices[0]!);
    const zeroKey = toBase64Url(new Uint8Array(32));
    const variants = [
      { handle: a.handle, identityKey: zeroKey, device: reg },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, signedPrekey: { ...reg.signedPrekey, publicKey: zeroKey } } },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, oneTimePrekeys: [{ keyId: 1, publicKey: zeroKey }] } },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, oneTimePrekeys: [reg.oneTimePrekeys[0]!, reg.oneTimePrekeys[0]!] } },
      { handle: a.handle, identityKey: a.identityKey.slice(0, 42) + (a.identityKey.endsWith('A') ? 'B' : 'A'), device: reg },
    ];
    for (const body of variants) {
      const r = await call(relay.url, { method: 'POST', path: '/v1/accounts', body, identity: a.identity, device: a.devices[0]!.keys });
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(['invalid', 'bad_signature']).toContain(code(r));
    }
    expect((await call(relay.url, { method: 'GET', path: `/v1/accounts/${a.handle}` })).status).toBe(404);
  });
});

describe('devices', () => {
  let acct: TestAccount;
  beforeAll(async () => {
    acct = await makeAccount();
    await registerAll(relay.url, acct);
  });

  it('adds a device only with a certificate from the account identity key', async () => {
    const forged = makeDevice({ handle: acct.handle, identity: generateSigningKeyPair() });
    const r = await addDevice(relay.url, acct, forged);
    expect(r.status).toBe(401);
    expect(code(r)).toBe('bad_signature');
    // A certificate for another handle does not transfer.
    const other = makeDevice(acct);
    const wrongHandle = { ...other, certificate: { createdAt: other.certificate.createdAt, signature: toBase64Url(signDeviceCertificate({ devicePublicKey: other.keys.publicKey, handle: 'someone_else', createdAt: other.certificate.createdAt }, acct.identity.privateKey)) } };
    expect(code(await addDevice(relay.url, acct, wrongHandle))).toBe('bad_signature');
    const good = makeDevice(acct);
    expect((await addDevice(relay.url, acct, good)).status).toBe(201);
    acct.devices.push(good);
    expect(code(await addDevice(relay.url, acct, good))).toBe('conflict');
  });

  it('caps devices per account with quota_exceeded', async () => {
    const full = await makeAccount({ devices: 6 });
    await registerAll(relay.url, full);
    const seventh = makeDevice(full);
    const r = await addDevice(relay.url, full, seventh);
    expect(r.status).toBe(403);
    expect(code(r)).toBe('quota_exceeded');
  });

  it('removes a device with an identity signature: its queue, prekeys and sockets go', async () => {
    const owner = await makeAccount({ devices: 2 });
    await registerAll(relay.url, owner);
    const doomed = owner.devices[1]!;
    const sender = await connectDevice(relay.url, owner.devices[0]!);
    expect(await send(sender, envelopeTo(doomed, 'bye'))).toEqual({ ok: true, failed: [] });
    // It never acks its first page, so it is still draining: not yet in the live pushes' room.
    const { socket: live, inbox } = await connectInbox(relay.url, doomed);
    await inbox.waitForCount(1);
    const disconnected = new Promise<void>((resolve) => live.once('disconnect', () => resolve()));
    const path = `/v1/accounts/${owner.handle}/devices/${doomed.id}`;
    expect(code(await call(relay.url, { method: 'DELETE', path, identity: doomed.keys }))).toBe('bad_signature');
    expect((await call(relay.url, { method: 'DELETE', path, identity: owner.identity })).status).toBe(204);
    await disconnected;
    expect((await relay.app.store.queueStats(doomed.id)).envelopes).toBe(0);
    expect(await relay.app.store.countOneTimePrekeys(doomed.id)).toBe(0);
    expect((await call(relay.url, { method: 'POST', path: `/v1/devices/${doomed.id}/bundle` })).status).toBe(404);
    expect(await send(sender, envelopeTo(doomed, 'again'))).toMatchObject({ ok: false, error: { code: 'unknown_device' } });
    expect(code(await call(relay.url, { method: 'DELETE', path, identity: owner.identity }))).toBe('unknown_device');
    sender.close();
  });
});

describe('prekeys', () => {
  it('hands out one-time prekeys oldest first, deletes each, then serves the signed prekey alone', async () => {
    const a = await makeAccount({ oneTimePrekeys: 2 });
    await registerAll(relay.url, a);
    const d = a.devices[0]!;
    const { socket, inbox } = await connectInbox(relay.url, d);
    await inbox.until((i) => i.prekeyCounts.length > 0);
    const claim = () => call(relay.url, { method: 'POST', path: `/v1/devices/${d.id}/bundle` });
    const first = await claim();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ handle: a.handle, identityKey: a.identityKey, deviceId: d.id, oneTimePrekey: { keyId: 1, publicKey: d.oneTimePrekeys[0]!.publicKey } });
    expect((await claim()).body).toMatchObject({ oneTimePrekey: { keyId: 2 } });
    const third = await claim();
    expect(third.status).toBe(200);
    expect(third.body).not.toHaveProperty('oneTimePrekey');
    expect(third.body).toMatchObject({ signedPrekey: { keyId: 1, publicKey: d.signedPrekey.publicKey } });
    // Below the threshold the device is told how many remain.
    await inbox.until((i) => i.prekeyCounts.includes(0));
    socket.close();
  });

  it('uploads prekeys and rotates the signed prekey with a device signature', async () => {
    const a = await makeAccount({ oneTimePrekeys: 0 });
    await registerAll(relay.url, a);
    const d = a.devices[0]!;
    const fresh = makeDevice(a, { oneTimePrekeys: 3, firstKeyId: 10 });
    const rotated = { ...registration(fresh).signedPrekey };
    // The fresh signed prekey is bound to `fresh`'s device key, not d's: refused.
    const path = `/v1/devices/${d.id}/prekeys`;
    expect(code(await call(relay.url, { method: 'PUT', path, body: { signedPrekey: rotated }, device: d.keys }))).toBe('bad_signature');
    const body = { oneTimePrekeys: registration(fresh).oneTimePrekeys };
    expect(code(await call(relay.url, { method: 'PUT', path, body, device: fresh.keys }))).toBe('bad_signature');
    expect(code(await call(relay.url, { method: 'PUT', path, body }))).toBe('unauthorized');
    const ok = await call(relay.url, { method: 'PUT', path, body, device: d.keys });
    expect(ok).toMatchObject({ status: 200, body: { oneTimePrekeys: 3 } });
    const bundle = await call(relay.url, { method: 'POST', path: `/v1/devices/${d.id}/bundle` });
    expect(bundle.body).toMatchObject({ oneTimePrekey: { keyId: 10 } });
  });
});

describe('provisioning mailbox', () => {
  it('holds up to 5 blobs for an unregistered device and hands them over once to its key', async () => {
    const a = await makeAccount();
    const newDevice = makeDevice(a);
    const path = `/v1/provisioning/${newDevice.id}`;
    for (let i = 0; i < 5; i++) expect((await call(relay.url, { method: 'PUT', path, body: { body: randomId(32) } })).status).toBe(204);
    const sixth = await call(relay.url, { method: 'PUT', path, body: { body: randomId(32) } });
    expect(code(sixth)).toBe('quota_exceeded');
    expect(code(await call(relay.url, { method: 'POST', path: `${path}/claim`, device: generateSigningKeyPair() }))).toBe('bad_signature');
    const claimed = await call(relay.url, { method: 'POST', path: `${path}/claim`, device: newDevice.keys });
    expect(claimed.status).toBe(200);
    expect((claimed.body as { bodies: string[] }).bodies).toHaveLength(5);
    const again = await call(relay.url, { method: 'POST', path: `${path}/claim`, device: newDevice.keys });
    expect(again.body).toEqual({ bodies: [] });
    expect(code(await call(relay.url, { method: 'PUT', path, body: { body: 'not base64!' } }))).toBe('invalid');
  });
});

describe('health', () => {
  it('answers healthz, readyz and metrics', async () => {
    expect(await call(relay.url, { method: 'GET', path: '/healthz' })).toMatchObject({ status: 200, body: { ok: true } });
    expect(await call(relay.url, { method: 'GET', path: '/readyz' })).toMatchObject({ status: 200, body: { ok: true } });
    const metrics = await call(relay.url, { method: 'GET', path: '/metrics' });
    expect(String(metrics.body)).toContain('sealpost_enqueue_transactions_total');
    const page = await call(relay.url, { method: 'GET', path: '/' });
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('not built');
  });
});
