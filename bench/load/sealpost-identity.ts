/**
 * Real sealpost accounts for the load generator: an account identity (authority) key, one
 * device key, the authority's first signed device list naming that device and a signed prekey
 * (signed by the device), registered with `POST /v2/accounts` signed by the device key
 * (docs/PROTOCOL.md §"Signed requests"), then protocol v2 handshakes signed per connection.
 * No one-time prekeys: the benchmark never opens sessions over the relay.
 */
import { randomBytes } from 'node:crypto';
import type { CreateAccountRequest } from '../../protocol/http.js';
import { HEADER_DEVICE_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP, PROTOCOL_VERSION } from '../../protocol/http.js';
import type { HandshakeAuth } from '../../protocol/events.js';
import { toBase64Url, utf8 } from '../../crypto/encoding.js';
import { generateDhKeyPair, generateSigningKeyPair, type SigningKeyPair } from '../../crypto/keys.js';
import { signDeviceList } from '../../crypto/device-list.js';
import { signHandshake, signRequest, signSignedPrekey } from '../../crypto/statements.js';
import { BenchError } from './driver.js';

export interface SealpostDevice {
  id: string;
  handle: string;
  deviceKey: SigningKeyPair;
}

// One tag per load process so handles never collide with an earlier run on the same database.
const runTag = randomBytes(4).toString('hex');
let counter = 0;

function nonce(): string {
  return toBase64Url(randomBytes(16));
}

/**
 * The body of `POST /v2/accounts` for a new account `handle`: a fresh identity key, one device
 * key (returned: it signs the account's requests and handshakes), a signed prekey and the first
 * signed device list, plus `oneTimePrekeys` one-time prekeys. Shared with bench/attacks/client.ts.
 */
export function accountRequest(handle: string, oneTimePrekeys = 0): { request: CreateAccountRequest; deviceKey: SigningKeyPair } {
  const identity = generateSigningKeyPair();
  const deviceKey = generateSigningKeyPair();
  const prekey = generateDhKeyPair();
  const createdAt = Date.now();
  const deviceId = toBase64Url(deviceKey.publicKey);
  const request: CreateAccountRequest = {
    handle,
    identityKey: toBase64Url(identity.publicKey),
    device: {
      deviceId,
      signedPrekey: {
        keyId: 1,
        publicKey: toBase64Url(prekey.publicKey),
        signature: toBase64Url(signSignedPrekey({ devicePublicKey: deviceKey.publicKey, keyId: 1, publicKey: prekey.publicKey }, deviceKey.privateKey)),
      },
      oneTimePrekeys: Array.from({ length: oneTimePrekeys }, (_, i) => ({ keyId: i + 1, publicKey: toBase64Url(generateDhKeyPair().publicKey) })),
    },
    deviceList: signDeviceList({ handle, version: 1, time: createdAt, devices: [{ deviceId, createdAt }] }, identity.privateKey),
  };
  return { request, deviceKey };
}

/** The three signed-request headers (timestamp, fresh nonce, device signature) for `host` of `baseUrl`. */
export function signedRequestHeaders(baseUrl: string, privateKey: Uint8Array, method: string, path: string, body: Uint8Array): Record<string, string> {
  const timestamp = Date.now();
  const requestNonce = nonce();
  const signature = signRequest({ relayHost: new URL(baseUrl).host, method, path, timestamp, nonce: requestNonce, body }, privateKey);
  return { [HEADER_TIMESTAMP]: String(timestamp), [HEADER_NONCE]: requestNonce, [HEADER_DEVICE_SIGNATURE]: toBase64Url(signature) };
}

export async function registerDevice(baseUrl: string): Promise<SealpostDevice> {
  const handle = `b${runTag}.${counter++}`;
  const { request, deviceKey } = accountRequest(handle);
  const body = JSON.stringify(request);
  // Thousands of registrations over keep-alive sockets: a socket the server closed at the wrong
  // moment fails the request ("fetch failed"). Retry a few times, each with fresh signatures.
  for (let attempt = 1; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(new URL('/v2/accounts', baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signedRequestHeaders(baseUrl, deviceKey.privateKey, 'POST', '/v2/accounts', utf8(body)) },
        body,
      });
    } catch (error) {
      if (attempt >= 4) throw new BenchError(`registration failed: ${error instanceof Error ? error.message : String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      continue;
    }
    if (response.ok) break;
    const text = await response.text();
    // 409: an earlier attempt did go through; the account is ours.
    if (response.status === 409 && attempt > 1) break;
    if (attempt >= 4 || response.status < 500) throw new BenchError(`registration refused: ${response.status} ${text}`);
  }
  return { id: request.device.deviceId, handle, deviceKey };
}

/** A fresh signed handshake; called for every connection attempt (nonces are single-use). */
export function handshakeAuth(baseUrl: string, device: SealpostDevice): HandshakeAuth {
  return signedHandshake(baseUrl, device.id, device.deviceKey.privateKey);
}

/** A handshake for device `deviceId` signed by its key, with a fresh nonce (also used by bench/attacks/client.ts). */
export function signedHandshake(baseUrl: string, deviceId: string, privateKey: Uint8Array): HandshakeAuth {
  const timestamp = Date.now();
  const handshakeNonce = nonce();
  const signature = signHandshake({ relayHost: new URL(baseUrl).host, deviceId, timestamp, nonce: handshakeNonce }, privateKey);
  return { v: PROTOCOL_VERSION, deviceId, timestamp, nonce: handshakeNonce, signature: toBase64Url(signature) };
}
