/**
 * Verifies a signed HTTP request (crypto/statements.ts `signRequest`): fresh timestamp, unused
 * nonce, and a valid `x-sealpost-device-signature` by the given device key over the request's
 * Host header (the relay origin the client addressed), method, path, timestamp, nonce and the
 * exact raw body bytes. Protocol v2 signs requests with device keys, except the recovery lookup
 * of an account's device list, which the account identity key signs (routes/accounts.ts).
 *
 * Limits keyed to the signer (its public key), checked only once the signature verifies, so
 * nobody can spend another signer's budget by naming it: a token bucket of signed requests per
 * signer (`--signed-requests-per-device`), then the signer's own nonce table, capped at
 * `--nonces-per-device` within the window (nonce-cache.ts). Either one spent is `rate_limited`
 * for that signer alone.
 */
import type { FastifyRequest } from 'fastify';
import { toBase64Url } from '../../crypto/encoding.js';
import { verifyRequest } from '../../crypto/statements.js';
import { RelayError } from '../errors.js';
import type { Buckets } from '../limits/token-bucket.js';
import { HEADER_DEVICE_ID, HEADER_DEVICE_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP, Key32 } from '../../protocol/http.js';
import type { Store } from '../store/store.js';
import { isNonce, signatureBytes, signingKey } from './keys.js';
import { relayHostFor } from './public-origin.js';
import type { NonceRegistry, RememberOutcome } from './nonce-cache.js';

/** What checking a signed request needs from the relay (a subset of RelayContext). */
export interface SignedRequestGuard {
  readonly config: { readonly handshakeSkewMs: number; readonly publicOrigin?: string | undefined };
  readonly nonces: NonceRegistry;
  /** Signed requests per signer (token buckets keyed by the signer's public key). */
  readonly signers: Buckets;
}

/** A nonce the cache would not take, as the refusal a client sees. */
export function nonceRefusal(outcome: Exclude<RememberOutcome, 'fresh'>): RelayError {
  if (outcome === 'replayed') return new RelayError('replayed_nonce');
  if (outcome === 'over_cap') return new RelayError('rate_limited', 'this key signed too many requests and handshakes within the freshness window; retry in a minute');
  return new RelayError('rate_limited', 'the relay remembers too many nonces; retry in a minute');
}

const DEVICE_ID = new RegExp(Key32.pattern as string);

export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
}

export async function verifySignedRequest(request: FastifyRequest, devicePublicKey: Uint8Array, guard: SignedRequestGuard): Promise<void> {
  const skewMs = guard.config.handshakeSkewMs;
  const timestampText = header(request, HEADER_TIMESTAMP);
  const nonce = header(request, HEADER_NONCE);
  if (timestampText === undefined || nonce === undefined) throw new RelayError('unauthorized', 'signed request headers are missing');
  if (!/^\d{1,16}$/.test(timestampText) || !isNonce(nonce)) throw new RelayError('invalid', 'malformed timestamp or nonce header');
  const timestamp = Number(timestampText);
  const now = Date.now();
  if (Math.abs(now - timestamp) > skewMs) throw new RelayError('stale_timestamp');

  const fields = {
    relayHost: relayHostFor(request.headers.host, guard.config),
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
  // Only a request whose signature verifies spends its budget and nonce: garbage cannot burn a client's.
  const signer = toBase64Url(devicePublicKey);
  if (!(await guard.signers.has(signer, now))) throw new RelayError('rate_limited', 'this key signs too many requests; retry in a minute');
  const outcome = await guard.nonces.remember(signer, `request:${nonce}`, now);
  if (outcome !== 'fresh') throw nonceRefusal(outcome);
  await guard.signers.take(signer, now);
}

/**
 * A request signed by a registered device that names itself in `x-sealpost-device-id` (bundle
 * claims, lookups): returns its device id once the request verifies. Refusals in order: header
 * missing (401 unauthorized), not a device id (400 invalid), device not registered (401
 * unauthorized), then the signed-request checks.
 */
export async function verifyRegisteredRequester(request: FastifyRequest, store: Store, guard: SignedRequestGuard, what: string): Promise<string> {
  const requester = header(request, HEADER_DEVICE_ID);
  if (requester === undefined) throw new RelayError('unauthorized', `${what} is a signed request naming its device in ${HEADER_DEVICE_ID}`);
  if (requester.length !== 43 || !DEVICE_ID.test(requester)) throw new RelayError('invalid', `${HEADER_DEVICE_ID} is not a device id`);
  const requesterKey = signingKey(requester, HEADER_DEVICE_ID);
  if (!(await store.getDevice(requester))) throw new RelayError('unauthorized', 'the requesting device is not registered');
  await verifySignedRequest(request, requesterKey, guard);
  return requester;
}
