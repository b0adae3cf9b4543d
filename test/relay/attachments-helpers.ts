/**
 * Attachment calls as a client makes them, for the attachment suites: the signed POST, PATCHes
 * of raw bytes at an offset, HEAD, and a whole upload in chunks.
 */
import { expect } from 'vitest';
import { call, type CallResult, type TestDevice } from '../support/identity.js';

export const UPLOAD_TYPE = 'application/offset+octet-stream';

export function createUpload(url: string, device: Pick<TestDevice, 'id' | 'keys'>, size: unknown, headers: Record<string, string> = {}): Promise<CallResult> {
  return call(url, { method: 'POST', path: '/v2/attachments', body: { size }, device: device.keys, headers: { 'x-sealpost-device-id': device.id, ...headers } });
}

export interface Upload {
  id: string;
  uploadToken: string;
  expiresAt: number;
}

export async function begin(url: string, device: Pick<TestDevice, 'id' | 'keys'>, size: number): Promise<Upload> {
  const created = await createUpload(url, device, size);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body as Upload;
}

export async function patch(url: string, id: string, token: string | undefined, offset: number | string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v2/attachments/${id}`, {
    method: 'PATCH',
    headers: { 'content-type': UPLOAD_TYPE, 'upload-offset': String(offset), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    // Node's fetch sends a Uint8Array as is (with its Content-Length); DOM typings want a BodyInit.
    body: bytes as unknown as BodyInit,
  });
}

export async function head(url: string, id: string, token: string | undefined): Promise<Response> {
  return fetch(`${url}/v2/attachments/${id}`, { method: 'HEAD', headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Uploads `bytes` in PATCHes of `chunk` bytes; returns the upload. */
export async function uploadAll(url: string, device: Pick<TestDevice, 'id' | 'keys'>, bytes: Uint8Array, chunk = 4 * 1024 * 1024): Promise<Upload> {
  const upload = await begin(url, device, bytes.byteLength);
  for (let offset = 0; offset < bytes.byteLength; offset += chunk) {
    const piece = bytes.subarray(offset, Math.min(offset + chunk, bytes.byteLength));
    const reply = await patch(url, upload.id, upload.uploadToken, offset, piece);
    expect(reply.status, await reply.clone().text()).toBe(204);
    expect(reply.headers.get('upload-offset')).toBe(String(offset + piece.byteLength));
  }
  return upload;
}

export async function download(url: string, id: string, headers: Record<string, string> = {}): Promise<{ status: number; bytes: Buffer; headers: Headers }> {
  const reply = await fetch(`${url}/v2/attachments/${id}`, { headers });
  return { status: reply.status, bytes: Buffer.from(await reply.arrayBuffer()), headers: reply.headers };
}

export async function errorCode(reply: Response): Promise<string | undefined> {
  return ((await reply.json()) as { error?: { code?: string } }).error?.code;
}
