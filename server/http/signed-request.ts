/**
 * Verifies a signed HTTP request (crypto/statements.ts `signRequest`): fresh timestamp, unused
 * nonce, and a valid `x-sealpost-device-signature` by the given device key over the request's
 * Host header (the relay origin the client addressed), method, path, timestamp, nonce and the
 * exact raw body bytes. Protocol v2 signs requests with device keys only: the account's
 * authority acts through signed device lists, never through a request signature.
 */
import type { FastifyRequest } from 'fastify';
import { verifyRequest } from '../../crypto/statements.js';
import { RelayError } from '../errors.js';
import { HEADER_DEVICE_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP } from '../protocol/http.js';
import { isNonce, signatureBytes } from './keys.js';
import type { NonceCache } from './nonce-cache.js';

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export function verifySignedRequest(request: FastifyRequest, devicePublicKey: Uint8Array, skewMs: number, nonces: NonceCache): void {
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
  const text = header(request, HEADER_DEVICE_SIGNATURE);
  if (text === undefined) throw new RelayError('unauthorized', `${HEADER_DEVICE_SIGNATURE} is missing`);
  let signature: Uint8Array;
  try {
    signature = signatureBytes(text, HEADER_DEVICE_SIGNATURE);
  } catch {
    throw new RelayError('bad_signature', `${HEADER_DEVICE_SIGNATURE} is malformed`);
  }
  if (!verifyRequest(fields, signature, devicePublicKey)) throw new RelayError('bad_signature', `${HEADER_DEVICE_SIGNATURE} does not verify`);
  // Only a request whose signature verifies spends its nonce: garbage cannot burn a client's nonce.
  if (!nonces.remember(`request:${nonce}`, now)) throw new RelayError('replayed_nonce');
}
