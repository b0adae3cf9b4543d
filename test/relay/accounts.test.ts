/** Directory routes (protocol v2): registration, lookup, adding devices, prekeys, provisioning, health. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../crypto/encoding.js';
import { generateDhKeyPair, generateSigningKeyPair } from '../../crypto/keys.js';
import { signSignedPrekey } from '../../crypto/statements.js';
import { connectInbox } from '../support/envelopes.js';
import {
  addDevice,
  call,
  claimBundle,
  listWith,
  lookup,
  makeAccount,
  makeDevice,
  randomId,
  registerAccount,
  registerAll,
  registeredDevice,
  registration,
  signList,
  type TestAccount,
  type TestDevice,
} from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
/** A registered device of another account: lookups are signed requests. */
let reader: TestDevice;
beforeAll(async () => {
  relay = await startRelay();
  reader = await registeredDevice(relay.url);
});
afterAll(async () => relay.close());

const code = (r: { body: unknown }): unknown => (r.body as { error?: { code?: string } }).error?.code;

describe('accounts', () => {
  it('creates an account and looks it up by exact handle, with its device list', async () => {
    const alice = await makeAccount();
    const created = await registerAccount(relay.url, alice);
    expect(created).toMatchObject({ status: 201, body: { handle: alice.handle, deviceId: alice.devices[0]!.id } });
    const view = await lookup(relay.url, reader, alice.handle);
    expect(view.status).toBe(200);
    expect(view.body).toEqual({
      handle: alice.handle,
      identityKey: alice.identityKey,
      deviceList: alice.list,
      devices: [{ deviceId: alice.devices[0]!.id, signedPrekey: registration(alice.devices[0]!).signedPrekey }],
    });
    expect(await lookup(relay.url, reader, 'nobody_here')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('refuses a duplicate handle with 409 conflict and keeps the first account', async () => {
    const first = await makeAccount();
    await registerAll(relay.url, first);
    const squatter = await makeAccount({ handle: first.handle });
    const again = await registerAccount(relay.url, squatter);
    expect(again.status).toBe(409);
    expect(code(again)).toBe('conflict');
    const view = await lookup(relay.url, reader, first.handle);
    expect((view.body as { identityKey: string }).identityKey).toBe(first.identityKey);
  });

  it('requires the device key proof, fresh and unreplayed (no identity signature exists any more)', async () => {
    const a = await makeAccount();
    const body = { handle: a.handle, identityKey: a.identityKey, device: registration(a.devices[0]!), deviceList: signList(a, [a.devices[0]!], 1) };
    const post = (extra: object) => call(relay.url, { method: 'POST', path: '/v2/accounts', body, ...extra });
    expect(code(await post({}))).toBe('unauthorized');
    expect(code(await post({ device: generateSigningKeyPair() }))).toBe('bad_signature');
    expect(code(await post({ device: a.devices[0]!.keys, timestamp: Date.now() - 120_000 }))).toBe('stale_timestamp');
    const nonce = randomId();
    expect((await post({ device: a.devices[0]!.keys, nonce })).status).toBe(201);
    const replay = await post({ device: a.devices[0]!.keys, nonce });
    expect(code(replay)).toBe('replayed_nonce');
  });

  it('refuses a first device list that names another device, more devices, or another handle', async () => {
    const a = await makeAccount({ devices: 2 });
    const [d, other] = a.devices as [typeof a.devices[0], typeof a.devices[0]];
    const lists = [signList(a, [other], 1), signList(a, [d, other], 1), signList(a, [d], 1, { handle: 'someone_else' })];
    for (const list of lists) {
      const r = await registerAccount(relay.url, a, d, list);
      expect(r, JSON.stringify(list.devices)).toMatchObject({ status: 400, body: { error: { code: 'invalid' } } });
    }
    expect((await lookup(relay.url, reader, a.handle)).status).toBe(404);
  });

  it('refuses a first device list not signed by the identity key with 401 bad_signature', async () => {
    const a = await makeAccount();
    const forged = signList(a, [a.devices[0]!], 1, { signWith: generateSigningKeyPair().privateKey });
    expect(await registerAccount(relay.url, a, a.devices[0]!, forged)).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    // Any change to a signed list breaks it: here its version.
    const tampered = { ...signList(a, [a.devices[0]!], 1), version: 2 };
    expect(code(await registerAccount(relay.url, a, a.devices[0]!, tampered))).toBe('bad_signature');
    expect((await lookup(relay.url, reader, a.handle)).status).toBe(404);
  });

  it('rejects malformed and low-order keys, and prekeys not signed by the device, without creating anything', async () => {
    const a = await makeAccount();
    const d = a.devices[0]!;
    const reg = registration(d);
    const deviceList = signList(a, [d], 1);
    const zeroKey = toBase64Url(new Uint8Array(32));
    const byOtherKey = registration(makeDevice(a)).signedPrekey;
    const variants = [
      { handle: a.handle, identityKey: zeroKey, device: reg, deviceList },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, signedPrekey: { ...reg.signedPrekey, publicKey: zeroKey } }, deviceList },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, signedPrekey: byOtherKey }, deviceList },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, oneTimePrekeys: [{ keyId: 1, publicKey: zeroKey }] }, deviceList },
      { handle: a.handle, identityKey: a.identityKey, device: { ...reg, oneTimePrekeys: [reg.oneTimePrekeys[0]!, reg.oneTimePrekeys[0]!] }, deviceList },
      { handle: a.handle, identityKey: a.identityKey.slice(0, 42) + (a.identityKey.endsWith('A') ? 'B' : 'A'), device: reg, deviceList },
    ];
    for (const body of variants) {
      const r = await call(relay.url, { method: 'POST', path: '/v2/accounts', body, device: d.keys });
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(['invalid', 'bad_signature']).toContain(code(r));
    }
    expect((await lookup(relay.url, reader, a.handle)).status).toBe(404);
  });
});

describe('adding devices', () => {
  let acct: TestAccount;
  beforeAll(async () => {
    acct = await makeAccount();
    await registerAll(relay.url, acct);
  });

  it('adds a device only with a newer list from the account authority that names it', async () => {
    const newcomer = makeDevice(acct);
    const forged = signList(acct, [acct.devices[0]!, newcomer], 2, { signWith: generateSigningKeyPair().privateKey });
    expect(await addDevice(relay.url, acct, newcomer, forged)).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    // A list for another handle does not transfer; one that leaves the newcomer out does not admit it.
    expect(code(await addDevice(relay.url, acct, newcomer, signList(acct, [acct.devices[0]!, newcomer], 2, { handle: 'someone_else' })))).toBe('invalid');
    expect(code(await addDevice(relay.url, acct, newcomer, signList(acct, [acct.devices[0]!], 2)))).toBe('invalid');
    // The new device signs the request itself: another key's signature is refused.
    const body = { device: registration(newcomer), deviceList: listWith(acct, [newcomer]) };
    const path = `/v2/accounts/${acct.handle}/devices`;
    expect(code(await call(relay.url, { method: 'POST', path, body, device: acct.devices[0]!.keys }))).toBe('bad_signature');
    expect(code(await call(relay.url, { method: 'POST', path, body }))).toBe('unauthorized');
    // The same version as the stored list is a replay: 409.
    expect(code(await addDevice(relay.url, acct, newcomer, signList(acct, [acct.devices[0]!, newcomer], 1)))).toBe('conflict');
    expect((await addDevice(relay.url, acct, newcomer)).status).toBe(201);
    acct.devices.push(newcomer);
    const view = (await lookup(relay.url, reader, acct.handle)).body as { deviceList: { version: number }; devices: { deviceId: string }[] };
    expect(view.deviceList).toEqual(acct.list);
    expect(view.devices.map((d) => d.deviceId)).toEqual(acct.list!.devices.map((d) => d.deviceId));
    expect(code(await addDevice(relay.url, acct, newcomer))).toBe('conflict');
  });

  it('refuses a list naming a device that is not registered to the account', async () => {
    const stranger = makeDevice(acct);
    const newcomer = makeDevice(acct);
    const r = await addDevice(relay.url, acct, newcomer, listWith(acct, [newcomer, stranger]));
    expect(r).toMatchObject({ status: 400, body: { error: { code: 'invalid' } } });
    expect(await relay.app.store.getDevice(newcomer.id)).toBeUndefined();
  });

  it('caps devices per account with quota_exceeded', async () => {
    const full = await makeAccount({ devices: 6 });
    await registerAll(relay.url, full);
    const seventh = makeDevice(full);
    const r = await addDevice(relay.url, full, seventh);
    expect(r.status).toBe(403);
    expect(code(r)).toBe('quota_exceeded');
  });
});

describe('prekeys', () => {
  it('hands out one-time prekeys oldest first, deletes each, then serves the signed prekey alone', async () => {
    const a = await makeAccount({ oneTimePrekeys: 2 });
    const b = await makeAccount();
    await registerAll(relay.url, a);
    await registerAll(relay.url, b);
    const d = a.devices[0]!;
    const { socket, inbox } = await connectInbox(relay.url, d);
    await inbox.until((i) => i.prekeyCounts.length > 0);
    const claim = () => claimBundle(relay.url, b.devices[0]!, d.id);
    const first = await claim();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ handle: a.handle, identityKey: a.identityKey, deviceId: d.id, signedPrekey: registration(d).signedPrekey, oneTimePrekey: { keyId: 1, publicKey: d.oneTimePrekeys[0]!.publicKey } });
    expect((await claim()).body).toMatchObject({ oneTimePrekey: { keyId: 2 } });
    const third = await claim();
    expect(third.status).toBe(200);
    expect(third.body).not.toHaveProperty('oneTimePrekey');
    expect(third.body).toMatchObject({ signedPrekey: { keyId: 1, publicKey: d.signedPrekey.publicKey } });
    // Below the threshold the device is told how many remain.
    await inbox.until((i) => i.prekeyCounts.includes(0));
    expect(code(await claimBundle(relay.url, b.devices[0]!, makeDevice(a).id))).toBe('unknown_device');
    socket.close();
  });

  it('uploads prekeys and rotates the signed prekey, signed by the device key', async () => {
    const a = await makeAccount({ oneTimePrekeys: 0 });
    await registerAll(relay.url, a);
    const d = a.devices[0]!;
    const fresh = makeDevice(a, { oneTimePrekeys: 3, firstKeyId: 10 });
    // The fresh signed prekey is signed by `fresh`'s device key, not d's: refused.
    const path = `/v2/devices/${d.id}/prekeys`;
    expect(code(await call(relay.url, { method: 'PUT', path, body: { signedPrekey: registration(fresh).signedPrekey }, device: d.keys }))).toBe('bad_signature');
    const body = { oneTimePrekeys: registration(fresh).oneTimePrekeys };
    expect(code(await call(relay.url, { method: 'PUT', path, body, device: fresh.keys }))).toBe('bad_signature');
    expect(code(await call(relay.url, { method: 'PUT', path, body }))).toBe('unauthorized');
    const ok = await call(relay.url, { method: 'PUT', path, body, device: d.keys });
    expect(ok).toMatchObject({ status: 200, body: { oneTimePrekeys: 3 } });
    // A signed prekey signed by d's own key rotates.
    const spk = generateDhKeyPair();
    const signature = toBase64Url(signSignedPrekey({ devicePublicKey: d.keys.publicKey, keyId: 2, publicKey: spk.publicKey }, d.keys.privateKey));
    const rotated = { keyId: 2, publicKey: toBase64Url(spk.publicKey), signature };
    expect(await call(relay.url, { method: 'PUT', path, body: { signedPrekey: rotated }, device: d.keys })).toMatchObject({ status: 200 });
    const bundle = await claimBundle(relay.url, d, d.id);
    expect(bundle.body).toMatchObject({ signedPrekey: rotated, oneTimePrekey: { keyId: 10 } });
  });
});

describe('provisioning mailbox', () => {
  it('holds up to 5 blobs for an unregistered device and hands them over once to its key', async () => {
    const a = await makeAccount();
    const newDevice = makeDevice(a);
    const path = `/v2/provisioning/${newDevice.id}`;
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
