/**
 * Web Push for a registered device (docs/relay-api.md §"Web Push"): the app subscribes in its
 * service worker with the relay's VAPID key (`fetchPushKey`), then hands the subscription to
 * `enablePush`; the relay then wakes that browser with a content-free push whenever envelopes
 * are stored for this device while none of its sockets is connected. `disablePush` stops it.
 *
 * Both are requests signed by this device (crypto/statements.ts `signRequest`, as relay-http.ts
 * signs), so nobody can register or remove another device's subscription. A relay run with
 * --no-push answers 404: SdkError `relay_error` with relayCode `not_found`.
 */
import { Value } from '@sinclair/typebox/value';
import type { TSchema, Static } from '@sinclair/typebox';
import { signRequest, toBase64Url, utf8, fromBase64Url } from '../../crypto/index.js';
import type { ErrorCode } from '../../protocol/errors.js';
import { HEADER_DEVICE_ID, HEADER_DEVICE_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP } from '../../protocol/http.js';
import { PushKey, PushStatus, type PushSubscriptionJson } from '../../protocol/push.js';
import type { SealpostClient } from './client.js';
import { SdkError } from './errors.js';
import { deviceSigner } from './local-identity.js';
import { randomBytes } from './random.js';

/** What the browser's PushSubscription gives (its toJSON()), or the subscription itself. */
export type PushSubscriptionInput = { endpoint: string; expirationTime?: number | null; keys?: { p256dh?: string; auth?: string } } | { toJSON(): unknown };

export interface PushOptions {
  /** The HTTP client (default: the platform fetch). */
  fetch?: typeof fetch;
}

/** The relay's VAPID public key, as the bytes `pushManager.subscribe({applicationServerKey})` takes. */
export async function fetchPushKey(relayUrl: string, options: PushOptions = {}): Promise<Uint8Array> {
  const reply = await call(relayUrl, 'GET', '/v2/push/key', PushKey, undefined, undefined, options);
  return fromBase64Url(reply.publicKey);
}

/** Registers this device's push subscription with its relay (replacing an earlier one). */
export async function enablePush(client: SealpostClient, subscription: PushSubscriptionInput, options: PushOptions = {}): Promise<void> {
  const body = subscriptionBody(subscription);
  const account = requireAccount(client);
  await call(account.relayUrl, 'PUT', '/v2/push/subscription', PushStatus, body, account, options);
}

/** Removes this device's push subscription from its relay (nothing happens if it had none). */
export async function disablePush(client: SealpostClient, options: PushOptions = {}): Promise<void> {
  const account = requireAccount(client);
  await call(account.relayUrl, 'DELETE', '/v2/push/subscription', PushStatus, undefined, account, options);
}

function requireAccount(client: SealpostClient): NonNullable<SealpostClient['account']> {
  const account = client.account;
  if (!account) throw new SdkError('not_registered', 'register or link this device first');
  return account;
}

/** Only what the relay takes: the endpoint and the two keys (expirationTime is not sent). */
function subscriptionBody(input: PushSubscriptionInput): PushSubscriptionJson {
  const json = ('toJSON' in input ? input.toJSON() : input) as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
  const { endpoint, keys } = json ?? {};
  if (typeof endpoint !== 'string' || typeof keys?.p256dh !== 'string' || typeof keys.auth !== 'string') {
    throw new TypeError('a push subscription needs an endpoint and keys.p256dh and keys.auth');
  }
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

async function call<S extends TSchema>(
  relayUrl: string, method: string, path: string, reply: S, json: unknown, signer: NonNullable<SealpostClient['account']> | undefined, options: PushOptions,
): Promise<Static<S>> {
  const url = new URL(relayUrl);
  const body = json === undefined ? new Uint8Array(0) : utf8(JSON.stringify(json));
  const headers: Record<string, string> = json === undefined ? {} : { 'content-type': 'application/json' };
  if (signer) {
    const { deviceId, privateKey } = deviceSigner(signer);
    const timestamp = Date.now();
    const nonce = toBase64Url(randomBytes(16));
    headers[HEADER_DEVICE_ID] = deviceId;
    headers[HEADER_TIMESTAMP] = String(timestamp);
    headers[HEADER_NONCE] = nonce;
    headers[HEADER_DEVICE_SIGNATURE] = toBase64Url(signRequest({ relayHost: url.host, method, path, timestamp, nonce, body }, privateKey));
  }
  const fetchImpl = options.fetch ?? ((...args: Parameters<typeof fetch>) => globalThis.fetch(...args));
  let response: Response;
  try {
    response = await fetchImpl(url.origin + path, { method, headers, ...(json === undefined ? {} : { body: body as unknown as BodyInit }) });
  } catch (cause) {
    throw new SdkError('network', `relay unreachable: ${method} ${path}`, { cause });
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: ErrorCode; message?: string } } | undefined)?.error;
    throw new SdkError('relay_error', error?.message ?? `relay answered ${response.status}`, { relayCode: error?.code ?? 'internal', status: response.status });
  }
  if (!Value.Check(reply, parsed)) throw new SdkError('invalid_reply', `the relay's answer to ${method} ${path} is malformed`);
  return parsed;
}
