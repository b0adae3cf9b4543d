/**
 * Authorization beyond test/relay/handshake.test.ts (which covers forged and replayed
 * handshakes and acks against another device's queue): live pushes reach only the addressed
 * device, not even a sibling device; prekeys and devices of others cannot be touched; a device
 * cannot be added to another account nor removed from it by anyone but its authority; replayed
 * signed requests (registration, add, prekey upload), replayed device lists and a replayed
 * handshake after its socket left are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ack, connectInbox, envelopeTo, quietPeriod, send } from '../support/envelopes.js';
import {
  call,
  connectDevice,
  handshakeAuth,
  listWith,
  listWithout,
  makeAccount,
  makeDevice,
  publishList,
  randomId,
  refusalCode,
  registerAll,
  registration,
  signList,
  type TestAccount,
} from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;

beforeAll(async () => {
  relay = await startRelay();
  alice = await makeAccount();
  bob = await makeAccount({ devices: 2 });
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
});
afterAll(async () => relay.close());

const codeOf = (body: unknown): string | undefined => (body as { error?: { code?: string } }).error?.code;

describe('queues', () => {
  it('pushes live envelopes only to the addressed device, and a sibling device cannot ack them', async () => {
    const [b0, b1] = [bob.devices[0]!, bob.devices[1]!];
    const sa = await connectDevice(relay.url, alice.devices[0]!);
    const other = await connectInbox(relay.url, b1);
    const eavesdropper = await connectInbox(relay.url, alice.devices[0]!);
    await other.inbox.until((i) => i.prekeyCounts.length > 0);
    await eavesdropper.inbox.until((i) => i.prekeyCounts.length > 0);
    const secret = envelopeTo(b0, 'only for b0');
    expect(await send(sa, secret)).toEqual({ ok: true, failed: [] });
    await quietPeriod(200);
    expect(other.inbox.envelopes).toHaveLength(0);
    expect(eavesdropper.inbox.envelopes).toHaveLength(0);
    // Same account, other device: its acks touch only its own queue.
    expect(await ack(other.socket, { ids: [secret.id] })).toEqual({ ok: true, deleted: 0 });
    expect(await ack(other.socket, { upTo: Number.MAX_SAFE_INTEGER })).toEqual({ ok: true, deleted: 0 });
    expect((await relay.app.store.queueStats(b0.id)).envelopes).toBe(1);
    const owner = await connectInbox(relay.url, b0);
    await owner.inbox.waitForCount(1);
    expect(owner.inbox.envelopes[0]!.id).toBe(secret.id);
    expect(await ack(owner.socket, { ids: [secret.id] })).toEqual({ ok: true, deleted: 1 });
    for (const s of [sa, other.socket, eavesdropper.socket, owner.socket]) s.close();
  });
});

describe('prekeys and devices of others', () => {
  it('refuses a prekey upload for another device, whoever signs it', async () => {
    const target = bob.devices[0]!;
    const before = await relay.app.store.countOneTimePrekeys(target.id);
    const body = { oneTimePrekeys: [{ keyId: 900, publicKey: alice.devices[0]!.oneTimePrekeys[0]!.publicKey }] };
    const path = `/v2/devices/${target.id}/prekeys`;
    const byAlice = await call(relay.url, { method: 'PUT', path, body, device: alice.devices[0]!.keys });
    expect(byAlice.status).toBe(401);
    expect(codeOf(byAlice.body)).toBe('bad_signature');
    // Bob's own sibling device and Bob's account identity are not the target device either.
    expect(codeOf((await call(relay.url, { method: 'PUT', path, body, device: bob.devices[1]!.keys })).body)).toBe('bad_signature');
    expect(codeOf((await call(relay.url, { method: 'PUT', path, body, device: bob.identity })).body)).toBe('bad_signature');
    expect(codeOf((await call(relay.url, { method: 'PUT', path, body })).body)).toBe('unauthorized');
    expect(await relay.app.store.countOneTimePrekeys(target.id)).toBe(before);
  });

  it('refuses removing another account\u2019s device', async () => {
    const target = bob.devices[1]!;
    const devicesOf = async (account: TestAccount) => (await relay.app.store.listDevices(account.handle)).map((d) => d.deviceId).sort();
    const before = await devicesOf(bob);
    // A list for Bob's handle signed by Alice's authority: not Bob's authority.
    const byAlice = await publishList(relay.url, bob, signList(bob, [bob.devices[0]!], 99, { signWith: alice.identity.privateKey }));
    expect([byAlice.status, codeOf(byAlice.body)]).toEqual([401, 'bad_signature']);
    // Alice's own authority naming Bob's device in her list: not her device.
    const onHers = await publishList(relay.url, alice, signList(alice, [alice.devices[0]!, target], 99));
    expect([onHers.status, codeOf(onHers.body)]).toEqual([400, 'invalid']);
    // Bob's own device keys are not the account's authority to remove devices.
    for (const device of bob.devices) {
      const byDevice = await publishList(relay.url, bob, signList(bob, [bob.devices[0]!], 99, { signWith: device.keys.privateKey }));
      expect(codeOf(byDevice.body)).toBe('bad_signature');
    }
    expect(await devicesOf(bob)).toEqual(before);
  });

  it('refuses adding a device to another account', async () => {
    // A list by Alice's authority (for Bob's handle, or her own), signed by the new device: Bob's
    // account checks Bob's identity key.
    const intruder = makeDevice(bob);
    const onBobs = (deviceList: unknown) => call(relay.url, { method: 'POST', path: `/v2/accounts/${bob.handle}/devices`, body: { device: registration(intruder), deviceList }, device: intruder.keys });
    const r = await onBobs(signList(bob, [...bob.devices, intruder], 99, { signWith: alice.identity.privateKey }));
    expect([r.status, codeOf(r.body)]).toEqual([401, 'bad_signature']);
    const r2 = await onBobs(signList(alice, [...alice.devices, intruder], 99));
    expect(['bad_signature', 'invalid']).toContain(codeOf(r2.body));
    expect((await relay.app.store.listDevices(bob.handle)).map((d) => d.deviceId).sort()).toEqual(bob.devices.map((d) => d.id).sort());
  });
});

describe('replays', () => {
  it('refuses a replayed registration with replayed_nonce before touching the store', async () => {
    const carol = await makeAccount();
    const signed = {
      method: 'POST',
      path: '/v2/accounts',
      body: { handle: carol.handle, identityKey: carol.identityKey, device: registration(carol.devices[0]!), deviceList: signList(carol, [carol.devices[0]!], 1) },
      device: carol.devices[0]!.keys,
      timestamp: Date.now(),
      nonce: randomId(),
    };
    expect((await call(relay.url, signed)).status).toBe(201);
    const replay = await call(relay.url, signed);
    expect([replay.status, codeOf(replay.body)]).toEqual([401, 'replayed_nonce']);
  });

  it('refuses a replayed add-device after the device was removed (no resurrection)', async () => {
    const dave = await makeAccount();
    await registerAll(relay.url, dave);
    const extra = makeDevice(dave);
    const add = { method: 'POST', path: `/v2/accounts/${dave.handle}/devices`, body: { device: registration(extra), deviceList: listWith(dave, [extra]) }, device: extra.keys, timestamp: Date.now(), nonce: randomId() };
    expect((await call(relay.url, add)).status).toBe(201);
    dave.list = add.body.deviceList;
    const removal = listWithout(dave, [extra.id]);
    expect((await publishList(relay.url, dave, removal)).status).toBe(200);
    expect(codeOf((await call(relay.url, add)).body)).toBe('replayed_nonce');
    // Signed afresh by the removed device, the old list is still a rollback.
    expect(codeOf((await call(relay.url, { ...add, timestamp: Date.now(), nonce: randomId() })).body)).toBe('conflict');
    expect(await relay.app.store.getDevice(extra.id)).toBeUndefined();
    // The removal itself cannot be replayed either (same version).
    expect(codeOf((await call(relay.url, { method: 'PUT', path: `/v2/accounts/${dave.handle}/device-list`, body: { deviceList: removal } })).body)).toBe('conflict');
  });

  it('refuses a replayed prekey upload', async () => {
    const d = alice.devices[0]!;
    const upload = { method: 'PUT', path: `/v2/devices/${d.id}/prekeys`, body: { oneTimePrekeys: [] }, device: d.keys, timestamp: Date.now(), nonce: randomId() };
    expect((await call(relay.url, upload)).status).toBe(200);
    expect(codeOf((await call(relay.url, upload)).body)).toBe('replayed_nonce');
  });

  it('refuses a captured handshake after its socket has gone, and a removed device\u2019s handshake', async () => {
    const auth = handshakeAuth(relay.url, alice.devices[0]!);
    expect(await refusalCode(relay.url, auth)).toBe('connected');
    await quietPeriod(50);
    expect(await refusalCode(relay.url, auth)).toBe('replayed_nonce');

    const erin = await makeAccount({ devices: 2 });
    await registerAll(relay.url, erin);
    const gone = erin.devices[1]!;
    const live = await connectDevice(relay.url, gone);
    const dropped = new Promise<string>((resolve) => live.once('disconnect', resolve));
    expect((await publishList(relay.url, erin, listWithout(erin, [gone.id]))).status).toBe(200);
    expect(await dropped).toBe('io server disconnect');
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, gone))).toBe('unknown_device');
  });
});
