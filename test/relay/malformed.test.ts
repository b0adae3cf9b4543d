/**
 * Wrong types in every field of every route and event: each gets a typed 4xx error / ack, the
 * relay keeps serving, and what was stored before is still there and deliverable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, ERRORS } from '../../server/errors.js';
import { ack, connectInbox, emitRaw, envelopeTo, send } from '../support/envelopes.js';
import { call, claimBundle, connectDevice, listWith, makeAccount, makeDevice, randomId, registerAll, registration, signList, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

let relay: RelayHandle;
let alice: TestAccount;
let bob: TestAccount;
const keptId = { id: '' };

beforeAll(async () => {
  relay = await startRelay();
  alice = await makeAccount();
  bob = await makeAccount();
  await registerAll(relay.url, alice);
  await registerAll(relay.url, bob);
  const s = await connectDevice(relay.url, alice.devices[0]!);
  const kept = envelopeTo(bob.devices[0]!, 'stored before the barrage');
  keptId.id = kept.id;
  expect(await send(s, kept)).toEqual({ ok: true, failed: [] });
  s.close();
});
afterAll(async () => relay.close());

const WRONG: unknown[] = [null, 42, -1, 1.5, 'text', true, [], {}, [1, 'x']];
const typeOf = (v: unknown): string => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);

/** Every variant of `value` with one field (at any depth) replaced by a wrong type, or an extra field added. */
function mutations(value: unknown, path: string[] = []): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = [];
  const replaceAt = (root: unknown, at: string[], next: unknown): unknown => {
    if (at.length === 0) return next;
    const [head, ...rest] = at as [string, ...string[]];
    if (Array.isArray(root)) return root.map((x, i) => (String(i) === head ? replaceAt(x, rest, next) : x));
    return { ...(root as object), [head]: replaceAt((root as Record<string, unknown>)[head], rest, next) };
  };
  const walk = (node: unknown, at: string[]): void => {
    for (const wrong of WRONG) if (typeOf(wrong) !== typeOf(node) || typeOf(node) === 'number') {
      if (typeOf(node) === 'number' && typeof wrong === 'number' && wrong >= 0 && Number.isInteger(wrong)) continue;
      out.push({ path: at.join('.') || '(root)', value: replaceAt(value, at, wrong) });
    }
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      out.push({ path: `${at.join('.')}+extra`, value: replaceAt(value, at, { ...(node as object), unexpected: 1 }) });
      for (const key of Object.keys(node)) walk((node as Record<string, unknown>)[key], [...at, key]);
    } else if (Array.isArray(node) && node.length > 0) walk(node[0], [...at, '0']);
  };
  walk(value, path);
  return out;
}

function expectTypedError(r: { status: number; body: unknown; contentType: string | null }, what: string): void {
  expect(r.status, what).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.contentType, what).toContain('application/json');
  const error = (r.body as { error?: { code?: string; message?: string } }).error;
  expect(ERROR_CODES, what).toContain(error?.code);
  expect(ERRORS[error!.code as keyof typeof ERRORS].status, what).toBe(r.status);
  expect(typeof error?.message, what).toBe('string');
}

describe('HTTP routes refuse wrong types in every field', () => {
  it('POST /v2/accounts', async () => {
    const a = await makeAccount();
    const valid = { handle: a.handle, identityKey: a.identityKey, device: registration(a.devices[0]!), deviceList: signList(a, [a.devices[0]!], 1) };
    const variants = mutations(valid);
    expect(variants.length).toBeGreaterThan(80);
    for (const v of variants) {
      const r = await call(relay.url, { method: 'POST', path: '/v2/accounts', body: v.value, device: a.devices[0]!.keys });
      expectTypedError(r, `accounts ${v.path}`);
    }
    // The valid request still works afterwards: nothing above was stored.
    expect((await call(relay.url, { method: 'POST', path: '/v2/accounts', body: valid, device: a.devices[0]!.keys })).status).toBe(201);
  });

  it('POST /v2/accounts/:handle/devices', async () => {
    const d = makeDevice(alice);
    const valid = { device: registration(d), deviceList: listWith(alice, [d]) };
    for (const v of mutations(valid)) {
      const r = await call(relay.url, { method: 'POST', path: `/v2/accounts/${alice.handle}/devices`, body: v.value, device: d.keys });
      expectTypedError(r, `devices ${v.path}`);
    }
    expectTypedError(await call(relay.url, { method: 'POST', path: '/v2/accounts/NO!/devices', body: valid, device: d.keys }), 'bad handle param');
  });

  it('PUT /v2/accounts/:handle/device-list', async () => {
    const valid = { deviceList: listWith(alice, []) };
    for (const v of mutations(valid)) {
      expectTypedError(await call(relay.url, { method: 'PUT', path: `/v2/accounts/${alice.handle}/device-list`, body: v.value }), `device-list ${v.path}`);
    }
    expectTypedError(await call(relay.url, { method: 'PUT', path: '/v2/accounts/NO!/device-list', body: valid }), 'bad handle param');
  });

  it('PUT /v2/devices/:deviceId/prekeys', async () => {
    const d = alice.devices[0]!;
    const fresh = makeDevice(alice, { oneTimePrekeys: 2, firstKeyId: 500 });
    const valid = { signedPrekey: registration(d).signedPrekey, oneTimePrekeys: registration(fresh).oneTimePrekeys };
    for (const v of mutations(valid)) {
      const r = await call(relay.url, { method: 'PUT', path: `/v2/devices/${d.id}/prekeys`, body: v.value, device: d.keys });
      expectTypedError(r, `prekeys ${v.path}`);
    }
  });

  it('PUT /v2/provisioning/:deviceId and bad params everywhere', async () => {
    const target = makeDevice(alice).id;
    for (const v of mutations({ body: randomId(32) })) {
      expectTypedError(await call(relay.url, { method: 'PUT', path: `/v2/provisioning/${target}`, body: v.value }), `provisioning ${v.path}`);
    }
    for (const bad of ['x', 'A'.repeat(44), '%00', 'a'.repeat(43) + '!']) {
      expectTypedError(await claimBundle(relay.url, alice.devices[0]!, encodeURIComponent(bad)), `bundle ${bad}`);
      expectTypedError(await claimBundle(relay.url, alice.devices[0]!, bob.devices[0]!.id, { 'x-sealpost-device-id': bad }), `bundle requester ${bad}`);
      expectTypedError(await call(relay.url, { method: 'PUT', path: `/v2/provisioning/${encodeURIComponent(bad)}`, body: { body: 'AAAA' } }), `prov ${bad}`);
      expectTypedError(await call(relay.url, { method: 'GET', path: `/v2/accounts/${encodeURIComponent(bad)}` }), `lookup ${bad}`);
    }
  });

  it('malformed JSON, wrong content type, oversize bodies, bad headers, unknown routes', async () => {
    const raw = (init: RequestInit, path = '/v2/accounts') => fetch(relay.url + path, { method: 'POST', ...init });
    const asResult = async (res: Response) => ({ status: res.status, contentType: res.headers.get('content-type'), body: JSON.parse(await res.text()) as unknown });
    expectTypedError(await asResult(await raw({ headers: { 'content-type': 'application/json' }, body: '{"handle":' })), 'truncated JSON');
    expectTypedError(await asResult(await raw({ headers: { 'content-type': 'application/json' }, body: '[]' })), 'array body');
    expectTypedError(await asResult(await raw({ headers: { 'content-type': 'application/json' }, body: 'null' })), 'null body');
    expectTypedError(await asResult(await raw({ headers: { 'content-type': 'text/plain' }, body: 'hello' })), 'text/plain');
    expectTypedError(await asResult(await raw({})), 'no body');
    const huge = await asResult(await raw({ headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pad: 'x'.repeat(300_000) }) }));
    expectTypedError(huge, 'oversize');
    expect((huge.body as { error: { code: string } }).error.code).toBe('too_large');
    const a = await makeAccount();
    const body = { handle: a.handle, identityKey: a.identityKey, device: registration(a.devices[0]!), deviceList: signList(a, [a.devices[0]!], 1) };
    const badHeaders: Record<string, string>[] = [{ 'x-sealpost-timestamp': 'soon' }, { 'x-sealpost-nonce': 'x' }, { 'x-sealpost-device-signature': '!!' }, { 'x-sealpost-timestamp': '1e3' }];
    for (const headers of badHeaders) {
      expectTypedError(await call(relay.url, { method: 'POST', path: '/v2/accounts', body, device: a.devices[0]!.keys, headers }), JSON.stringify(headers));
    }
    expectTypedError(await call(relay.url, { method: 'GET', path: '/v2/nothing' }), 'unknown route');
    expectTypedError(await call(relay.url, { method: 'PATCH', path: '/v2/accounts' }), 'unknown method');
    expect((await call(relay.url, { method: 'GET', path: '/healthz' })).status).toBe(200);
  });
});

describe('socket events refuse wrong types in every field', () => {
  it('send: every field, every shape, with and without ack callbacks', async () => {
    const s = await connectDevice(relay.url, alice.devices[0]!);
    const valid = envelopeTo(bob.devices[0]!, 'valid');
    const variants = mutations({ to: valid.to, id: valid.id, body: 'BODY', ephemeral: false })
      .map((v) => ({ ...v, value: v.value && typeof v.value === 'object' && (v.value as { body?: unknown }).body === 'BODY' ? { ...(v.value as object), body: valid.body } : v.value }));
    const extra: unknown[] = [
      undefined, null, 0, 'send', [], [null], [{}],
      { ...valid, body: 'aGVsbG8' }, { ...valid, body: [1, 2, 3] }, { ...valid, body: { type: 'Buffer', data: [1] } }, { ...valid, body: new Uint8Array(0) },
      { ...valid, id: randomId(15) }, { ...valid, id: randomId(17) }, { ...valid, to: 'x' }, { ...valid, ephemeral: 'yes' },
      [valid, { ...valid, to: 1 }],
    ];
    const all = [...variants.map((v) => ({ what: v.path, value: v.value })), ...extra.map((value, i) => ({ what: `extra #${i}`, value }))];
    expect(all.length).toBeGreaterThan(30);
    for (const { what, value } of all) {
      const result = (await emitRaw(s, 'send', [value])) as { ok: boolean; error?: { code: string } };
      expect(result.ok, what).toBe(false);
      expect(['invalid', 'too_large'], what).toContain(result.error?.code);
    }
    // No ack callback, a non-function ack, no arguments at all: ignored without harm.
    (s as unknown as { emit(...a: unknown[]): void }).emit('send', valid);
    (s as unknown as { emit(...a: unknown[]): void }).emit('send', valid, 'not a function');
    (s as unknown as { emit(...a: unknown[]): void }).emit('send');
    const onlyCallback = await (s as unknown as { timeout(ms: number): { emitWithAck(ev: string): Promise<{ ok: boolean; error: { code: string } }> } }).timeout(3000).emitWithAck('send');
    expect(onlyCallback).toMatchObject({ ok: false, error: { code: 'invalid' } });
    expect(await send(s, envelopeTo(bob.devices[0]!, 'still serving'))).toEqual({ ok: true, failed: [] });
    s.close();
  });

  it('ack: wrong types are refused and delete nothing', async () => {
    const s = await connectDevice(relay.url, bob.devices[1] ?? bob.devices[0]!);
    const bad: unknown[] = [undefined, null, 1, 'all', [], {}, { upTo: '5' }, { upTo: -1 }, { upTo: 1.5 }, { upTo: null }, { ids: 'x' }, { ids: [] }, { ids: [1] }, { ids: ['short'] }, { upTo: 1, ids: [randomId()] }, { upTo: 1, extra: 1 }];
    for (const value of bad) {
      const result = (await emitRaw(s, 'ack', [value])) as { ok: boolean; error?: { code: string } };
      expect(result, JSON.stringify(value)).toMatchObject({ ok: false, error: { code: 'invalid' } });
    }
    (s as unknown as { emit(...a: unknown[]): void }).emit('ack', { upTo: 0 });
    (s as unknown as { emit(...a: unknown[]): void }).emit('unknown-event', { upTo: 0 });
    s.close();
  });

  it('the relay kept serving and nothing stored was lost', async () => {
    const { socket, inbox } = await connectInbox(relay.url, bob.devices[0]!);
    await inbox.until((i) => i.envelopes.some((e) => e.id === keptId.id));
    expect(inbox.envelopes[0]!.id).toBe(keptId.id);
    expect(await ack(socket, { ids: [keptId.id] })).toEqual({ ok: true, deleted: 1 });
    socket.close();
    expect((await call(relay.url, { method: 'GET', path: '/readyz' })).status).toBe(200);
    expect(relay.logs.some((l) => l.includes('"level":50'))).toBe(false);
  });
});
