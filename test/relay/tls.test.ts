/** With --tls-cert/--tls-key the relay serves HTTPS and WSS (the committed self-signed test certificate). */
import { request } from 'node:https';
import { describe, expect, it } from 'vitest';
import { handshakeAuth, makeAccount, openSocket, registerAll } from '../support/identity.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from '../support/tls.js';
import { startRelay } from '../support/relay.js';

describe('TLS', () => {
  it('serves HTTPS and authenticated WSS', async () => {
    const relay = await startRelay({ tlsCert: TEST_TLS_CERT, tlsKey: TEST_TLS_KEY });
    try {
      expect(relay.url.startsWith('https://')).toBe(true);
      const status = await new Promise<number>((resolve, reject) => {
        request(`${relay.url}/healthz`, { rejectUnauthorized: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject).end();
      });
      expect(status).toBe(200);
      // Node's fetch cannot trust a self-signed certificate without a custom dispatcher, so the
      // registration helper's fetch is routed through app.inject (same routes, same Host header).
      const alice = await makeAccount();
      const injectUrl = `http://${relay.host}`;
      const originalFetch = globalThis.fetch;
      globalThis.fetch = (async (input: string, init: { method?: string; headers?: Record<string, string>; body?: string }) => {
        const url = new URL(input);
        const res = await relay.app.inject({ method: init.method as 'POST', url: url.pathname, headers: { ...init.headers, host: relay.host }, payload: init.body ?? '' });
        return new Response(res.body, { status: res.statusCode, headers: res.headers as Record<string, string> });
      }) as typeof fetch;
      try {
        await registerAll(injectUrl, alice);
      } finally {
        globalThis.fetch = originalFetch;
      }
      const socket = openSocket(relay.url, handshakeAuth(relay.url, alice.devices[0]!), { rejectUnauthorized: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      expect(socket.connected).toBe(true);
      socket.close();
    } finally {
      await relay.close();
    }
  });
});
