/**
 * The relay's HTTP API (protocol v2, routes under /v2) with signed requests: the signing device
 * adds its Ed25519 signature over crypto/statements.ts `signRequest` (relay host, method, path,
 * timestamp, nonce and the exact body bytes). Every answer is checked against its schema before
 * the SDK uses it: the relay is not trusted to send well-formed data. Uses the platform `fetch`,
 * so it runs in browsers and Node alike.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  AttachmentCreated, DeviceCreated, DeviceListPublished, Handle, RecoveryView, HEADER_DEVICE_ID, HEADER_DEVICE_SIGNATURE, HEADER_NONCE,
  HEADER_TIMESTAMP, Key32, PrekeyBundle, PrekeyStatus, ProvisioningClaimed, SignedDeviceList,
  type AddDeviceRequest, type CreateAccountRequest, type PublishDeviceListRequest, type UploadPrekeysRequest,
} from '../../protocol/http.js';
import type { ErrorCode } from '../../protocol/errors.js';
import { signRequest, toBase64Url, utf8 } from '../../crypto/index.js';
import { SdkError } from './errors.js';
import { randomBytes } from './random.js';

export interface RequestSigner {
  /** The signing device's id, sent as x-sealpost-device-id where the path does not name it. */
  deviceId: string;
  /** Its Ed25519 private key. */
  privateKey: Uint8Array;
}

/**
 * A lookup answer before its devices are checked one by one: a malformed device entry is
 * skipped (and reported) by the directory, not allowed to fail the whole lookup.
 */
export const LookupReply = Type.Object({
  handle: Handle,
  identityKey: Key32,
  deviceList: SignedDeviceList,
  devices: Type.Array(Type.Unknown(), { maxItems: 64 }),
});
export type LookupReplyJson = Static<typeof LookupReply>;

export class RelayHttp {
  readonly relayHost: string;
  private readonly origin: string;

  constructor(relayUrl: string, private readonly fetchImpl: typeof fetch = (...args) => globalThis.fetch(...args)) {
    const url = new URL(relayUrl);
    this.relayHost = url.host;
    this.origin = url.origin;
  }

  createAccount(body: CreateAccountRequest, signer: RequestSigner): Promise<Static<typeof DeviceCreated>> {
    return this.request('POST', '/v2/accounts', DeviceCreated, body, signer);
  }

  /** Looks an account up; signed by our registered device (lookups are counted per device). */
  lookupAccount(handle: string, signer: RequestSigner): Promise<LookupReplyJson> {
    return this.request('GET', `/v2/accounts/${encodeURIComponent(handle)}`, LookupReply, undefined, signer, { [HEADER_DEVICE_ID]: signer.deviceId });
  }

  /**
   * The recovery lookup: the account's newest device list, signed by the account identity key
   * (the recovery key; `signer.deviceId` is not sent). An unknown handle and a wrong key both
   * answer `bad_signature`.
   */
  recoveryDeviceList(handle: string, signer: Pick<RequestSigner, 'privateKey'>): Promise<Static<typeof RecoveryView>> {
    return this.request('GET', `/v2/accounts/${encodeURIComponent(handle)}/device-list`, RecoveryView, undefined, { deviceId: '', privateKey: signer.privateKey });
  }

  /** A linked or recovered device registers itself with the new device list that names it. */
  addDevice(handle: string, body: AddDeviceRequest, signer: RequestSigner): Promise<Static<typeof DeviceCreated>> {
    return this.request('POST', `/v2/accounts/${encodeURIComponent(handle)}/devices`, DeviceCreated, body, signer);
  }

  /** Publishes a newer device list signed by the authority (e.g. one without a removed device). */
  publishDeviceList(handle: string, body: PublishDeviceListRequest): Promise<Static<typeof DeviceListPublished>> {
    return this.request('PUT', `/v2/accounts/${encodeURIComponent(handle)}/device-list`, DeviceListPublished, body);
  }

  /** Claims a bundle of another device; signed by ours, so claims are counted per device. */
  claimBundle(deviceId: string, signer: RequestSigner): Promise<Static<typeof PrekeyBundle>> {
    return this.request('POST', `/v2/devices/${deviceId}/bundle`, PrekeyBundle, undefined, signer, { [HEADER_DEVICE_ID]: signer.deviceId });
  }

  uploadPrekeys(deviceId: string, body: UploadPrekeysRequest, signer: RequestSigner): Promise<Static<typeof PrekeyStatus>> {
    return this.request('PUT', `/v2/devices/${deviceId}/prekeys`, PrekeyStatus, body, signer);
  }

  /**
   * Begins an attachment upload of `size` bytes (the encrypted, padded blob); signed by our
   * device, so uploads count against this account's quota. The bytes go through attachment-http.ts.
   */
  createAttachment(size: number, signer: RequestSigner): Promise<Static<typeof AttachmentCreated>> {
    return this.request('POST', '/v2/attachments', AttachmentCreated, { size }, signer, { [HEADER_DEVICE_ID]: signer.deviceId });
  }

  /** Drops a sealed link bundle in the new device's provisioning mailbox (unauthenticated, short-lived). */
  putProvisioning(deviceId: string, sealedBody: string): Promise<unknown> {
    return this.request('PUT', `/v2/provisioning/${deviceId}`, Type.Unknown(), { body: sealedBody });
  }

  /** The new device collects what was left in its mailbox (signed by that device). */
  claimProvisioning(deviceId: string, signer: RequestSigner): Promise<Static<typeof ProvisioningClaimed>> {
    return this.request('POST', `/v2/provisioning/${deviceId}/claim`, ProvisioningClaimed, {}, signer);
  }

  private async request<S extends TSchema>(
    method: string, path: string, reply: S, json?: unknown, signer?: RequestSigner, extraHeaders: Record<string, string> = {},
  ): Promise<Static<S>> {
    const body = json === undefined ? new Uint8Array(0) : utf8(JSON.stringify(json));
    const headers: Record<string, string> = { ...extraHeaders };
    if (json !== undefined) headers['content-type'] = 'application/json';
    if (signer) {
      const timestamp = Date.now();
      const nonce = toBase64Url(randomBytes(16));
      headers[HEADER_TIMESTAMP] = String(timestamp);
      headers[HEADER_NONCE] = nonce;
      headers[HEADER_DEVICE_SIGNATURE] = toBase64Url(signRequest({ relayHost: this.relayHost, method, path, timestamp, nonce, body }, signer.privateKey));
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
    if (!Value.Check(reply, parsed)) throw new SdkError('invalid_reply', `the relay's answer to ${method} ${path.split('/').slice(0, 3).join('/')} is malformed`);
    return parsed;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
