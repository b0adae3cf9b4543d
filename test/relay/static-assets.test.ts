/**
 * The web client's first load: precompressed brotli and gzip copies served with the matching
 * Content-Encoding, hashed assets cached for a year, index.html revalidated every time — against
 * a static folder laid out as the build lays it out (client/app/precompress.ts writes the copies).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type RelayHandle } from '../support/relay.js';

const script = `console.log(${JSON.stringify('sealpost '.repeat(2000))});`;
const html = '<!doctype html><script type="module" src="./assets/index-AbCdEf12.js"></script>';
let dir: string;
let relay: RelayHandle;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sealpost-static-'));
  mkdirSync(join(dir, 'assets'));
  const asset = join(dir, 'assets', 'index-AbCdEf12.js');
  writeFileSync(asset, script);
  writeFileSync(`${asset}.br`, brotliCompressSync(script));
  writeFileSync(`${asset}.gz`, gzipSync(script));
  writeFileSync(join(dir, 'index.html'), html);
  relay = await startRelay({ staticDir: dir });
});

afterAll(async () => {
  await relay?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (path: string, encoding: string) => fetch(`${relay.url}${path}`, { headers: { 'accept-encoding': encoding } });

describe('static assets', () => {
  it('answers brotli, then gzip, then identity, as the client accepts, with the same content', async () => {
    const br = await get('/assets/index-AbCdEf12.js', 'br, gzip');
    expect(br.headers.get('content-encoding')).toBe('br');
    expect(br.headers.get('content-type')).toMatch(/javascript/);
    expect(br.headers.get('vary')).toMatch(/accept-encoding/i);
    // fetch decodes Content-Encoding itself: the body is the script, and it travelled compressed.
    expect(await br.text()).toBe(script);
    expect(Number(br.headers.get('content-length'))).toBe(brotliCompressSync(script).length);
    const gz = await get('/assets/index-AbCdEf12.js', 'gzip');
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    expect(await gz.text()).toBe(script);
    const plain = await get('/assets/index-AbCdEf12.js', 'identity');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(script);
  });

  it('caches hashed assets for a year and makes index.html revalidate', async () => {
    const asset = await get('/assets/index-AbCdEf12.js', 'br');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    for (const path of ['/', '/index.html']) {
      const page = await get(path, 'br, gzip');
      expect(page.status).toBe(200);
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(await page.text()).toBe(html);
    }
  });
});
