/**
 * Property-based fuzzing (fast-check) of the attachment routes on a real relay: random bodies,
 * content types, tokens, offsets, ids and Range headers. Every refusal is a typed
 * `{error:{code,message}}` 4xx (never a 5xx); the one success within reach, a download of the
 * blob whose id is known, returns exactly the bytes asked for. Afterwards the relay logged no
 * error, holds the same blobs, the upload whose token the fuzzer never had is where it was, and a
 * normal upload and download work.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../server/errors.js';
import { registeredDevice, type TestDevice } from '../support/identity.js';
import { startRelay, type RelayHandle } from '../support/relay.js';
import { UPLOAD_TYPE, begin, download, head, patch, uploadAll, type Upload } from '../relay/attachments-helpers.js';
import { isTypedError } from './fuzz-support.js';

const RUNS = 300;
let relay: RelayHandle;
let device: TestDevice;
let complete: Upload;
let unfinished: Upload;
let guarded: Upload;
const blob = randomBytes(4096);
const tried: Record<string, number> = {};

beforeAll(async () => {
  relay = await startRelay();
  device = await registeredDevice(relay.url, 'fuzzed');
  complete = await uploadAll(relay.url, device, blob, 1000);
  unfinished = await begin(relay.url, device, 1000);
  // Its token never reaches the fuzzer: its offset must not move.
  guarded = await begin(relay.url, device, 1000);
  expect((await patch(relay.url, guarded.id, guarded.uploadToken, 0, new Uint8Array(7))).status).toBe(204);
});
afterAll(async () => {
  console.log(`[attachments-fuzz] cases per target: ${JSON.stringify(tried)}`);
  await relay?.close();
});

const ids = () => fc.oneof(fc.constantFrom(complete.id, unfinished.id, guarded.id), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), fc.string({ maxLength: 60 }).map(encodeURIComponent), fc.constantFrom('', '..', '%00', 'a'.repeat(2000)));
const tokens = () =>
  fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(`Bearer ${complete.uploadToken}`, `Bearer ${unfinished.uploadToken}`, `Bearer ${complete.id}`),
    fc.stringMatching(/^Bearer [A-Za-z0-9_-]{43}$/),
    fc.stringMatching(/^[\x21-\x7e ]{0,120}$/),
  );
const offsets = fc.oneof(fc.nat(5000).map(String), fc.constantFrom('', '-1', '1e3', '0x10', '99999999999999999999', ' 0'), fc.stringMatching(/^[\x21-\x7e]{0,20}$/));
const bodies = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 1200 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.nat(300_000).map((n) => new Uint8Array(n)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const types = fc.constantFrom(undefined, UPLOAD_TYPE, 'application/json', 'application/octet-stream', 'text/plain', 'multipart/form-data; boundary=x', `${UPLOAD_TYPE}; x=y`, 'garbage');
const ranges = fc.oneof(
  fc.constant(undefined),
  fc.tuple(fc.nat(5000), fc.nat(5000)).map(([a, b]) => `bytes=${a}-${b}`),
  fc.nat(5000).map((a) => `bytes=${a}-`),
  fc.nat(5000).map((n) => `bytes=-${n}`),
  fc.stringMatching(/^[\x21-\x7e ]{0,60}$/),
);

/**
 * A refusal is typed and its status is the table's, but for those the attachment contract fixes
 * (429 quota_exceeded, 416 invalid) and Node's 431. A HEAD reply carries no body.
 */
async function expectTypedRefusal(response: Response, what: string, isHead = false): Promise<void> {
  expect(response.status, what).toBeGreaterThanOrEqual(400);
  expect(response.status, what).toBeLessThan(500);
  const text = await response.text();
  if (isHead) return void expect(text, what).toBe('');
  const parsed: unknown = JSON.parse(text);
  expect(isTypedError(parsed), `${what}: ${text.slice(0, 200)}`).toBe(true);
  const code = (parsed as { error: { code: keyof typeof ERRORS } }).error.code;
  const fixed: Record<number, string> = { 429: 'quota_exceeded', 416: 'invalid', 431: 'too_large' };
  if (fixed[response.status] !== code) expect(ERRORS[code].status, `${what}: ${code}`).toBe(response.status);
}

describe('attachment routes under random input', () => {
  it('answers POST /v2/attachments with typed refusals', async () => {
    let n = 0;
    const headers = fc.record(
      { 'x-sealpost-device-id': fc.oneof(fc.constant(device.id), fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)), 'x-sealpost-timestamp': fc.constant(String(Date.now())), 'x-sealpost-nonce': fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), 'x-sealpost-device-signature': fc.stringMatching(/^[A-Za-z0-9_-]{86}$/) },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(bodies, types, headers, async (body, type, extra) => {
        n += 1;
        const response = await fetch(`${relay.url}/v2/attachments`, { method: 'POST', headers: { ...extra, ...(type ? { 'content-type': type } : {}) }, ...(body ? { body } : {}) });
        await expectTypedRefusal(response, 'POST');
      }),
      { numRuns: RUNS },
    );
    tried.POST = n;
  }, 60_000);

  it('answers PATCH and HEAD with typed refusals, or takes bytes of the one upload whose token it holds', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(ids(), tokens(), offsets, bodies, types, fc.boolean(), async (id, token, offset, body, type, isHead) => {
        fc.pre(new URL(`${relay.url}/v2/attachments/${id}`).pathname.startsWith('/v2/attachments/'));
        n += 1;
        const headers: Record<string, string> = { 'upload-offset': offset, ...(token !== undefined ? { authorization: token } : {}), ...(type ? { 'content-type': type } : {}) };
        const response = await fetch(`${relay.url}/v2/attachments/${id}`, { method: isHead ? 'HEAD' : 'PATCH', headers, ...(body && !isHead ? { body } : {}) });
        const mayWrite = id === unfinished.id && token === `Bearer ${unfinished.uploadToken}`;
        if (response.ok) {
          expect(mayWrite || (isHead && id === complete.id && token === `Bearer ${complete.uploadToken}`) || (id === complete.id && token === `Bearer ${complete.uploadToken}` && body === undefined), `${response.status} for ${isHead ? 'HEAD' : 'PATCH'}`).toBe(true);
          await response.arrayBuffer();
          return;
        }
        await expectTypedRefusal(response, `${isHead ? 'HEAD' : 'PATCH'} ${id.slice(0, 50)}`, isHead);
      }),
      { numRuns: RUNS },
    );
    tried['PATCH/HEAD'] = n;
  }, 120_000);

  it('answers GET with the bytes asked for, or typed refusals', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(ids(), ranges, async (id, range) => {
        fc.pre(new URL(`${relay.url}/v2/attachments/${id}`).pathname.startsWith('/v2/attachments/'));
        n += 1;
        const response = await fetch(`${relay.url}/v2/attachments/${id}`, { headers: range !== undefined ? { range } : {} });
        if (!response.ok) return expectTypedRefusal(response, `GET ${id.slice(0, 50)} ${range}`);
        expect(id).toBe(complete.id);
        const bytes = Buffer.from(await response.arrayBuffer());
        if (response.status === 200) return void expect(bytes.equals(blob)).toBe(true);
        expect(response.status).toBe(206);
        const [, start, end] = /^bytes (\d+)-(\d+)\/4096$/.exec(response.headers.get('content-range') ?? '')!.map(Number) as [number, number, number];
        expect(bytes.equals(blob.subarray(start, end + 1))).toBe(true);
      }),
      { numRuns: RUNS },
    );
    tried.GET = n;
  }, 60_000);
});

describe('afterwards', () => {
  it('logged no error, holds the same blobs, and uploads and downloads as before', async () => {
    expect(relay.logs.join('')).not.toMatch(/"level":(50|60)/);
    expect((await head(relay.url, guarded.id, guarded.uploadToken)).headers.get('upload-offset')).toBe('7');
    expect((await download(relay.url, complete.id)).bytes.equals(blob)).toBe(true);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^sealpost_attachments_stored 3$/m);
    const again = randomBytes(3000);
    const upload = await uploadAll(relay.url, device, again, 1024);
    expect((await download(relay.url, upload.id)).bytes.equals(again)).toBe(true);
  });
});
