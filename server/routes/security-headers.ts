/**
 * Security headers on every response, above all the web client's page: a strict
 * Content-Security-Policy (scripts only from this origin, plus 'wasm-unsafe-eval', which
 * libsodium's WebAssembly needs; no inline script, no inline style; sockets only back to this
 * host), no referrer, no framing, and HSTS only when the relay itself serves TLS. Over plain
 * HTTP (a relay on a LAN, or behind a proxy that terminates TLS and sends its own HSTS)
 * neither HSTS nor upgrade-insecure-requests is sent: the latter would break every request.
 */
import type { IncomingMessage } from 'node:http';
import fastifyHelmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** host[:port] as browsers send it; anything else adds no source (never echo odd text into the header). */
const HOST_HEADER = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

/** The WebSocket origin of this host ('self' covers it in current browsers; older Safari needs it named). */
export function socketSource(tls: boolean): (request: IncomingMessage) => string {
  return (request) => {
    const host = request.headers.host ?? '';
    return HOST_HEADER.test(host) ? `${tls ? 'wss' : 'ws'}://${host}` : "'self'";
  };
}

async function securityHeadersPlugin(app: FastifyInstance): Promise<void> {
  const tls = app.relay.config.tlsCert !== undefined;
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'self'"],
        'script-src': ["'self'", "'wasm-unsafe-eval'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'"],
        'img-src': ["'self'", 'data:'],
        'font-src': ["'self'"],
        'connect-src': ["'self'", socketSource(tls)],
        'object-src': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        ...(tls ? { 'upgrade-insecure-requests': [] } : {}),
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: tls ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
}

export const securityHeaders = fp(securityHeadersPlugin, { name: 'sealpost-security-headers' });
