/**
 * Verifies a signed HTTP request (crypto/statements.ts `signRequest`): fresh timestamp, unused
 * nonce, and one valid signature per required signer over the request's Host header (the relay
 * origin the client addressed), method, path, timestamp, nonce and the exact raw body bytes.
 */
import type { FastifyRequest } from 'fastify';
import { verifyRequest } from '../../crypto/statements.js';
import { RelayError } from '../errors.js';
import { HEADER_DEVICE_SIGNATURE, HEADER_IDENTITY_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP } from '../protocol/http.js';
import { isNonce, signatureBytes } from './keys.js';
import type { NonceCache } from './nonce-cache.js';

export interface RequestSigners {
  /** Account identity public key: checks x-sealpost-identity-signature. */
  identity?: Uint8Array;
  /** Device public key: checks x-sealpost-device-signature. */
  device?: Uint8Array;
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export function verifySignedRequest(request: FastifyRequest, signers: RequestSigners, skewMs: number, nonces: NonceCache): void {
  const timestampText = header(request, HEADER_TIMESTAMP);
  const nonce = header(request, HEADER_NONCE);
  if (timestampText === undefined || nonce === undefined) throw new RelayError('unauthorized', 'signed request headers are missing');
  if (!/^\d{1,16}$/.test(timestampText) || !isNonce(nonce)) throw new RelayError('invalid', 'malformed timestamp or nonce header');
  const timestamp = Number(timestampText);
  const now = Date.now();
  if (Math.abs(now - timestamp) > skewMs) throw new RelayError('stale_timestamp');

  const fields = {
    relayHost: request.headers.host ?? '',
    method: request.method.toUpperCase(),
    path: request.url.split('?')[0] ?? '',
    timestamp,
    nonce,
    body: request.rawBody ?? new Uint8Array(0),
  };
  const checks: [string, Uint8Array | undefined][] = [
    [HEADER_IDENTITY_SIGNATURE, signers.identity],
    [HEADER_DEVICE_SIGNATURE, signers.device],
  ];
  for (const [name, key] of checks) {
    if (!key) continue;
    const text = header(request, name);
    if (text === undefined) throw new RelayError('unauthorized', `${name} is missing`);
    let signature: Uint8Array;
    try {
      signature = signatureBytes(text, name);
    } catch {
      throw new RelayError('bad_signature', `${name} is malformed`);
    }
    if (!verifyRequest(fields, signature, key)) throw new RelayError('bad_signature', `${name} does not verify`);
  }
  // Only a request whose signatures verify spends its nonce: garbage cannot burn a client's nonce.
  if (!nonces.remember(`request:${nonce}`, now)) throw new RelayError('replayed_nonce');
}
