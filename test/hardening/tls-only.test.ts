/**
 * With --tls-cert/--tls-key the relay's port speaks TLS only: plain HTTP and plain ws:// to it
 * are refused (test/relay/tls.test.ts shows HTTPS + WSS work on the same setup).
 */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { handshakeAuth, makeAccount, openSocket } from '../support/identity.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from '../support/tls.js';
import { startRelay } from '../support/relay.js';

/** The plain-HTTP outcome: a status code if the port answered in HTTP, else the socket error. */
function plainHttp(url: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { timeout: 5000 }, (res) => {
      res.resume();
      resolve(`status ${res.statusCode}`);
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(`error ${error.code ?? error.message}`));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('TLS only', () => {
  it('refuses plain HTTP and plain ws:// on the TLS port', async () => {
    const relay = await startRelay({ tlsCert: TEST_TLS_CERT, tlsKey: TEST_TLS_KEY });
    try {
      const plainUrl = relay.url.replace('https://', 'http://');
      for (const path of ['/healthz', '/v2/accounts/someone', '/socket.io/?EIO=4&transport=polling']) {
        const outcome = await plainHttp(plainUrl + path);
        // Node's TLS server never parses the plaintext request: no HTTP status comes back.
        expect(outcome, path).toMatch(/^error /);
      }
      const alice = await makeAccount();
      const socket = openSocket(plainUrl, handshakeAuth(relay.url, alice.devices[0]!));
      const outcome = await new Promise<string>((resolve) => {
        socket.once('connect', () => resolve('connected'));
        socket.once('connect_error', (error) => resolve(`refused: ${error.message}`));
      });
      socket.close();
      expect(outcome).toMatch(/^refused/);
      // The TLS side is still up.
      expect(relay.url.startsWith('https://')).toBe(true);
    } finally {
      await relay.close();
    }
  });
});
