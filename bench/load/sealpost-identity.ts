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

export async function registerDevice(baseUrl: string): Promise<SealpostDevice> {
  const relayHost = new URL(baseUrl).host;
  const handle = `b${runTag}.${counter++}`;
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
      oneTimePrekeys: [],
    },
    deviceList: signDeviceList({ handle, version: 1, time: createdAt, devices: [{ deviceId, createdAt }] }, identity.privateKey),
  };
  const body = JSON.stringify(request);
  // Thousands of registrations over keep-alive sockets: a socket the server closed at the wrong
  // moment fails the request ("fetch failed"). Retry a few times, each with fresh signatures.
  for (let attempt = 1; ; attempt++) {
    const timestamp = Date.now();
    const requestNonce = nonce();
    const fields = { relayHost, method: 'POST', path: '/v2/accounts', timestamp, nonce: requestNonce, body: utf8(body) };
    let response: Response;
    try {
      response = await fetch(new URL('/v2/accounts', baseUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [HEADER_TIMESTAMP]: String(timestamp),
          [HEADER_NONCE]: requestNonce,
          [HEADER_DEVICE_SIGNATURE]: toBase64Url(signRequest(fields, deviceKey.privateKey)),
        },
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
  const timestamp = Date.now();
  const handshakeNonce = nonce();
  const signature = signHandshake({ relayHost: new URL(baseUrl).host, deviceId: device.id, timestamp, nonce: handshakeNonce }, device.deviceKey.privateKey);
  return { v: PROTOCOL_VERSION, deviceId: device.id, timestamp, nonce: handshakeNonce, signature: toBase64Url(signature) };
}
