/**
 * Prekey-bundle claims are signed requests by registered devices (x-sealpost-device-id names
 * the signer), limited per requesting device and per target device on top of the per-IP limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../crypto/keys.js';
import { call, claimBundle, makeAccount, makeDevice, registerAll, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const PER_DEVICE = 5;
const PER_TARGET = 3;
let relay: RelayHandle;
let accounts: TestAccount[];
beforeAll(async () => {
  relay = await startRelay({ bundleClaimsPerDevice: PER_DEVICE, bundleClaimsPerTarget: PER_TARGET });
  accounts = [];
  for (let i = 0; i < 10; i++) {
    const account = await makeAccount({ oneTimePrekeys: 2 });
    await registerAll(relay.url, account);
    accounts.push(account);
  }
});
afterAll(async () => relay.close());

const code = (r: { body: unknown }): unknown => (r.body as { error?: { code?: string } }).error?.code;
const device = (i: number) => accounts[i]!.devices[0]!;

describe('bundle claims', () => {
  it('refuses an anonymous claim, and one by a key that is not a registered device, with 401', async () => {
    const target = device(0).id;
    const path = `/v2/devices/${target}/bundle`;
    expect(await call(relay.url, { method: 'POST', path })).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    // Signed, but without saying by whom.
    expect(await call(relay.url, { method: 'POST', path, device: device(1).keys })).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const stranger = makeDevice(accounts[1]!);
    expect(await claimBundle(relay.url, stranger, target)).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    // A registered device's id with another key's signature.
    expect(await claimBundle(relay.url, { id: device(1).id, keys: generateSigningKeyPair() }, target)).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    expect(code(await claimBundle(relay.url, device(1), target, { 'x-sealpost-device-id': 'not-a-device' }))).toBe('invalid');
    // None of these consumed a one-time prekey.
    expect(await relay.app.store.countOneTimePrekeys(target)).toBe(2);
  });

  it(`allows ${PER_TARGET} claims of one target per minute, from all requesters together`, async () => {
    const target = device(2).id;
    for (const requester of [3, 4, 5]) expect((await claimBundle(relay.url, device(requester), target)).status).toBe(200);
    const refused = await claimBundle(relay.url, device(6), target);
    expect(refused).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    // Other targets are not affected, and the refusal cost requester 6 nothing.
    expect((await claimBundle(relay.url, device(6), device(3).id)).status).toBe(200);
  });

  it(`allows ${PER_DEVICE} claims per minute by one requesting device`, async () => {
    const requester = device(7);
    const targets = [0, 1, 3, 4, 5].map((i) => device(i).id);
    for (const target of targets) expect((await claimBundle(relay.url, requester, target)).status, target).toBe(200);
    expect(await claimBundle(relay.url, requester, device(8).id)).toMatchObject({ status: 429, body: { error: { code: 'rate_limited' } } });
    // Another requester may still claim that target.
    expect((await claimBundle(relay.url, device(9), device(8).id)).status).toBe(200);
  });
});
