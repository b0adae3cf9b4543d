/**
 * Protocol versions: a v1 client meets a typed refusal, never undefined behaviour — 410
 * `unsupported_version` on every /v1 route, and a connect_error `unsupported_version` for a
 * socket handshake without `v: 2`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '../../protocol/http.js';
import { call, handshakeAuth, lookup, makeAccount, refusalCode, registerAll, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
let alice: TestAccount;
beforeAll(async () => {
  relay = await startRelay();
  alice = await makeAccount();
  await registerAll(relay.url, alice);
});
afterAll(async () => relay.close());

describe('protocol version', () => {
  it('answers every /v1 request with 410 unsupported_version, whatever its method, path or body', async () => {
    const d = alice.devices[0]!;
    const requests = [
      { method: 'GET', path: `/v1/accounts/${alice.handle}` },
      { method: 'POST', path: '/v1/accounts', body: { handle: alice.handle } },
      { method: 'POST', path: `/v1/devices/${d.id}/bundle` },
      { method: 'PUT', path: `/v1/devices/${d.id}/prekeys`, body: { oneTimePrekeys: [] }, device: d.keys },
      { method: 'DELETE', path: `/v1/accounts/${alice.handle}/devices/${d.id}` },
      { method: 'POST', path: '/v1/accounts', body: '{not json' },
      { method: 'GET', path: '/v1/no/such/route' },
      { method: 'GET', path: '/v1' },
    ];
    for (const r of requests) {
      const result = await call(relay.url, r);
      expect(result, `${r.method} ${r.path}`).toMatchObject({ status: 410, body: { error: { code: 'unsupported_version', message: expect.stringMatching(/v2/) } } });
    }
    // The v2 routes answer as usual.
    expect((await lookup(relay.url, alice.devices[0]!, alice.handle)).status).toBe(200);
    expect(PROTOCOL_VERSION).toBe(2);
  });

  it('refuses a socket handshake without v: 2 with unsupported_version, before anything else', async () => {
    const d = alice.devices[0]!;
    const { v: _v, ...v1Auth } = handshakeAuth(relay.url, d);
    expect(await refusalCode(relay.url, v1Auth)).toBe('unsupported_version');
    expect(await refusalCode(relay.url, { ...handshakeAuth(relay.url, d), v: 1 })).toBe('unsupported_version');
    expect(await refusalCode(relay.url, { ...handshakeAuth(relay.url, d), v: '2' })).toBe('unsupported_version');
    expect(await refusalCode(relay.url, {})).toBe('unsupported_version');
    // With the version right, the rest of the schema is checked as before.
    expect(await refusalCode(relay.url, { v: 2, deviceId: d.id })).toBe('invalid');
    expect(await refusalCode(relay.url, handshakeAuth(relay.url, d))).toBe('connected');
  });
});
