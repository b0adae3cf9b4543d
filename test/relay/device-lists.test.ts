/**
 * Signed device lists on a real relay (protocol v2): the authority publishes a newer list to
 * remove a device; the relay refuses rollbacks, forged and foreign lists; a removed device loses
 * its queue, prekeys and sockets and can do nothing afterwards (it never held the authority
 * key); a recovered device's list removes every device it leaves out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectInbox, envelopeTo, send } from '../support/envelopes.js';
import {
  addDevice,
  call,
  claimBundle,
  connectDevice,
  listWithout,
  lookup,
  makeAccount,
  makeDevice,
  publishList,
  refusalCode,
  handshakeAuth,
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
const view = async (account: TestAccount) => (await lookup(relay.url, reader, account.handle)).body as { deviceList: unknown; devices: { deviceId: string }[] };

describe('publishing a device list', () => {
  it('refuses the same or a lower version with 409 conflict and changes nothing (no rollback)', async () => {
    const owner = await makeAccount({ devices: 3 });
    await registerAll(relay.url, owner);
    const [a, b, c] = owner.devices as [typeof owner.devices[0], typeof owner.devices[0], typeof owner.devices[0]];
    const before = await view(owner);
    expect(owner.list!.version).toBe(3);
    for (const version of [3, 2, 1]) {
      const r = await publishList(relay.url, owner, signList(owner, [a], version));
      expect(r, `version ${version}`).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
      expect((r.body as { error: { message: string } }).error.message).toMatch(/version must increase/);
    }
    expect(await view(owner)).toEqual(before);
    expect(before.devices.map((d) => d.deviceId).sort()).toEqual([a.id, b.id, c.id].sort());
  });

  it('refuses forged, foreign and malformed lists', async () => {
    const owner = await makeAccount({ devices: 2 });
    await registerAll(relay.url, owner);
    const [a] = owner.devices as [typeof owner.devices[0]];
    const other = await makeAccount();
    await registerAll(relay.url, other);
    const forged = signList(owner, [a], 9, { signWith: other.identity.privateKey });
    expect(await publishList(relay.url, owner, forged)).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    // Another account's own valid list, replayed against this handle.
    expect(code(await call(relay.url, { method: 'PUT', path: `/v2/accounts/${owner.handle}/device-list`, body: { deviceList: signList(other, other.devices, 9) } }))).toBe('invalid');
    // Naming a device the account does not have (here the other account's).
    expect(await publishList(relay.url, owner, signList(owner, [a, other.devices[0]!], 9))).toMatchObject({ status: 400, body: { error: { code: 'invalid' } } });
    expect(code(await publishList(relay.url, owner, { ...signList(owner, [a], 9), devices: [] }))).toBe('invalid');
    // An unknown handle answers like a wrong key (no handle enumeration: limits-by-asker.test.ts).
    expect(code(await publishList(relay.url, { ...owner, handle: 'nobody_here' }, signList({ ...owner, handle: 'nobody_here' }, [a], 9)))).toBe('bad_signature');
    expect((await view(owner)).devices).toHaveLength(2);
    expect(owner.list!.version).toBe(2);
  });

  it('removes a left-out device: queue, prekeys and socket gone, and it can do nothing afterwards', async () => {
    const owner = await makeAccount({ devices: 2 });
    await registerAll(relay.url, owner);
    const [kept, removed] = owner.devices as [typeof owner.devices[0], typeof owner.devices[0]];
    const sender = await connectDevice(relay.url, kept);
    expect(await send(sender, envelopeTo(removed, 'queued for the removed device'))).toEqual({ ok: true, failed: [] });
    const { socket: live, inbox } = await connectInbox(relay.url, removed);
    await inbox.waitForCount(1);
    const disconnected = new Promise<void>((resolve) => live.once('disconnect', () => resolve()));
    const oldList = owner.list!;

    const published = await publishList(relay.url, owner, listWithout(owner, [removed.id]));
    expect(published).toMatchObject({ status: 200, body: { version: 3, removed: [removed.id] } });
    await disconnected;
    expect(await view(owner)).toEqual({ handle: owner.handle, identityKey: owner.identityKey, deviceList: owner.list, devices: [{ deviceId: kept.id, signedPrekey: registration(kept).signedPrekey }] });
    expect(await relay.app.store.getDevice(removed.id)).toBeUndefined();
    expect((await relay.app.store.queueStats(removed.id)).envelopes).toBe(0);
    expect(await relay.app.store.countOneTimePrekeys(removed.id)).toBe(0);

    // Its handshake, its signed requests and messages to it are refused.
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, removed))).toBe('unknown_device');
    expect(code(await call(relay.url, { method: 'PUT', path: `/v2/devices/${removed.id}/prekeys`, body: { oneTimePrekeys: [] }, device: removed.keys }))).toBe('unknown_device');
    expect(await claimBundle(relay.url, removed, kept.id)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(code(await claimBundle(relay.url, kept, removed.id))).toBe('unknown_device');
    expect(await send(sender, envelopeTo(removed, 'after removal'))).toMatchObject({ ok: false, error: { code: 'unknown_device' } });

    // It holds no authority key: a list it signs itself, re-listing itself, is a forgery.
    const selfSigned = signList(owner, [kept, removed], 4, { signWith: removed.keys.privateKey });
    expect(await publishList(relay.url, owner, selfSigned)).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    const accomplice = makeDevice(owner);
    expect(code(await addDevice(relay.url, owner, accomplice, signList(owner, [kept, accomplice], 4, { signWith: removed.keys.privateKey })))).toBe('bad_signature');
    // Nor can the list from before its removal be replayed (the relay refuses the rollback).
    expect(code(await call(relay.url, { method: 'PUT', path: `/v2/accounts/${owner.handle}/device-list`, body: { deviceList: oldList } }))).toBe('conflict');
    expect((await view(owner)).devices.map((d) => d.deviceId)).toEqual([kept.id]);
    sender.close();
  });

  it('recovery: adding a device with a list that names only it removes every other device', async () => {
    const owner = await makeAccount({ devices: 2 });
    await registerAll(relay.url, owner);
    const sockets = await Promise.all(owner.devices.map((d) => connectDevice(relay.url, d)));
    const closed = sockets.map((s) => new Promise<void>((resolve) => s.once('disconnect', () => resolve())));
    const recovered = makeDevice(owner);
    const list = signList(owner, [recovered], owner.list!.version + 1);
    expect(await addDevice(relay.url, owner, recovered, list)).toMatchObject({ status: 201, body: { handle: owner.handle, deviceId: recovered.id } });
    await Promise.all(closed);
    expect((await view(owner)).devices.map((d) => d.deviceId)).toEqual([recovered.id]);
    for (const old of owner.devices) expect(await refusalCode(relay.url, handshakeAuth(relay.url, old))).toBe('unknown_device');
    const socket = await connectDevice(relay.url, recovered);
    socket.close();
  });
});
