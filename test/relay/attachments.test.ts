/**
 * Attachment routes against a real relay (embedded store: files beside the database): chunked
 * uploads, downloads whole and by range, resuming a cut-off PATCH, and every refusal with its
 * status and code. Expiry, privacy and large uploads: attachments-lifecycle.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAccount, registerAll, registeredDevice, type TestDevice } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { UPLOAD_TYPE, begin, createUpload, download, errorCode, head, patch, uploadAll } from './attachments-helpers.js';

let relay: RelayHandle;
let device: TestDevice;
beforeAll(async () => {
  relay = await startRelay();
  device = await registeredDevice(relay.url, 'sender');
});
afterAll(async () => {
  await relay?.close();
});

const MISSING = 'A'.repeat(43);

describe('upload and download', () => {
  it('uploads in several chunks and downloads the blob whole and by ranges', async () => {
    const bytes = randomBytes(3 * 1000 + 17);
    const created = await createUpload(relay.url, device, bytes.length);
    expect(created.status).toBe(201);
    const upload = created.body as { id: string; uploadToken: string; expiresAt: number };
    expect(Object.keys(upload).sort()).toEqual(['expiresAt', 'id', 'uploadToken']);
    expect(upload.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(upload.uploadToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(upload.expiresAt - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000);

    let offset = 0;
    for (const size of [1000, 1, 999, 1000, 17]) {
      const reply = await patch(relay.url, upload.id, upload.uploadToken, offset, bytes.subarray(offset, offset + size));
      expect(reply.status).toBe(204);
      offset += size;
      expect(reply.headers.get('upload-offset')).toBe(String(offset));
      const status = await head(relay.url, upload.id, upload.uploadToken);
      expect(status.status).toBe(200);
      expect(status.headers.get('upload-offset')).toBe(String(offset));
      expect(status.headers.get('upload-length')).toBe(String(bytes.length));
    }

    const whole = await download(relay.url, upload.id);
    expect(whole.status).toBe(200);
    expect(whole.bytes.equals(bytes)).toBe(true);
    expect(whole.headers.get('content-type')).toBe('application/octet-stream');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('cache-control')).toBe('private, no-store');
    expect(whole.headers.get('content-length')).toBe(String(bytes.length));

    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 1],
      ['bytes=10-2999', 10, 3000],
      ['bytes=3000-', 3000, bytes.length],
      ['bytes=-5', bytes.length - 5, bytes.length],
      ['bytes=5-99999', 5, bytes.length],
    ];
    for (const [range, start, end] of cases) {
      const part = await download(relay.url, upload.id, { range });
      expect(part.status, range).toBe(206);
      expect(part.bytes.equals(bytes.subarray(start, end)), range).toBe(true);
      expect(part.headers.get('content-range'), range).toBe(`bytes ${start}-${end - 1}/${bytes.length}`);
    }
    // Several ranges, another unit, a backwards range: ignored, the whole blob comes.
    for (const range of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-3', 'bytes=x-']) {
      const all = await download(relay.url, upload.id, { range });
      expect(all.status, range).toBe(200);
      expect(all.bytes.equals(bytes), range).toBe(true);
    }
    for (const range of [`bytes=${bytes.length}-`, 'bytes=99999999-99999999', 'bytes=-0']) {
      const reply = await fetch(`${relay.url}/v2/attachments/${upload.id}`, { headers: { range } });
      expect(reply.status, range).toBe(416);
      expect(reply.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
      expect(await errorCode(reply)).toBe('invalid');
    }
  });

  it('takes a PATCH of 8 MiB (past the JSON body limit) and refuses one byte more', async () => {
    const bytes = randomBytes(8 * 1024 * 1024 + 1);
    const upload = await begin(relay.url, device, bytes.length);
    const over = await patch(relay.url, upload.id, upload.uploadToken, 0, bytes);
    expect(over.status).toBe(413);
    expect(await errorCode(over)).toBe('too_large');
    expect((await head(relay.url, upload.id, upload.uploadToken)).headers.get('upload-offset')).toBe('0');
    expect((await patch(relay.url, upload.id, upload.uploadToken, 0, bytes.subarray(0, 8 * 1024 * 1024))).status).toBe(204);
    expect((await patch(relay.url, upload.id, upload.uploadToken, 8 * 1024 * 1024, bytes.subarray(8 * 1024 * 1024))).status).toBe(204);
    expect((await download(relay.url, upload.id)).bytes.equals(bytes)).toBe(true);
  });

  it('resumes after a PATCH cut off mid-body: the bytes that arrived stay, HEAD says where to go on', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const upload = await begin(relay.url, device, bytes.length);
    const sent = 768 * 1024;
    // Declares the whole blob, sends a part, then drops the connection.
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${relay.url}/v2/attachments/${upload.id}`, {
        method: 'PATCH',
        headers: { 'content-type': UPLOAD_TYPE, 'upload-offset': '0', authorization: `Bearer ${upload.uploadToken}`, 'content-length': String(bytes.length) },
      });
      req.on('error', () => resolve());
      req.write(bytes.subarray(0, sent), () => setTimeout(() => req.destroy(), 100));
    });
    let offset = -1;
    for (let i = 0; i < 50; i++) {
      const status = await head(relay.url, upload.id, upload.uploadToken);
      const now = Number(status.headers.get('upload-offset'));
      if (now === offset && now > 0) break;
      offset = now;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(sent);
    const resumed = await patch(relay.url, upload.id, upload.uploadToken, offset, bytes.subarray(offset));
    expect(resumed.status).toBe(204);
    expect((await download(relay.url, upload.id)).bytes.equals(bytes)).toBe(true);
    expect(relay.logs.join('\n')).not.toMatch(/"level":50/);
  });

  it('keeps a chunked body up to the declared size and refuses the rest 413', async () => {
    const upload = await begin(relay.url, device, 10);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(6).fill(1));
        controller.enqueue(new Uint8Array(6).fill(2));
        controller.close();
      },
    });
    const reply = await fetch(`${relay.url}/v2/attachments/${upload.id}`, {
      method: 'PATCH',
      headers: { 'content-type': UPLOAD_TYPE, 'upload-offset': '0', authorization: `Bearer ${upload.uploadToken}` },
      body,
      duplex: 'half',
    } as RequestInit);
    expect(reply.status).toBe(413);
    expect(await errorCode(reply)).toBe('too_large');
    expect(reply.headers.get('upload-offset')).toBe('10');
    expect((await download(relay.url, upload.id)).bytes).toEqual(Buffer.from([1, 1, 1, 1, 1, 1, 2, 2, 2, 2]));
  });
});

describe('refusals', () => {
  it('refuses a wrong offset 409 with the current one, and bytes past the declared size 413, storing nothing', async () => {
    const upload = await begin(relay.url, device, 100);
    expect((await patch(relay.url, upload.id, upload.uploadToken, 0, new Uint8Array(40))).status).toBe(204);
    for (const offset of [0, 39, 41, 1000]) {
      const reply = await patch(relay.url, upload.id, upload.uploadToken, offset, new Uint8Array(10));
      expect(reply.status, String(offset)).toBe(409);
      expect(await errorCode(reply)).toBe('conflict');
      expect(reply.headers.get('upload-offset')).toBe('40');
    }
    const over = await patch(relay.url, upload.id, upload.uploadToken, 40, new Uint8Array(61));
    expect(over.status).toBe(413);
    expect(await errorCode(over)).toBe('too_large');
    expect((await head(relay.url, upload.id, upload.uploadToken)).headers.get('upload-offset')).toBe('40');
    // Complete: one more byte is still too large; an empty PATCH at the end changes nothing.
    expect((await patch(relay.url, upload.id, upload.uploadToken, 40, new Uint8Array(60))).status).toBe(204);
    expect((await patch(relay.url, upload.id, upload.uploadToken, 100, new Uint8Array(1))).status).toBe(413);
    expect((await patch(relay.url, upload.id, upload.uploadToken, 100, new Uint8Array(0))).status).toBe(204);
  });

  it('refuses a missing, malformed or wrong upload token 401, an unknown id 404', async () => {
    const upload = await begin(relay.url, device, 10);
    const other = await begin(relay.url, device, 10);
    for (const token of [undefined, 'nope', other.uploadToken, upload.uploadToken.slice(0, 42) + (upload.uploadToken.endsWith('A') ? 'B' : 'A')]) {
      const reply = await patch(relay.url, upload.id, token, 0, new Uint8Array(10));
      expect(reply.status, String(token)).toBe(401);
      expect(await errorCode(reply)).toBe('unauthorized');
      expect((await head(relay.url, upload.id, token)).status).toBe(401);
    }
    const basic = await patch(relay.url, upload.id, undefined, 0, new Uint8Array(1), { authorization: `Basic ${upload.uploadToken}` });
    expect(basic.status).toBe(401);
    const unknown = await patch(relay.url, MISSING, upload.uploadToken, 0, new Uint8Array(1));
    expect(unknown.status).toBe(404);
    expect(await errorCode(unknown)).toBe('not_found');
    expect((await head(relay.url, MISSING, upload.uploadToken)).status).toBe(404);
    expect((await head(relay.url, upload.id, upload.uploadToken)).headers.get('upload-offset')).toBe('0');
  });

  it('serves only complete blobs: unknown, malformed and unfinished ids are 404', async () => {
    const upload = await begin(relay.url, device, 10);
    expect((await patch(relay.url, upload.id, upload.uploadToken, 0, new Uint8Array(9))).status).toBe(204);
    for (const id of [upload.id, MISSING]) {
      const reply = await fetch(`${relay.url}/v2/attachments/${id}`);
      expect(reply.status).toBe(404);
      expect(await errorCode(reply)).toBe('not_found');
    }
    const malformed = await fetch(`${relay.url}/v2/attachments/short`);
    expect(malformed.status).toBe(400);
    expect(await errorCode(malformed)).toBe('invalid');
  });

  it('refuses a PATCH without its offset or of another content type 400', async () => {
    const upload = await begin(relay.url, device, 10);
    const noOffset = await fetch(`${relay.url}/v2/attachments/${upload.id}`, { method: 'PATCH', headers: { 'content-type': UPLOAD_TYPE, authorization: `Bearer ${upload.uploadToken}` }, body: new Uint8Array(1) });
    expect(noOffset.status).toBe(400);
    for (const type of ['application/json', 'application/octet-stream', 'text/plain']) {
      const reply = await patch(relay.url, upload.id, upload.uploadToken, 0, new Uint8Array(2), { 'content-type': type });
      expect(reply.status, type).toBe(400);
      expect(await errorCode(reply)).toBe('invalid');
    }
    expect((await head(relay.url, upload.id, upload.uploadToken)).headers.get('upload-offset')).toBe('0');
  });

  it('refuses a POST unsigned, by an unregistered device, or with a bad size', async () => {
    const unsigned = await fetch(`${relay.url}/v2/attachments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"size":10}' });
    expect(unsigned.status).toBe(401);
    const stranger = (await makeAccount()).devices[0]!;
    const unregistered = await createUpload(relay.url, stranger, 10);
    expect(unregistered.status).toBe(401);
    for (const size of [0, -1, 1.5, '10', null]) {
      const reply = await createUpload(relay.url, device, size);
      expect(reply.status, String(size)).toBe(400);
    }
    const tooBig = await createUpload(relay.url, device, relay.config.maxAttachmentBytes + 1);
    expect(tooBig.status).toBe(413);
    expect((tooBig.body as { error: { code: string } }).error.code).toBe('too_large');
    expect((await createUpload(relay.url, device, relay.config.maxAttachmentBytes)).status).toBe(201);
  });
});

describe('quotas and rate limits', () => {
  it('refuses an account over its blob count or bytes 429 quota_exceeded, counting unfinished uploads of all its devices', async () => {
    const small = await startRelay({ maxAttachmentsPerAccount: 3, maxAttachmentBytesPerAccount: 1000 });
    try {
      const account = await makeAccount({ devices: 2 });
      await registerAll(small.url, account);
      const [one, two] = account.devices as [TestDevice, TestDevice];
      await begin(small.url, one, 400);
      await begin(small.url, two, 400);
      const bytes = await createUpload(small.url, one, 201);
      expect(bytes.status).toBe(429);
      expect((bytes.body as { error: { code: string } }).error.code).toBe('quota_exceeded');
      await begin(small.url, two, 200);
      const count = await createUpload(small.url, one, 1);
      expect(count.status).toBe(429);
      expect((count.body as { error: { code: string } }).error.code).toBe('quota_exceeded');
      // Another account has its own quota.
      await begin(small.url, await registeredDevice(small.url, 'other'), 1000);
      const metrics = await (await fetch(`${small.url}/metrics`)).text();
      expect(metrics).toMatch(/^sealpost_attachment_uploads_refused_total\{reason="quota_exceeded"\} 2$/m);
      expect(metrics).toMatch(/^sealpost_attachments_stored 4$/m);
    } finally {
      await small.close();
    }
  });

  it('limits uploads begun per device (429 rate_limited) and downloads per IP', async () => {
    const strict = await startRelay({ attachmentUploadsPerDevice: 2, attachmentDownloadsPerIp: 3 });
    try {
      const uploader = await registeredDevice(strict.url, 'busy');
      const upload = await uploadAll(strict.url, uploader, new Uint8Array(5));
      await begin(strict.url, uploader, 5);
      const third = await createUpload(strict.url, uploader, 5);
      expect(third.status).toBe(429);
      expect((third.body as { error: { code: string } }).error.code).toBe('rate_limited');
      // Another device is not held back.
      await begin(strict.url, await registeredDevice(strict.url, 'calm'), 5);
      for (let i = 0; i < 3; i++) expect((await download(strict.url, upload.id)).status).toBe(200);
      const limited = await fetch(`${strict.url}/v2/attachments/${upload.id}`);
      expect(limited.status).toBe(429);
      expect(await errorCode(limited)).toBe('rate_limited');
      expect(await (await fetch(`${strict.url}/metrics`)).text()).toMatch(/^sealpost_attachment_uploads_refused_total\{reason="rate_limited"\} 1$/m);
    } finally {
      await strict.close();
    }
  });
});
