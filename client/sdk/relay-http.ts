/**
 * The relay's HTTP API with signed requests: each signer adds its Ed25519 signature over
 * crypto/statements.ts `signRequest` (relay host, method, path, timestamp, nonce and the
 * exact body bytes). Uses the platform `fetch`, so it runs in browsers and Node alike.
 */
import {
  HEADER_DEVICE_SIGNATURE, HEADER_IDENTITY_SIGNATURE, HEADER_NONCE, HEADER_TIMESTAMP,
  type AccountViewJson, type AddDeviceRequest, type CreateAccountRequest, type DeviceCreated,
  type PrekeyBundleJson, type PrekeyStatusJson, type UploadPrekeysRequest,
} from '../../server/protocol/http.js';
import type { ErrorCode } from '../../server/protocol/errors.js';
import type { Static } from '@sinclair/typebox';
import { signRequest, toBase64Url, utf8 } from '../../crypto/index.js';
import { SdkError } from './errors.js';
import { randomBytes } from './random.js';

export interface RequestSigners {
  /** Ed25519 private key of the account identity. */
  identity?: Uint8Array;
  /** Ed25519 private key of the device. */
  device?: Uint8Array;
}

export class RelayHttp {
  readonly relayHost: string;
  private readonly origin: string;

  constructor(relayUrl: string, private readonly fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args)) {
    const url = new URL(relayUrl);
    this.relayHost = url.host;
    this.origin = url.origin;
  }

  createAccount(body: CreateAccountRequest, signers: Required<RequestSigners>): Promise<Static<typeof DeviceCreated>> {
    return this.request('POST', '/v1/accounts', body, signers);
  }

  lookupAccount(handle: string): Promise<AccountViewJson> {
    return this.request('GET', `/v1/accounts/${encodeURIComponent(handle)}`);
  }

  addDevice(handle: string, body: AddDeviceRequest, signers: Required<RequestSigners>): Promise<Static<typeof DeviceCreated>> {
    return this.request('POST', `/v1/accounts/${encodeURIComponent(handle)}/devices`, body, signers);
  }

  removeDevice(handle: string, deviceId: string, signers: RequestSigners): Promise<unknown> {
    return this.request('DELETE', `/v1/accounts/${encodeURIComponent(handle)}/devices/${deviceId}`, undefined, signers);
  }

  claimBundle(deviceId: string): Promise<PrekeyBundleJson> {
    return this.request('POST', `/v1/devices/${deviceId}/bundle`);
  }

  uploadPrekeys(deviceId: string, body: UploadPrekeysRequest, devicePrivateKey: Uint8Array): Promise<PrekeyStatusJson> {
    return this.request('PUT', `/v1/devices/${deviceId}/prekeys`, body, { device: devicePrivateKey });
  }

  /** Drops a sealed link bundle in the new device's provisioning mailbox (unauthenticated, short-lived). */
  putProvisioning(deviceId: string, sealedBody: string): Promise<unknown> {
    return this.request('PUT', `/v1/provisioning/${deviceId}`, { body: sealedBody });
  }

  /** The new device collects what was left in its mailbox (signed by that device). */
  claimProvisioning(deviceId: string, devicePrivateKey: Uint8Array): Promise<{ bodies: string[] }> {
    return this.request('POST', `/v1/provisioning/${deviceId}/claim`, {}, { device: devicePrivateKey });
  }

  private async request<T>(method: string, path: string, json?: unknown, signers: RequestSigners = {}): Promise<T> {
    const body = json === undefined ? new Uint8Array(0) : utf8(JSON.stringify(json));
    const headers: Record<string, string> = {};
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (signers.identity || signers.device) {
      const timestamp = Date.now();
      const nonce = toBase64Url(randomBytes(16));
      headers[HEADER_TIMESTAMP] = String(timestamp);
      headers[HEADER_NONCE] = nonce;
      const fields = { relayHost: this.relayHost, method, path, timestamp, nonce, body };
      if (signers.identity) headers[HEADER_IDENTITY_SIGNATURE] = toBase64Url(signRequest(fields, signers.identity));
      if (signers.device) headers[HEADER_DEVICE_SIGNATURE] = toBase64Url(signRequest(fields, signers.device));
    }
    let response: Response;
    try {
      response = await this.fetchImpl(this.origin + path, {
        method,
        headers,
        ...(json === undefined ? {} : { body: body as unknown as BodyInit }),
      });
    } catch (cause) {
      throw new SdkError('network', `relay unreachable: ${method} ${path}`, { cause });
    }
    const text = await response.text();
    const parsed: unknown = text ? safeJson(text) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: ErrorCode; message?: string } } | undefined)?.error;
      throw new SdkError('relay_error', error?.message ?? `relay answered ${response.status}`, {
        relayCode: error?.code ?? 'internal',
        status: response.status,
      });
    }
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
