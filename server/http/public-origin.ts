/**
 * --public-origin: the one host signatures bind. Signed handshakes and signed requests carry the
 * relay host the client addressed (crypto/statements.ts `relayHost`); with --public-origin the
 * relay verifies them against that origin's host, never against the Host header, so a request
 * signed for another relay does not verify here whatever Host it carries. HTTP requests whose
 * Host header is not the public host are refused 400 `invalid` (except /healthz, /readyz and
 * /metrics, which bind nothing and are polled by local monitoring). Without --public-origin the
 * Host header is bound (development; a warning is logged at start).
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { RelayError } from '../errors.js';

type OriginConfig = { readonly publicOrigin?: string | undefined };

/** host[:port] of --public-origin, as clients' URL.host gives it (default port omitted), lower case. */
export function publicHost(config: OriginConfig): string | undefined {
  return config.publicOrigin === undefined ? undefined : new URL(config.publicOrigin).host.toLowerCase();
}

/** The relay host a signature must bind: the public origin's host when set, else the Host header. */
export function relayHostFor(headersHost: string | undefined, config: OriginConfig | undefined): string {
  const host = config ? publicHost(config) : undefined;
  return host ?? headersHost ?? '';
}

// The gateway's handshake reaches the config through its Socket.IO server (see bindRelayConfig).
const byServer = new WeakMap<object, OriginConfig>();

/** Ties a Socket.IO server to the relay's config, so handshakes find the public origin. */
export function bindRelayConfig(io: object, config: OriginConfig): void {
  byServer.set(io, config);
}

/** The config bound to a Socket.IO server (undefined if none: the Host header is bound). */
export function relayConfigOf(io: object): OriginConfig | undefined {
  return byServer.get(io);
}

const UNBOUND_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Whether a Host header names the public host (host names compare case-insensitively). */
export function isPublicHost(headersHost: string | undefined, config: OriginConfig): boolean {
  const expected = publicHost(config);
  return expected === undefined || (headersHost ?? '').toLowerCase() === expected;
}

async function hostGuard(app: FastifyInstance): Promise<void> {
  const config = app.relay.config;
  const expected = publicHost(config);
  if (expected === undefined) return;
  app.addHook('onRequest', async (request) => {
    if (isPublicHost(request.headers.host, config)) return;
    if (UNBOUND_PATHS.has(request.url.split('?')[0] ?? '')) return;
    throw new RelayError('invalid', `this relay serves ${config.publicOrigin}; the Host header must be ${expected}`);
  });
}

export const hostGuardPlugin = fp(hostGuard, { name: 'sealpost-host-guard' });

/** Start-up warnings about the configuration (logged by `sealpost serve` and buildApp). */
export function startupWarnings(config: OriginConfig): string[] {
  const warnings: string[] = [];
  if (config.publicOrigin === undefined) {
    warnings.push(
      'no --public-origin: signed handshakes and requests bind whatever Host header the client sends; set --public-origin https://your.relay.host in production',
    );
  }
  return warnings;
}
