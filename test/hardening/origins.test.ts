/**
 * Origins: allow-list only. Without --cors-origin only the relay's own origin (and clients that
 * send no Origin, like the SDK in Node and the CLI) get in; with a list, exactly the listed
 * origins do. Both the Socket.IO handshake (browsers apply no CORS to WebSockets) and the HTTP
 * API refuse a foreign origin themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handshakeAuth, lookupHeaders, makeAccount, openSocket, registerAll, type TestAccount } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';

const ALLOWED = 'https://chat.example.org';
const FOREIGN = 'https://evil.example.net';

let open: RelayHandle;
let listed: RelayHandle;
let alice: TestAccount;

beforeAll(async () => {
  // Long-polling is off by default (pre-handshake.test.ts); both transports are checked here.
  open = await startRelay({ longPolling: true });
  listed = await startRelay({ corsOrigins: [ALLOWED], longPolling: true });
  alice = await makeAccount();
  await registerAll(open.url, alice);
  await registerAll(listed.url, alice);
});
afterAll(async () => {
  await open.close();
  await listed.close();
});

/** 'connected' or 'refused', for a signed socket sent with this Origin header. */
function socketWithOrigin(relay: RelayHandle, origin: string | undefined, transport: 'websocket' | 'polling'): Promise<'connected' | 'refused'> {
  const socket = openSocket(relay.url, handshakeAuth(relay.url, alice.devices[0]!), { transports: [transport], ...(origin ? { extraHeaders: { origin } } : {}) });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', () => {
      socket.close();
      resolve('refused');
    });
  });
}

/** Without a path: a lookup of alice, signed by her device (lookups are signed requests). */
async function api(relay: RelayHandle, origin: string | undefined, method = 'GET', path?: string): Promise<{ status: number; body: unknown; allowOrigin: string | null }> {
  const signed = path === undefined ? lookupHeaders(relay.url, alice.devices[0]!, alice.handle) : {};
  const response = await fetch(relay.url + (path ?? `/v2/accounts/${alice.handle}`), { method, headers: { ...signed, ...(origin ? { origin } : {}) } });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, allowOrigin: response.headers.get('access-control-allow-origin') };
}

describe('default: same-origin only', () => {
  it('accepts sockets with no Origin or the relay\u2019s own, refuses any other', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      expect(await socketWithOrigin(open, undefined, transport), transport).toBe('connected');
      expect(await socketWithOrigin(open, `http://${open.host}`, transport), transport).toBe('connected');
      expect(await socketWithOrigin(open, FOREIGN, transport), transport).toBe('refused');
      expect(await socketWithOrigin(open, ALLOWED, transport), transport).toBe('refused');
      expect(await socketWithOrigin(open, 'null', transport), transport).toBe('refused');
    }
  });

  it('answers API calls from its own origin and refuses others with 403 forbidden and no CORS header', async () => {
    expect((await api(open, undefined)).status).toBe(200);
    expect((await api(open, `http://${open.host}`)).status).toBe(200);
    for (const origin of [FOREIGN, ALLOWED, 'null']) {
      const r = await api(open, origin);
      expect(r.status, origin).toBe(403);
      expect(r.body).toMatchObject({ error: { code: 'forbidden' } });
      expect(r.allowOrigin).toBeNull();
    }
    // A would-be state-changing call is refused before any handler runs.
    const post = await api(open, FOREIGN, 'POST', `/v2/devices/${alice.devices[0]!.id}/bundle`);
    expect(post.status).toBe(403);
  });
});

describe('with --cors-origin', () => {
  it('accepts a socket from a listed origin, refuses an unlisted one', async () => {
    for (const transport of ['websocket', 'polling'] as const) {
      expect(await socketWithOrigin(listed, ALLOWED, transport), transport).toBe('connected');
      expect(await socketWithOrigin(listed, FOREIGN, transport), transport).toBe('refused');
      expect(await socketWithOrigin(listed, `${ALLOWED}:8443`, transport), transport).toBe('refused');
    }
  });

  it('answers a listed origin with its CORS header (and preflight), refuses an unlisted one', async () => {
    const ok = await api(listed, ALLOWED);
    expect(ok.status).toBe(200);
    expect(ok.allowOrigin).toBe(ALLOWED);
    const preflight = await fetch(`${listed.url}/v2/accounts`, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const bad = await api(listed, FOREIGN);
    expect(bad.status).toBe(403);
    expect(bad.allowOrigin).toBeNull();
    const badPreflight = await fetch(`${listed.url}/v2/accounts`, { method: 'OPTIONS', headers: { origin: FOREIGN, 'access-control-request-method': 'POST' } });
    expect(badPreflight.status).toBe(403);
    expect(badPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});
