/**
 * Property-based fuzzing (fast-check) of every HTTP route of a relay running as a child
 * process: random JSON, random bytes, wrong content types, garbage signed-request headers and
 * large headers (within Node's 16 KiB header limit), on real and random paths. Every reply is
 * a typed `{error:{code,message}}` with a 4xx status (never a 5xx), and afterwards the process
 * is alive, the database holds only what valid requests stored, and a normal exchange works.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS } from '../../server/errors.js';
import { expectStillServing, isTypedError, startFuzzRelay, stopFuzzRelay, type FuzzRelay } from './fuzz-support.js';

const RUNS_PER_ROUTE = 1000;
const tried: Record<string, number> = {};
let f: FuzzRelay;

beforeAll(async () => {
  f = await startFuzzRelay();
}, 30_000);
afterAll(async () => {
  console.log(`[fuzz-http] cases per target: ${JSON.stringify(tried)}`);
  await stopFuzzRelay(f);
});

const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{43}$/), // device-id shaped (never a registered one)
  fc.stringMatching(/^[a-z0-9_.-]{3,32}$/), // handle shaped
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
  fc.constantFrom('', '..', '%00', '%2F', 'a'.repeat(2000), '__proto__', 'constructor'),
);

type Route = { name: string; method: string; path: (a: string, b: string) => string };
const ROUTES: Route[] = [
  { name: 'POST /v2/accounts', method: 'POST', path: () => '/v2/accounts' },
  { name: 'GET /v2/accounts/:handle', method: 'GET', path: (a) => `/v2/accounts/${a}` },
  { name: 'POST /v2/accounts/:handle/devices', method: 'POST', path: (a) => `/v2/accounts/${a}/devices` },
  { name: 'PUT /v2/accounts/:handle/device-list', method: 'PUT', path: (a) => `/v2/accounts/${a}/device-list` },
  { name: 'POST /v2/devices/:deviceId/bundle', method: 'POST', path: (a) => `/v2/devices/${a}/bundle` },
  { name: 'PUT /v2/devices/:deviceId/prekeys', method: 'PUT', path: (a) => `/v2/devices/${a}/prekeys` },
  { name: 'PUT /v2/provisioning/:deviceId', method: 'PUT', path: (a) => `/v2/provisioning/${a}` },
  { name: 'POST /v2/provisioning/:deviceId/claim', method: 'POST', path: (a) => `/v2/provisioning/${a}/claim` },
  { name: 'random path', method: 'GET', path: (a, b) => `/v2/${a}/${b}` },
  // Retired: always 410 unsupported_version.
  { name: 'random v1 path', method: 'POST', path: (a, b) => `/v1/${a}/${b}` },
];

const jsonText = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v));
const body = fc.oneof(
  { weight: 3, arbitrary: jsonText },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
  { weight: 1, arbitrary: jsonText.map((t) => t.slice(0, Math.max(0, t.length - 1))) }, // truncated
  { weight: 1, arbitrary: fc.string({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.nat(200_000).map((n) => Buffer.alloc(n, 0x7b)) }, // up to 200 kB of "{"
  { weight: 1, arbitrary: fc.constant(undefined) },
);
const contentType = fc.constantFrom(undefined, 'application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', '*/*', 'garbage');
const headerValue = fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,200}$/), fc.stringMatching(/^[A-Za-z0-9_-]{86}$/), fc.nat().map(String), fc.constant('x'.repeat(2000)));
const headers = fc.record(
  {
    'x-sealpost-timestamp': fc.oneof(headerValue, fc.constant(String(Date.now()))),
    'x-sealpost-nonce': fc.oneof(headerValue, fc.stringMatching(/^[A-Za-z0-9_-]{22}$/)),
    'x-sealpost-device-id': fc.oneof(headerValue, fc.stringMatching(/^[A-Za-z0-9_-]{43}$/)),
    'x-sealpost-device-signature': headerValue,
    'x-filler': fc.constant('y'.repeat(1000)),
    accept: fc.constantFrom('*/*', 'text/html', 'application/xml'),
  },
  { requiredKeys: [] },
);

describe('HTTP routes', () => {
  for (const route of ROUTES) {
    it(`answers ${route.name} with typed 4xx errors`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(segment, segment, body, contentType, headers, async (a, b, payload, type, extra) => {
          // `..` segments are resolved by the URL parser and may leave /v2 (e.g. for the web client at /).
          fc.pre(new URL(f.relay.url + route.path(a, b)).pathname.startsWith(route.path('', '').slice(0, 4)));
          n += 1;
          const method = route.method;
          const init: RequestInit = { method, headers: { ...extra, ...(type ? { 'content-type': type } : {}) } };
          if (payload !== undefined && method !== 'GET') init.body = payload;
          const response = await fetch(f.relay.url + route.path(a, b), init);
          const text = await response.text();
          // The one success a fuzzer can reach: dropping a blob into a provisioning mailbox
          // (in memory, never stored on disk) for a device-id-shaped path.
          if (response.status === 204 && route.name === 'PUT /v2/provisioning/:deviceId') return;
          expect(response.status, `${method} ${route.path(a, b).slice(0, 80)} → ${response.status} ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          expect(response.headers.get('content-type')).toContain('application/json');
          const parsed: unknown = JSON.parse(text);
          expect(isTypedError(parsed), text.slice(0, 200)).toBe(true);
          const code = (parsed as { error: { code: keyof typeof ERRORS } }).error.code;
          // Headers over Node's limit are the one status outside the table: 431 with too_large.
          if (response.status === 431) expect(code).toBe('too_large');
          else expect(ERRORS[code].status).toBe(response.status);
          if (route.name === 'random v1 path' && response.status !== 431) expect(code).toBe('unsupported_version');
        }),
        { numRuns: RUNS_PER_ROUTE },
      );
      tried[route.name] = n;
    }, 60_000);
  }

  it('refuses headers beyond the limit without dying', async () => {
    const response = await fetch(`${f.relay.url}/v2/accounts/someone`, { headers: { 'x-huge': 'z'.repeat(20_000) } });
    expect(response.status).toBe(431);
    expect(await response.json()).toMatchObject({ error: { code: 'too_large' } });
    tried['oversized headers'] = 1;
  });
});

describe('afterwards', () => {
  it('is alive, stored nothing, and serves a normal exchange', async () => {
    await expectStillServing(f);
  }, 30_000);
});
