/**
 * The relay's security headers, as the browser sees them on the web client's page and on the
 * API: the CSP the app runs under (chat.test.ts asserts the app raises no violation under it),
 * no referrer, no framing, and HSTS only with TLS.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaders } from '../../server/routes/security-headers.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
// Not the stage: no browser is needed, and the headers are checked with or without a build.
import { CLIENT_DIR } from './stage.js';

function policy(header: string | null | undefined): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of (header ?? '').split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name, values);
  }
  return directives;
}

describe('security headers of the relay', () => {
  let relay: RelayHandle;
  beforeAll(async () => {
    relay = await startRelay(existsSync(resolve(CLIENT_DIR, 'index.html')) ? { staticDir: CLIENT_DIR } : {});
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('serve the web client with a strict CSP, no referrer and no framing, and no HSTS without TLS', async () => {
    for (const path of ['/', '/healthz']) {
      const response = await fetch(relay.url + path);
      const csp = policy(response.headers.get('content-security-policy'));
      expect(csp.get('script-src'), path).toEqual(["'self'", "'wasm-unsafe-eval'"]);
      expect(csp.get('script-src-attr')).toEqual(["'none'"]);
      expect(csp.get('style-src')).toEqual(["'self'"]);
      expect(csp.get('default-src')).toEqual(["'self'"]);
      expect(csp.get('object-src')).toEqual(["'none'"]);
      expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
      expect(csp.get('connect-src')).toEqual(["'self'", `ws://${relay.host}`]);
      expect(csp.has('upgrade-insecure-requests')).toBe(false);
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('never copy a strange Host header into the policy', async () => {
    const response = await relay.app.inject({ method: 'GET', url: '/healthz', headers: { host: "evil.example; script-src 'unsafe-inline'" } });
    const header = String(response.headers['content-security-policy']);
    expect(header).not.toContain('evil');
    expect(policy(header).get('connect-src')?.[0]).toBe("'self'");
  });

  it('add HSTS, upgrade-insecure-requests and wss:// when the relay serves TLS', async () => {
    const app = Fastify();
    app.decorate('relay', { config: { tlsCert: 'cert.pem', tlsKey: 'key.pem' } } as never);
    await app.register(securityHeaders);
    app.get('/', async () => 'ok');
    const response = await app.inject({ method: 'GET', url: '/', headers: { host: 'chat.example:8443' } });
    await app.close();
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    const csp = policy(String(response.headers['content-security-policy']));
    expect(csp.has('upgrade-insecure-requests')).toBe(true);
    expect(csp.get('connect-src')).toEqual(["'self'", 'wss://chat.example:8443']);
  });
});
