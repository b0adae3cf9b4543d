/** The error table agrees with the wire codes; the config parser fills, validates and freezes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, FLAGS, loadConfig, serveHelp } from '../../server/config.js';
import { ERRORS, ERROR_CODES, RelayError, errorAck, errorBody } from '../../server/errors.js';
import type { ErrorCode } from '../../protocol/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sealpost-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('error table', () => {
  it('covers every wire code exactly once with a 4xx/5xx status and a message', () => {
    // Compile-time exhaustiveness: adding an ErrorCode without a row fails typecheck.
    const all: Record<ErrorCode, true> = { invalid: true, too_large: true, rate_limited: true, quota_exceeded: true, unknown_device: true, not_found: true, unauthorized: true, stale_timestamp: true, replayed_nonce: true, bad_signature: true, forbidden: true, conflict: true, unavailable: true, unsupported_version: true, stale_devices: true, internal: true };
    expect(ERROR_CODES.sort()).toEqual(Object.keys(all).sort());
    for (const code of ERROR_CODES) {
      const { status, message } = ERRORS[code];
      expect(status >= 400 && status < 600, code).toBe(true);
      expect(message.length, code).toBeGreaterThan(3);
      // Only genuine failures of the relay itself are 5xx.
      expect(status >= 500, code).toBe(code === 'internal' || code === 'unavailable');
    }
    expect(ERRORS.conflict.status).toBe(409);
    expect(ERRORS.invalid.status).toBe(400);
    expect(ERRORS.unsupported_version.status).toBe(410);
  });

  it('builds bodies, acks and errors from the table', () => {
    expect(errorBody('conflict')).toEqual({ error: { code: 'conflict', message: ERRORS.conflict.message } });
    expect(errorAck('invalid', 'x')).toEqual({ ok: false, error: { code: 'invalid', message: 'x' } });
    expect(new RelayError('rate_limited').statusCode).toBe(429);
  });
});

describe('config', () => {
  it('has the DESIGN.md defaults', () => {
    const c = loadConfig([], {}, { db: join(dir, 'a/b/relay.db') });
    expect(c).toMatchObject({ port: 8080, host: '127.0.0.1', maxBodyBytes: 65536, maxBatch: 100, maxQueueEnvelopes: 10_000, maxQueueBytes: 100 * 1024 * 1024, ttlMs: 30 * 86_400_000, handshakeSkewMs: 60_000, sendRatePerSecond: 50, maxDevicesPerAccount: 6, bundleClaimsPerDevice: 120, bundleClaimsPerTarget: 30, corsOrigins: [], dbSynchronous: 'FULL', parser: 'msgpack', staticDir: resolve('dist/web') });
    expect(Object.isFrozen(c)).toBe(true);
    expect(loadConfig().db).toBe('./data/sealpost.db');
  });

  it('reads env, lets flags win, repeats and splits lists', () => {
    const c = loadConfig(['--port', '9000', '--cors-origin', 'https://a.example', '--cors-origin=https://b.example,https://c.example', '--trust-proxy', '127.0.0.1', '--trust-proxy=10.0.0.0/8, ::1', '--db', join(dir, 'x.db')], { SEALPOST_PORT: '7000', SEALPOST_MAX_BATCH: '7', SEALPOST_LOG_LEVEL: 'warn' });
    expect(c.port).toBe(9000);
    expect(c.maxBatch).toBe(7);
    expect(c.logLevel).toBe('warn');
    expect(c.trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8', '::1']);
    expect(loadConfig([], { SEALPOST_TRUST_PROXY: 'false' }, { db: join(dir, 'x.db') }).trustProxy).toEqual([]);
    expect(loadConfig(['--public-origin', 'https://Relay.Example.org:443/'], {}, { db: join(dir, 'x.db') }).publicOrigin).toBe('https://relay.example.org');
    expect(loadConfig([], { SEALPOST_PUBLIC_ORIGIN: 'http://127.0.0.1:8080' }, { db: join(dir, 'x.db') }).publicOrigin).toBe('http://127.0.0.1:8080');
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example', 'https://c.example']);
    const claims = loadConfig(['--bundle-claims-per-target', '5', '--db', join(dir, 'x.db')], { SEALPOST_BUNDLE_CLAIMS_PER_DEVICE: '9' });
    expect([claims.bundleClaimsPerDevice, claims.bundleClaimsPerTarget]).toEqual([9, 5]);
  });

  it('refuses bad input with a ConfigError', () => {
    const bad: [string[], Record<string, string>][] = [
      [['--port', 'http'], {}],
      [['--port', '70000'], {}],
      [['--nope'], {}],
      [['--cors-origin', '*'], {}],
      [['--tls-cert', 'c.pem'], {}],
      [['--max-batch', '0'], {}],
      [['--bundle-claims-per-device', '0'], {}],
      [['--log-level', 'loud'], {}],
      [['--parser', 'default'], {}],
      [[], { SEALPOST_MAX_BODY_BYTES: '-1' }],
      [['stray'], {}],
      [['--public-origin', 'relay.example.org'], {}],
      [['--public-origin', 'ftp://relay.example.org'], {}],
      [['--public-origin', 'https://relay.example.org/app'], {}],
      [['--trust-proxy', '10.0.0.0/33'], {}],
      [['--trust-proxy', 'proxy.internal'], {}],
      [[], { SEALPOST_TRUST_PROXY: '1' }],
    ];
    for (const [argv, env] of bad) expect(() => loadConfig(argv, env, { db: join(dir, 'y.db') }), argv.join(' ')).toThrow(ConfigError);
  });

  it('refuses --trust-proxy true (bare or spelled out) and says to list the proxy addresses', () => {
    for (const [argv, env] of [[['--trust-proxy'], {}], [['--trust-proxy', '--port', '1'], {}], [['--trust-proxy=true'], {}], [[], { SEALPOST_TRUST_PROXY: 'true' }]] as [string[], Record<string, string>][]) {
      expect(() => loadConfig(argv, env, { db: join(dir, 'y.db') }), argv.join(' ')).toThrow(/List the addresses of your reverse proxies/);
    }
  });

  it('documents every flag with its env var and default in --help', () => {
    const help = serveHelp();
    for (const f of FLAGS) {
      expect(help).toContain(`--${f.flag}`);
      expect(help).toContain(f.env);
    }
  });
});
